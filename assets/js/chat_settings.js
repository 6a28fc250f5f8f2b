// Group management: rename (any member), add people (any member of an open group),
// leave; staff also remove people. A dialog over the open group, kept in step with the
// store, so a change someone else makes meanwhile shows in it too.

import { api, patch, post } from "./api.js";
import { el, byId, show, setText, avatarColour, initial, isolate } from "./dom.js";
import { confirmAction } from "./confirm.js";
import { state, subscribe, getChat, upsertChat, updateChat, removeChat, isMe, isStaff, sameName, chatTitle, displayName, avatarUrl } from "./store.js";

let onLeft = () => {};
let chatId = null; // the group the dialog shows
let renameDirty = false;

const dialog = () => byId("chat-settings-dialog");

export function initChatSettings(opts) {
  onLeft = opts.onLeft;
  byId("chat-settings-button").addEventListener("click", () => open(state.openChatId));
  for (const id of ["chat-settings-close", "chat-settings-done"]) byId(id).addEventListener("click", close);
  dialog().addEventListener("click", (e) => {
    if (e.target === dialog()) close();
  });
  dialog().addEventListener("close", () => {
    chatId = null;
  });
  byId("rename-title").addEventListener("input", () => {
    renameDirty = true;
    fieldError("rename", "");
  });
  byId("rename-form").addEventListener("submit", rename);
  byId("add-member-form").addEventListener("submit", addMember);
  byId("add-member").addEventListener("change", () => fieldError("add-member", ""));
  byId("leave-group").addEventListener("click", leave);
  subscribe(() => {
    renderButton();
    if (chatId !== null) render();
  });
}

/** The header button: groups only. */
function renderButton() {
  const chat = getChat(state.openChatId);
  show(byId("chat-settings-button"), Boolean(chat) && chat.kind === "group");
}

function open(id) {
  const chat = getChat(id);
  if (!chat || chat.kind !== "group") return;
  chatId = id;
  renameDirty = false;
  byId("rename-title").value = chat.title || "";
  for (const f of ["rename", "add-member", "member"]) fieldError(f, "");
  render();
  dialog().showModal();
  byId(chat.status === "closed" ? "chat-settings-done" : "rename-title").focus();
}

function close() {
  if (dialog().open) dialog().close();
  chatId = null;
}

function fieldError(name, message) {
  const node = byId(`${name}-error`);
  setText(node, message || "");
  show(node, Boolean(message));
  const input = byId(name === "member" ? "add-member" : name === "rename" ? "rename-title" : name);
  if (name !== "member") {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

function render() {
  const chat = getChat(chatId);
  if (!chat) {
    close(); // we left, or were removed, meanwhile
    return;
  }
  const closed = chat.status === "closed";
  setText(byId("chat-settings-title"), chatTitle(chat));
  if (!renameDirty && document.activeElement !== byId("rename-title")) byId("rename-title").value = chat.title || "";
  show(byId("rename-form"), !closed);
  show(byId("add-member-form"), !closed);
  show(byId("chat-settings-closed"), closed);

  const members = [...chat.members].sort((a, b) => Number(isMe(b)) - Number(isMe(a)) || a.localeCompare(b));
  setText(byId("member-count"), `${members.length}`);
  byId("member-list").replaceChildren(...members.map((name) => memberItem(chat, name)));

  const outside = state.users
    .filter((u) => !chat.members.some((m) => sameName(m, u.username)))
    .sort((a, b) => a.username.localeCompare(b.username));
  const select = byId("add-member");
  const chosen = select.value;
  select.replaceChildren(
    el("option", { value: "" }, outside.length ? "Choose a person…" : "Everyone is already here"),
    ...outside.map((u) => el("option", { value: u.username, dir: "auto", text: withUsername(u.username) })),
  );
  if (outside.some((u) => u.username === chosen)) select.value = chosen;
  select.disabled = outside.length === 0;
  byId("add-member-submit").disabled = outside.length === 0;
}

/** "Ada Lovelace (alice)", or "alice" for someone who chose no display name. */
const withUsername = (name) => (displayName(name) !== name ? `${displayName(name)} (${name})` : name);

function memberItem(chat, name) {
  const me = isMe(name);
  return el(
    "li",
    { class: "flex items-center gap-3 py-2", dataset: { member: name } },
    avatarUrl(name)
      ? el("img", { src: avatarUrl(name), alt: "", class: "h-8 w-8 shrink-0 rounded-full object-cover" })
      : el("span", {
          class: `flex h-8 w-8 shrink-0 items-center justify-center rounded-full text-sm font-semibold ${avatarColour(name)}`,
          "aria-hidden": "true",
          dir: "auto",
          text: initial(displayName(name)),
        }),
    el("span", { class: "min-w-0 flex-1 truncate font-medium text-gray-800" }, el("span", { dir: "auto", text: displayName(name) }),
      displayName(name) !== name ? el("span", { class: "ml-1 text-xs font-normal text-gray-500", dir: "auto", text: name }) : null, me ? " (you)" : null),
    !me && isStaff()
      ? el(
          "button",
          {
            type: "button",
            class: "btn btn-danger-ghost shrink-0 px-2.5 py-1 text-xs",
            "aria-label": `Remove ${name} from the group`,
            dataset: { remove: name },
            on: { click: () => removeMember(chat.id, name) },
          },
          "Remove",
        )
      : null,
  );
}

const problem = (err) => (err.transient ? "Can't reach the server. Please try again." : err.message);

async function rename(e) {
  e.preventDefault();
  const id = chatId;
  const title = byId("rename-title").value.trim();
  if (!title) {
    fieldError("rename", "Give the group a name.");
    return;
  }
  const button = byId("rename-submit");
  button.disabled = true;
  try {
    const chat = await patch(`/api/chats/${id}`, { title });
    renameDirty = false;
    if (getChat(id)) upsertChat(chat);
    fieldError("rename", "");
  } catch (err) {
    fieldError("rename", problem(err));
  } finally {
    button.disabled = false;
  }
}

async function addMember(e) {
  e.preventDefault();
  const id = chatId;
  const username = byId("add-member").value;
  if (!username) {
    fieldError("add-member", "Choose someone to add.");
    return;
  }
  const button = byId("add-member-submit");
  button.disabled = true;
  try {
    const chat = await post(`/api/chats/${id}/members`, { username });
    if (getChat(id)) upsertChat(chat);
    byId("add-member").value = "";
    fieldError("add-member", "");
  } catch (err) {
    fieldError("add-member", problem(err));
  } finally {
    button.disabled = false;
  }
}

async function removeMember(id, name) {
  const ok = await confirmAction({
    question: `Remove ${isolate(name)} from the group?`,
    detail: "They will no longer see the group or its messages.",
    action: "Remove",
  });
  if (!ok) return;
  try {
    await api("DELETE", `/api/chats/${id}/members/${encodeURIComponent(name)}`);
    const chat = getChat(id);
    if (chat) updateChat(id, { members: chat.members.filter((m) => !sameName(m, name)) });
  } catch (err) {
    fieldError("member", problem(err));
  }
}

async function leave() {
  const id = chatId;
  const chat = getChat(id);
  if (!chat) return;
  const ok = await confirmAction({
    question: `Leave ${isolate(chatTitle(chat))}?`,
    detail: "You will no longer see this group or its messages, unless someone adds you again.",
    action: "Leave group",
  });
  if (!ok) return;
  try {
    await api("DELETE", `/api/chats/${id}/members/${encodeURIComponent(state.me.username)}`);
    close();
    removeChat(id);
    if (state.openChatId === id) onLeft();
  } catch (err) {
    fieldError("member", problem(err));
    if (!dialog().open) dialog().showModal();
  }
}

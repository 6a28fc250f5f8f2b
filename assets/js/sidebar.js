// The left panel: People (online dot, unread badge, last seen) and Chats / Archived.
// Rebuilt from state on every change; focus is kept on the same item across rebuilds.

import { el, byId, show, avatarColour, initial, isolate } from "./dom.js";
import { listTime, lastSeen, fullDateTime } from "./time.js";
import { state, subscribe, chatTitle, directChatWith, otherMembers, isMe } from "./store.js";
import { parse, plainText } from "./format.js";
import { draftFor } from "./drafts.js";

const ITEM =
  "flex w-full items-center gap-3 rounded-lg px-2 py-2 text-left transition-colors " +
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
const ITEM_IDLE = "hover:bg-gray-200/60";
const ITEM_CURRENT = "bg-indigo-50 hover:bg-indigo-100/70";

let handlers = { onPerson: () => {}, onChat: () => {} };

export function initSidebar(h) {
  handlers = h;
  subscribe(render);
}

function matches(...texts) {
  const q = state.filter.trim().toLowerCase();
  return !q || texts.some((t) => t && String(t).toLowerCase().includes(q));
}

function badge(count, label) {
  if (!count) return null;
  return el("span", { class: "badge shrink-0", "aria-label": label }, count > 99 ? "99+" : String(count));
}

/** Unread messages that mention the reader: "@" apart from the unread count. */
function mentionBadge(count) {
  if (!count) return null;
  const label = count === 1 ? "1 mention" : `${count} mentions`;
  return el("span", { class: "badge-mention shrink-0", "aria-label": label, title: label, "data-mentions": String(count) }, "@");
}

/** A person's or chat's initial on its colour (a group's square), with an online dot if known. */
export function avatar(name, { square = false, online = null } = {}) {
  const shape = square ? "rounded-lg" : "rounded-full";
  return el(
    "span",
    { class: "relative shrink-0", "aria-hidden": "true" },
    el("span", {
      class: `flex h-9 w-9 items-center justify-center ${shape} text-sm font-semibold ${avatarColour(name)}`,
      dir: "auto",
      text: initial(name),
    }),
    online === null
      ? null
      : el("span", {
          dataset: { presence: online ? "online" : "offline" },
          class:
            "absolute -bottom-0.5 -right-0.5 h-3 w-3 rounded-full ring-2 ring-gray-50 " +
            (online ? "bg-emerald-500" : "bg-gray-300"),
        }),
  );
}

function personItem(user) {
  const chat = directChatWith(user.username);
  const unread = chat ? chat.unread : 0;
  const current = chat && chat.id === state.openChatId;
  const status = user.online ? "Online" : lastSeen(user.last_seen);
  return el(
    "li",
    {},
    el(
      "button",
      {
        type: "button",
        class: `${ITEM} ${current ? ITEM_CURRENT : ITEM_IDLE}`,
        dataset: { key: `person:${user.id}`, username: user.username },
        "aria-current": current ? "page" : null,
        title: `Message ${isolate(user.username)}`,
        on: { click: () => handlers.onPerson(user.username) },
      },
      avatar(user.username, { online: Boolean(user.online) }),
      el(
        "span",
        { class: "min-w-0 flex-1" },
        el("span", { class: `block truncate ${unread ? "font-semibold text-gray-900" : "font-medium text-gray-800"}`, dir: "auto", text: user.username }),
        el("span", { class: `block truncate text-xs ${user.online ? "text-emerald-700" : "text-gray-600"}`, text: status }),
      ),
      mentionBadge(chat ? chat.mentions : 0),
      badge(unread, `${unread} unread`),
    ),
  );
}

const oneLine = (body) => plainText(parse(body)).replace(/\s+/g, " ").trim();

/** A message of files only, in the list: "📎 report.pdf", or "📎 3 files". */
function filesLine(files) {
  if (!files.length) return "";
  return files.length === 1 ? `📎 ${files[0].name}` : `📎 ${files.length} files`;
}

/** The chat's last message in one line (or the reader's draft): each part isolated. */
function preview(chat) {
  const draft = chat.id === state.openChatId ? "" : draftFor(chat.id);
  if (draft) return [el("span", { class: "font-medium text-rose-700", "data-draft": true }, "Draft: "), el("span", { dir: "auto", text: oneLine(draft) })];
  const m = chat.last_message;
  if (!m) return [chat.kind === "group" ? `${chat.members.length} members` : "No messages yet"];
  const text = el("span", { dir: "auto", text: oneLine(m.body) || filesLine(m.attachments || []) });
  if (chat.kind === "direct" && !isMe(m.sender)) return [text];
  return [isMe(m.sender) ? "You" : el("span", { dir: "auto", text: m.sender }), ": ", text];
}

function chatItem(chat) {
  const title = chatTitle(chat);
  const unread = chat.unread || 0;
  const current = chat.id === state.openChatId;
  const other = chat.kind === "direct" ? otherMembers(chat)[0] : null;
  const user = other ? state.users.find((u) => u.username.toLowerCase() === other.toLowerCase()) : null;
  const when = chat.last_message ? chat.last_message.created_at : null;
  return el(
    "li",
    {},
    el(
      "button",
      {
        type: "button",
        class: `${ITEM} ${current ? ITEM_CURRENT : ITEM_IDLE}`,
        dataset: { key: `chat:${chat.id}` },
        "aria-current": current ? "page" : null,
        on: { click: () => handlers.onChat(chat.id) },
      },
      avatar(title, { square: chat.kind === "group", online: user ? Boolean(user.online) : null }),
      el(
        "span",
        { class: "min-w-0 flex-1" },
        el(
          "span",
          { class: "flex items-baseline gap-2" },
          el("span", { class: `truncate ${unread ? "font-semibold text-gray-900" : "font-medium text-gray-800"}`, dir: "auto", text: title }),
          chat.status === "closed"
            ? el("span", { class: "shrink-0 rounded bg-gray-200 px-1.5 text-[11px] font-medium text-gray-600", text: "Closed" })
            : null,
          when
            ? el("time", { class: "ml-auto shrink-0 text-xs text-gray-600", datetime: when, title: fullDateTime(when), text: listTime(when) })
            : null,
        ),
        el(
          "span",
          { class: "mt-0.5 flex items-center gap-2" },
          el("span", { class: `min-w-0 flex-1 truncate text-sm ${unread ? "font-medium text-gray-900" : "text-gray-600"}` }, ...preview(chat)),
          mentionBadge(chat.mentions),
          badge(unread, `${unread} unread`),
        ),
      ),
    ),
  );
}

function fill(list, items, emptyNode, emptyText) {
  list.replaceChildren(...items);
  if (emptyNode) {
    emptyNode.textContent = emptyText;
    show(emptyNode, items.length === 0);
  }
}

function render() {
  const focusedKey = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
  const filtering = state.filter.trim() !== "";

  const people = state.users
    .filter((u) => matches(u.username))
    .sort((a, b) => Number(Boolean(b.online)) - Number(Boolean(a.online)) || a.username.localeCompare(b.username));
  fill(byId("people-list"), people.map(personItem), byId("people-empty"),
    filtering ? "No people match." : "No one else is here yet.");

  const visible = state.chats.filter((c) => matches(chatTitle(c), ...c.members));
  fill(byId("chat-list"), visible.filter((c) => !c.archived).map(chatItem), byId("chats-empty"),
    filtering ? "No chats match." : "No chats yet. Pick a person to start one.");

  show(byId("archived-section"), state.showArchived);
  if (state.showArchived) {
    fill(byId("archived-list"), visible.filter((c) => c.archived).map(chatItem), byId("archived-empty"),
      filtering ? "No archived chats match." : "No archived chats.");
  }

  if (focusedKey) {
    const again = document.querySelector(`#sidebar [data-key="${CSS.escape(focusedKey)}"]`);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
  }
}

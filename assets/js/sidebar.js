// The left panel: one list of conversations, direct chats and groups together, those with
// news first (see conversations.js), each with its unread and mention badges and, for a
// person, their online dot; the archived ones apart. Alt+Shift+Down (Up) opens the next
// (previous) conversation with news. Rebuilt from state on every change; focus is kept
// on the same item across rebuilds.

import { el, byId, show, avatarColour, initial, botBadge } from "./dom.js";
import { listTime, fullDateTime } from "./time.js";
import { state, subscribe, chatTitle, otherMembers, isMe, isBot, avatarUrl, senderName } from "./store.js";
import { ordered as orderedChats, nextUnread } from "./conversations.js";
import { parse, plainText } from "./format.js";
import { draftFor } from "./drafts.js";

const ITEM =
  "relative flex w-full items-center gap-3 rounded-lg px-2 py-2 text-left transition-colors " +
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
const ITEM_IDLE = "hover:bg-gray-200/60";
const ITEM_CURRENT = "bg-indigo-50 hover:bg-indigo-100/70";

let handlers = { onChat: () => {} };

export function initSidebar(h) {
  handlers = h;
  subscribe(render);
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || !e.shiftKey || e.ctrlKey || e.metaKey) return;
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    if (document.querySelector("dialog[open]")) return;
    e.preventDefault();
    const chat = nextUnread(ordered(state.chats), state.openChatId,
      e.key === "ArrowDown" ? 1 : -1);
    if (chat) handlers.onChat(chat.id);
  });
}

/** The list's chats (`archived`: the archived ones), as the sidebar shows them. */
export function ordered(chats, { archived = false } = {}) {
  return orderedChats(chats, { openChatId: state.openChatId, archived, drafted: (id) => Boolean(draftFor(id)) });
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

/**
 * A person's avatar (`username`: their picture, else their initials on their colour) or a
 * chat's initials (a group's square), with an online dot if known.
 */
export function avatar(name, { square = false, online = null, username = null } = {}) {
  const shape = square ? "rounded-lg" : "rounded-full";
  const url = username ? avatarUrl(username) : null;
  return el(
    "span",
    { class: "relative shrink-0", "aria-hidden": "true" },
    url
      ? el("img", { src: url, alt: "", class: `h-9 w-9 ${shape} object-cover`, "data-avatar": username })
      : el("span", {
          class: `flex h-9 w-9 items-center justify-center ${shape} text-sm font-semibold ${avatarColour(username || name)}`,
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
  return [isMe(m.sender) ? "You" : el("span", { dir: "auto", text: senderName(m) }), ": ", text];
}

function chatItem(chat) {
  const title = chatTitle(chat);
  const unread = chat.unread || 0;
  const current = chat.id === state.openChatId;
  const other = chat.kind === "direct" ? otherMembers(chat)[0] : null;
  const user = other ? state.users.find((u) => u.username.toLowerCase() === other.toLowerCase()) : null;
  const status = user ? (user.online ? "online" : "offline") : null;
  const when = chat.last_message ? chat.last_message.created_at : null;
  return el(
    "li",
    {},
    el(
      "button",
      {
        type: "button",
        class: `${ITEM} ${current ? ITEM_CURRENT : ITEM_IDLE}`,
        dataset: other ? { key: `chat:${chat.id}`, username: other } : { key: `chat:${chat.id}` },
        "aria-current": current ? "page" : null,
        on: { click: () => handlers.onChat(chat.id) },
      },
      avatar(title, { square: chat.kind === "group", online: user ? Boolean(user.online) : null, username: other }),
      el(
        "span",
        { class: "min-w-0 flex-1" },
        el(
          "span",
          { class: "flex items-baseline gap-2" },
          el("span", { class: `truncate ${unread ? "font-semibold text-gray-900" : "font-medium text-gray-800"}`, dir: "auto", text: title }),
          other && isBot(other) ? botBadge() : null,
          // The dot is not text: say it for those who cannot see it.
          status ? el("span", { class: "sr-only", dir: "auto", text: `(${status})` }) : null,
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
  fill(byId("chat-list"), ordered(state.chats).map(chatItem), byId("chats-empty"),
    state.users.length ? "No conversations yet. Start one with “New message”." : "No one else is here yet.");

  show(byId("archived-section"), state.showArchived);
  if (state.showArchived) {
    fill(byId("archived-list"), ordered(state.chats, { archived: true }).map(chatItem), byId("archived-empty"),
      "No archived chats.");
  }

  if (focusedKey) {
    const again = document.querySelector(`#sidebar [data-key="${CSS.escape(focusedKey)}"]`);
    if (again && document.activeElement !== again) again.focus({ preventScroll: true });
  }
}

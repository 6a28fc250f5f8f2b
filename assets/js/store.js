// The home page's shared state and the small queries every view needs.
// Views subscribe and re-render on notify(); changes batch into one render per tick.

export const state = {
  me: { id: 0, username: "", role: "member" },
  users: [], // other active users: {id, username, online, last_seen}
  chats: [], // most recent activity first
  openChatId: null,
  showArchived: false,
  filter: "",
};

const listeners = new Set();
let scheduled = false;

export function subscribe(fn) {
  listeners.add(fn);
}

export function notify() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const fn of listeners) fn(state);
  });
}

export const sameName = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();
export const isMe = (username) => sameName(username, state.me.username);

export function getChat(id) {
  return state.chats.find((c) => c.id === id) || null;
}

export function otherMembers(chat) {
  return (chat.members || []).filter((m) => !isMe(m));
}

export function chatTitle(chat) {
  if (chat.kind === "group") return chat.title || otherMembers(chat).join(", ") || "Group";
  return otherMembers(chat)[0] || state.me.username;
}

export function directChatWith(username) {
  return state.chats.find((c) => c.kind === "direct" && otherMembers(c).some((m) => sameName(m, username))) || null;
}

export function userByName(username) {
  return state.users.find((u) => sameName(u.username, username)) || null;
}

export function setUsers(list) {
  state.users = list.filter((u) => u.id !== state.me.id && !isMe(u.username));
  notify();
}

export function setChats(list) {
  state.chats = list;
  notify();
}

/** Insert or replace a chat; `toTop` moves it to the head of the list (new activity). */
export function upsertChat(chat, { toTop = false } = {}) {
  const i = state.chats.findIndex((c) => c.id === chat.id);
  if (i >= 0 && !toTop) {
    state.chats[i] = chat;
  } else {
    if (i >= 0) state.chats.splice(i, 1);
    state.chats.unshift(chat);
  }
  notify();
  return chat;
}

/** Apply a fields patch to a local chat, e.g. {unread: 0}. */
export function updateChat(id, fields, opts) {
  const chat = getChat(id);
  if (!chat) return null;
  return upsertChat({ ...chat, ...fields }, opts);
}

export function totalUnread() {
  return state.chats.reduce((n, c) => n + (c.unread || 0), 0);
}

export function maxMessageId() {
  return state.chats.reduce((max, c) => Math.max(max, c.last_message ? c.last_message.id : 0), 0);
}

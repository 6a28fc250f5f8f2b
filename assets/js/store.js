// The home page's shared state and the small queries every view needs.
// Views subscribe and re-render on notify(); changes batch into one render per tick.

export const state = {
  me: { id: 0, username: "", role: "member", enter_sends: true },
  users: [], // other active users: {id, username, display_name, avatar_url, online, last_seen}
  profiles: new Map(), // lower-cased username -> {display_name, avatar_url}, from users and chats
  chats: [], // most recent activity first
  openChatId: null,
  typing: new Map(), // chat id -> Map(lowercased username -> {username, until})
  showArchived: false,
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
export const isStaff = () => state.me.role === "staff" || state.me.role === "superuser";

export function getChat(id) {
  return state.chats.find((c) => c.id === id) || null;
}

export function otherMembers(chat) {
  return (chat.members || []).filter((m) => !isMe(m));
}

/** Remember how people show (`[{username, display_name, avatar_url}]`); true if any changed. */
export function learnProfiles(list) {
  let changed = false;
  for (const p of list || []) {
    if (!p || !p.username) continue;
    const key = p.username.toLowerCase();
    const before = state.profiles.get(key);
    const display = p.display_name || p.username;
    const url = p.avatar_url || null;
    const bot = p.bot === true;
    if (before && before.display_name === display && before.avatar_url === url && before.bot === bot) continue;
    state.profiles.set(key, { display_name: display, avatar_url: url, bot });
    changed = true;
  }
  return changed;
}

/** The name `username` shows (their display name), else the username itself. */
export function displayName(username) {
  const p = state.profiles.get(String(username || "").toLowerCase());
  return (p && p.display_name) || username;
}

/** Whether `username` is a bot account (shown with a "bot" badge). */
export function isBot(username) {
  const p = state.profiles.get(String(username || "").toLowerCase());
  return Boolean(p && p.bot);
}

/** `username`'s avatar image, or null (initials then). */
export function avatarUrl(username) {
  const p = state.profiles.get(String(username || "").toLowerCase());
  return (p && p.avatar_url) || null;
}

/** A message's sender as shown: what the store knows now, else what the message says. */
export function senderName(m) {
  return state.profiles.has(String(m.sender).toLowerCase()) ? displayName(m.sender) : m.sender_display_name || m.sender;
}

export function chatTitle(chat) {
  if (chat.kind === "group") return chat.title || otherMembers(chat).map(displayName).join(", ") || "Group";
  return displayName(otherMembers(chat)[0] || state.me.username);
}

export function directChatWith(username) {
  return state.chats.find((c) => c.kind === "direct" && otherMembers(c).some((m) => sameName(m, username))) || null;
}

export function userByName(username) {
  return state.users.find((u) => sameName(u.username, username)) || null;
}

export function setUsers(list) {
  learnProfiles(list);
  state.users = list.filter((u) => u.id !== state.me.id && !isMe(u.username));
  notify();
}

export function setChats(list) {
  for (const chat of list) learnProfiles(chat.profiles);
  state.chats = list;
  notify();
}

/** Insert or replace a chat; `toTop` moves it to the head of the list (new activity). */
export function upsertChat(chat, { toTop = false } = {}) {
  learnProfiles(chat.profiles);
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

/** Drop a chat the reader is no longer a member of. */
export function removeChat(id) {
  const before = state.chats.length;
  state.chats = state.chats.filter((c) => c.id !== id);
  state.typing.delete(id);
  if (state.chats.length !== before) notify();
}

/** Apply receipt changes `[{chat_id, username, read_up_to, delivered_up_to}]` to the chats. */
export function mergeReceipts(changes) {
  let changed = false;
  for (const r of changes) {
    const chat = getChat(r.chat_id);
    if (!chat || isMe(r.username)) continue;
    const receipts = (chat.receipts || []).filter((x) => !sameName(x.username, r.username));
    receipts.push({ username: r.username, read_up_to: r.read_up_to, delivered_up_to: r.delivered_up_to });
    chat.receipts = receipts;
    changed = true;
  }
  if (changed) notify();
  return changed;
}

/** How long a "typing" from the server holds without being seen again (SPEC: 6 s). */
export const TYPING_MS = 6000;

/**
 * Who is typing now, as a poll answer says (`[{chat_id, username}]`, the state in all the
 * reader's chats, not a change): each holds for another 6 s; those not in it stopped.
 */
export function replaceTyping(list, now = Date.now()) {
  const next = new Map();
  for (const { chat_id: chatId, username } of list) {
    if (isMe(username)) continue;
    if (!next.has(chatId)) next.set(chatId, new Map());
    next.get(chatId).set(username.toLowerCase(), { username, until: now + TYPING_MS });
  }
  // Keep the order in which people started, so the words do not shuffle.
  for (const [chatId, people] of next) {
    const before = state.typing.get(chatId);
    if (!before) continue;
    const ordered = new Map([...people].sort(([a], [b]) => rank(before, a) - rank(before, b)));
    next.set(chatId, ordered);
  }
  state.typing = next;
  notify();
}

function rank(people, key) {
  const keys = [...people.keys()];
  return keys.includes(key) ? keys.indexOf(key) : keys.length;
}

export function stopTyping(chatId, username) {
  const people = state.typing.get(chatId);
  if (people && people.delete(String(username).toLowerCase())) notify();
}

/** Who is typing in a chat now, in the order they started; drops the expired. */
export function typingIn(chatId, now = Date.now()) {
  const people = state.typing.get(chatId);
  if (!people) return [];
  for (const [key, t] of people) if (t.until <= now) people.delete(key);
  return [...people.values()].map((t) => t.username);
}

export function totalUnread() {
  return state.chats.reduce((n, c) => n + (c.unread || 0), 0);
}


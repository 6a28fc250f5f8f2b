// What the long poll brings, applied to the store and the open chat: each event by the
// id of what it changes, so an event seen twice (the overlap of a page's first loads
// with the stream) changes nothing the second time.

import {
  state, notify, getChat, upsertChat, updateChat, removeChat, mergeReceipts, replaceTyping, stopTyping, isMe,
} from "./store.js";

let open = null; // the open chat's view: see initEvents
let refreshChats = () => {};
let refreshUsers = () => {};
let onNewMessage = () => {};

/**
 * `view` is what the open chat panel offers: isShown(id), upsert(messages),
 * remove(id), changed(chat), gone(chat), receiptsChanged(), typingChanged();
 * `onNewMessage(message)` hears of each message newer than its chat's last (so once).
 */
export function initEvents(hooks) {
  open = hooks.view;
  refreshChats = hooks.refreshChats;
  refreshUsers = hooks.refreshUsers;
  onNewMessage = hooks.onNewMessage || onNewMessage;
}

export function applyUpdate({ events = [], presence = [], typing = [], receipts = [] }) {
  replaceTyping(typing);
  for (const event of events) applyEvent(event);
  applyPresence(presence);
  open.typingChanged();
  if (mergeReceipts(receipts)) open.receiptsChanged();
}

function applyEvent(event) {
  switch (event.type) {
    case "message":
      return newMessage(event.message);
    case "message_edited":
    case "reaction":
      return changedMessage(event.message);
    case "message_deleted":
      return deletedMessage(event.chat_id, event.message_id);
    case "chat":
      return changedChat(event.chat);
    case "chat_removed":
      return removedFromChat(event.chat_id);
    default:
      return undefined; // a kind this page does not know yet
  }
}

const mentionsMe = (m) => (m.mentions || []).some((name) => isMe(name));

function newMessage(m) {
  const chat = getChat(m.chat_id);
  if (!chat) {
    refreshChats(); // a chat we have not heard of: its `chat` event was before our cursor
    return;
  }
  stopTyping(m.chat_id, m.sender);
  const isOpen = m.chat_id === state.openChatId;
  const newer = !chat.last_message || m.id > chat.last_message.id;
  const fields = { archived: false };
  if (newer) {
    fields.last_message = m;
    const seen = isOpen && (document.visibilityState === "visible" || open.isShown(m.id));
    if (!isMe(m.sender) && !seen) {
      fields.unread = (chat.unread || 0) + 1;
      if (mentionsMe(m)) fields.mentions = (chat.mentions || 0) + 1;
    }
  }
  updateChat(chat.id, fields, { toTop: newer });
  if (isOpen) open.upsert([m]);
  if (newer) onNewMessage(m);
}

/** An edited message, or one with new reactions: replaced where it shows. */
export function changedMessage(m) {
  const chat = getChat(m.chat_id);
  if (chat && chat.last_message && chat.last_message.id === m.id) updateChat(chat.id, { last_message: m });
  if (m.chat_id === state.openChatId) open.upsert([m]);
}

/** A deleted message leaves the open chat; the list asks the server what it shows instead. */
export function deletedMessage(chatId, id) {
  const chat = getChat(chatId);
  if (chatId === state.openChatId) open.remove(id);
  // The list's preview and counts may have held it: the server knows what comes instead.
  if (chat && ((chat.last_message && chat.last_message.id === id) || chat.unread)) refreshChats();
}

function changedChat(chat) {
  const known = getChat(chat.id);
  const newer = !known || (chat.last_message && (!known.last_message || chat.last_message.id > known.last_message.id));
  upsertChat(chat, { toTop: newer });
  if (chat.id === state.openChatId) open.changed(chat);
}

function removedFromChat(chatId) {
  const chat = getChat(chatId);
  removeChat(chatId);
  if (chatId === state.openChatId) open.gone(chat);
}

function applyPresence(presence) {
  let unknownUser = false;
  for (const p of presence) {
    if (p.user_id === state.me.id) continue;
    const user = state.users.find((u) => u.id === p.user_id);
    if (!user) {
      unknownUser = true; // someone new: the list learns of them from their first poll
      continue;
    }
    user.online = p.online;
    user.last_seen = p.last_seen;
  }
  if (presence.length) notify();
  if (unknownUser) refreshUsers();
}

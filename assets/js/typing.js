// Typing indicators. Out: while the composer changes, POST /api/chats/<id>/typing at
// most every 3 s. In: the people the poll says are typing, in words under the messages,
// each gone 6 s after the server last said so (store.typingIn), or when their message
// arrives (events.js).

import { api } from "./api.js";
import { isolate } from "./dom.js";
import { typingIn, displayName } from "./store.js";

const SEND_EVERY_MS = 3000;
const lastSent = new Map(); // chat id -> when we last said we are typing there

/** The composer of chat `chatId` changed to `text`. */
export function typed(chatId, text, now = Date.now()) {
  if (chatId === null || !text.trim()) return;
  if (now - (lastSent.get(chatId) || 0) < SEND_EVERY_MS) return;
  lastSent.set(chatId, now);
  // Best effort: a lost "typing" is not worth a retry or a word to the person.
  api("POST", `/api/chats/${chatId}/typing`).catch(() => lastSent.delete(chatId));
}

/** The message was sent: the next keystroke may say "typing" again at once. */
export function sent(chatId) {
  lastSent.delete(chatId);
}

/** "alice is typing…", "alice and bob are typing…", "several people are typing…". */
export function typingText(names) {
  if (!names.length) return "";
  if (names.length === 1) return `${isolate(names[0])} is typing…`;
  if (names.length === 2) return `${isolate(names[0])} and ${isolate(names[1])} are typing…`;
  return "Several people are typing…";
}

/** The words for chat `chatId` now. */
export function typingNow(chatId, now = Date.now()) {
  return typingText(typingIn(chatId, now).map(displayName));
}

// Unsent text per chat, kept in localStorage so it survives switching chats and a
// reload; keyed by the signed-in person too, so someone else signing in on the same
// browser never sees it. Storage can be missing or full: then drafts live in memory.

const PREFIX = "kanect.draft.";
let owner = "";
const cache = new Map(); // chat id -> text

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // blocked by the browser's settings
  }
}

const keyFor = (chatId) => `${PREFIX}${owner}.${chatId}`;

/** Load this person's drafts (once, at start). */
export function initDrafts(userId) {
  owner = String(userId);
  const store = storage();
  if (!store) return;
  const mine = `${PREFIX}${owner}.`;
  try {
    for (let i = 0; i < store.length; i += 1) {
      const key = store.key(i);
      if (!key || !key.startsWith(mine)) continue;
      const chatId = Number(key.slice(mine.length));
      const text = store.getItem(key);
      if (Number.isInteger(chatId) && text) cache.set(chatId, text);
    }
  } catch {
    // unreadable storage: start without drafts
  }
}

export function draftFor(chatId) {
  return cache.get(chatId) || "";
}

/** Keep `text` as the chat's draft; blank text removes it. */
export function saveDraft(chatId, text) {
  if (chatId === null || chatId === undefined) return;
  const keep = text.trim() !== "";
  if (keep === cache.has(chatId) && (!keep || cache.get(chatId) === text)) return;
  if (keep) cache.set(chatId, text);
  else cache.delete(chatId);
  const store = storage();
  if (!store) return;
  try {
    if (keep) store.setItem(keyFor(chatId), text);
    else store.removeItem(keyFor(chatId));
  } catch {
    // full or blocked: the draft still holds for this page
  }
}

export function clearDraft(chatId) {
  saveDraft(chatId, "");
}

// The sidebar's one list of conversations, as data: direct chats and groups together,
// those with something unread first, each part in order of activity (the order the
// server lists chats in, which the page keeps by moving a chat up on news). A direct
// chat nobody has written in yet is left out, unless it is the one open or holds a
// draft: opening a conversation with someone makes no chat until the first message
// (see "New message"), and chats made empty before that are not news.
// No DOM: tests/js/conversations.test.js runs it under node.

export const hasNews = (chat) => Boolean(chat.unread) || Boolean(chat.mentions);

/**
 * The chats the list shows (`archived`: the archived ones instead), in its order;
 * `drafted(id)` tells whether a chat holds a draft.
 */
export function ordered(chats, { openChatId = null, archived = false, drafted = () => false } = {}) {
  const shown = chats.filter((c) => Boolean(c.archived) === archived
    && (c.kind !== "direct" || c.last_message || c.id === openChatId || drafted(c.id)));
  return [...shown.filter(hasNews), ...shown.filter((c) => !hasNews(c))];
}

/**
 * The chat Alt+Shift+Down goes to: the next one with something unread after the open
 * one in the list's order, going round; null when nothing else is unread.
 */
export function nextUnread(list, openChatId, step = 1) {
  const n = list.length;
  const here = list.findIndex((c) => c.id === openChatId);
  for (let k = 1; k <= n; k += 1) {
    const i = here < 0 ? (step > 0 ? k - 1 : n - k) : (((here + step * k) % n) + n) % n;
    const chat = list[i];
    if (chat.id !== openChatId && hasNews(chat)) return chat;
  }
  return null;
}

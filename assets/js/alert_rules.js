// What notifies, decided without the DOM (tests/js/alert_rules.test.js): a new message
// alerts (a browser notification, the sound) only while the tab is hidden, never for the
// reader's own messages, and as far as the chat's level asks:
//   none      nothing;
//   mentions  messages that mention the reader (@all in a group included);
//   all       every message: a direct chat's, and a group's too (the reader chose it; a
//             busy group is what `mentions` is for).

const BODY_MAX = 140;

/**
 * `message` {sender, mentions}, `chat` {notify}, `me` the reader's username,
 * `hidden` whether the tab is hidden now.
 */
export function shouldAlert({ message, chat, me, hidden }) {
  if (!hidden || !message || !chat) return false;
  const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();
  if (same(message.sender, me)) return false;
  const level = chat.notify || "all";
  if (level === "none") return false;
  if (level === "mentions") return (message.mentions || []).some((name) => same(name, me));
  return true;
}

/** The page title: `(3) Kanect`, or `Kanect` when nothing is unread. */
export function unreadTitle(unread) {
  return unread > 0 ? `(${unread}) Kanect` : "Kanect";
}

/** What the favicon's badge says: the count, `99+` past 99, nothing at 0. */
export function badgeText(unread) {
  if (!(unread > 0)) return "";
  return unread > 99 ? "99+" : String(unread);
}

/**
 * A notification's title and body: `Alice` for a direct chat, `Alice in Design` for a
 * group; the message text on one line, shortened, or what it attaches.
 */
export function notificationText({ sender, chatTitle, kind, body, attachments = 0 }) {
  const title = kind === "group" ? `${sender} in ${chatTitle}` : sender;
  let text = String(body || "").replace(/\s+/g, " ").trim();
  if (!text && attachments) text = attachments === 1 ? "Sent a file" : `Sent ${attachments} files`;
  const chars = [...text];
  if (chars.length > BODY_MAX) text = `${chars.slice(0, BODY_MAX - 1).join("").trimEnd()}…`;
  return { title, body: text };
}

// Pure rules of how the message list is laid out, apart from the DOM (tests/js): which
// messages form one run (a sender's messages within a few minutes, shown under one
// header with one time), where the "new messages" line goes, and how many messages the
// list keeps rendered (a window: far ones are dropped and paged in again when needed).

import { dayKey, withinMinutes } from "./time.js";

export const RUN_MINUTES = 5;
// Several screens either way of where the reader is; a page load then costs
// the same at message 2,000 as at message 50, and the DOM stays small.
export const MAX_RENDERED = 200;

/** `m` continues `prev`'s run: same sender, same day, within RUN_MINUTES of it. */
export function continues(prev, m, minutes = RUN_MINUTES) {
  return Boolean(prev) && prev.sender === m.sender && dayKey(prev.created_at) === dayKey(m.created_at)
    && withinMinutes(prev.created_at, m.created_at, minutes);
}

/**
 * The first unread message of a page (oldest first), for the "new messages" line: the
 * chat counts `unread` messages from others after the reader's last read, so it is the
 * `unread`-th from the end among those not `mine`. Null when none is unread, or when the
 * last read is older than the page (the line's place is not on it).
 */
export function firstUnread(messages, unread, mine) {
  if (!(unread > 0)) return null;
  let left = unread;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (mine(messages[i].sender)) continue;
    left -= 1;
    if (left === 0) return messages[i].id;
  }
  return null;
}

/**
 * How many messages to drop from each end of a window of `count` messages so that at most
 * `max` stay: from the end away from the reader (`keep`: "top" or "bottom").
 */
export function trimPlan(count, keep, max = MAX_RENDERED) {
  const excess = Math.max(0, count - max);
  return keep === "top" ? { top: 0, bottom: excess } : { top: excess, bottom: 0 };
}

/** Which end of the scrolled list the reader is nearer: "top" or "bottom". */
export function readerEnd({ scrollTop, scrollHeight, clientHeight }) {
  return scrollTop + clientHeight / 2 < scrollHeight / 2 ? "top" : "bottom";
}

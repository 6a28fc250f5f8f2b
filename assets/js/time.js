// Time formatting in the reader's own locale and time zone. The API sends RFC 3339 UTC.

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function parse(iso) {
  if (!iso) return null;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** Whole calendar days between d and now (0 = today, 1 = yesterday). */
function daysAgo(d, now = new Date()) {
  return Math.round((startOfDay(now) - startOfDay(d)) / DAY);
}

// The reader's locale decides 12 or 24 hours: 7:23 PM with no leading zero on a 12-hour
// clock, 19:23 and 07:23 on a 24-hour one.
export function clockFormat(locales = []) {
  const { hour12 } = new Intl.DateTimeFormat(locales, { hour: "numeric" }).resolvedOptions();
  return new Intl.DateTimeFormat(locales, { hour: hour12 ? "numeric" : "2-digit", minute: "2-digit" });
}

const localClock = clockFormat();

export function clock(iso) {
  const d = parse(iso);
  return d ? localClock.format(d) : "";
}

export function fullDateTime(iso) {
  const d = parse(iso);
  return d ? d.toLocaleString([], { dateStyle: "full", timeStyle: "short" }) : "";
}

/** A key that changes when the local calendar day changes. */
export function dayKey(iso) {
  const d = parse(iso);
  return d ? `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}` : "";
}

/** Label for the line between two days in a conversation. */
export function dayLabel(iso) {
  const d = parse(iso);
  if (!d) return "";
  const ago = daysAgo(d);
  const date = d.toLocaleDateString([], {
    weekday: "long",
    month: "long",
    day: "numeric",
    year: d.getFullYear() === new Date().getFullYear() ? undefined : "numeric",
  });
  if (ago === 0) return `Today · ${date}`;
  if (ago === 1) return `Yesterday · ${date}`;
  return date;
}

/** Compact time for the chat list: 14:05, Yesterday, Mon, 3 Feb, 3 Feb 2023. */
export function listTime(iso) {
  const d = parse(iso);
  if (!d) return "";
  const ago = daysAgo(d);
  if (ago <= 0) return clock(iso);
  if (ago === 1) return "Yesterday";
  if (ago < 7) return d.toLocaleDateString([], { weekday: "short" });
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleDateString([], { month: "short", day: "numeric", year: sameYear ? undefined : "numeric" });
}

const relative = new Intl.RelativeTimeFormat([], { numeric: "auto" });

/** "Last seen 5 minutes ago", "Last seen yesterday at 18:02", "Last seen 3 Feb": a label on
 * its own line beside "Online", so capitalised like it. */
export function lastSeen(iso) {
  const d = parse(iso);
  if (!d) return "Offline";
  const diff = Date.now() - d.getTime();
  if (diff < MINUTE) return "Last seen just now";
  if (diff < HOUR) return `Last seen ${relative.format(-Math.floor(diff / MINUTE), "minute")}`;
  const ago = daysAgo(d);
  if (ago === 0) return `Last seen ${relative.format(-Math.floor(diff / HOUR), "hour")}`;
  if (ago === 1) return `Last seen yesterday at ${clock(iso)}`;
  if (ago < 7) return `Last seen ${d.toLocaleDateString([], { weekday: "long" })}`;
  return `Last seen ${listTime(iso)}`;
}

/** Two messages close enough in time to be shown as one run from the same sender. */
export function withinMinutes(isoA, isoB, minutes) {
  const a = parse(isoA);
  const b = parse(isoB);
  return Boolean(a && b && Math.abs(b - a) <= minutes * MINUTE);
}

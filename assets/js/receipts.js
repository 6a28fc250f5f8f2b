// Message status of the reader's own messages (SPEC "Messages, v2", receipts): in a
// direct chat sent / delivered / read; in a group "Seen by N", the names on hover (a
// tooltip) or tap (the button shows them under the message).

import { el, icon, ICONS, isolate } from "./dom.js";
import { displayName } from "./store.js";

/** "sent", "delivered" or "read": how far the other person of a direct chat got. */
export function directStatus(id, receipts) {
  const other = (receipts || [])[0];
  if (!other) return "sent";
  if ((other.read_up_to || 0) >= id) return "read";
  if ((other.delivered_up_to || 0) >= id) return "delivered";
  return "sent";
}

/** Who of the other members has read message `id`. */
export function seenBy(id, receipts) {
  return (receipts || []).filter((r) => (r.read_up_to || 0) >= id).map((r) => r.username);
}

/** Delivered to every other member (of a group) once each has had it. */
const deliveredToAll = (id, receipts) =>
  (receipts || []).length > 0 && receipts.every((r) => Math.max(r.delivered_up_to || 0, r.read_up_to || 0) >= id);

const LABEL = { sent: "Sent", delivered: "Delivered", read: "Read" };

function ticks(status) {
  const colour = status === "read" ? "text-indigo-600" : "text-gray-500";
  return el(
    "span",
    { class: `inline-flex items-center ${colour}`, title: LABEL[status], dataset: { receipt: status } },
    icon(status === "sent" ? ICONS.check : ICONS.checks, "h-4 w-4"),
    el("span", { class: "sr-only" }, LABEL[status]),
  );
}

/**
 * The status mark of own message `m` in `chat` (built by `build()`, only when the key
 * differs from what shows: the list asks for every own message after each change), and a
 * key that changes when it does.
 * `showSeen`: in a group, whether this message carries the "Seen by" (the last of a run).
 * `onSeen` toggles the names under the message (for touch, where there is no tooltip).
 */
export function receiptMark(m, chat, { showSeen, onSeen }) {
  const receipts = chat ? chat.receipts || [] : [];
  if (!chat || chat.kind !== "group") {
    const status = directStatus(m.id, receipts);
    return { key: status, build: () => ticks(status) };
  }
  if (!showSeen) return { key: "", build: () => null };
  const seen = seenBy(m.id, receipts).map(displayName);
  if (!seen.length) {
    const status = deliveredToAll(m.id, receipts) ? "delivered" : "sent";
    return { key: status, build: () => ticks(status) };
  }
  const build = () => el(
    "button",
    {
      type: "button",
      class: "rounded font-medium text-indigo-700 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500",
      title: `Seen by ${seen.map(isolate).join(", ")}`,
      "aria-expanded": "false",
      dataset: { receipt: "seen", seen: String(seen.length) },
      on: { click: (e) => onSeen(e.currentTarget, seen) },
    },
    `Seen by ${seen.length}`,
  );
  return { key: `seen:${seen.join(",")}`, build };
}

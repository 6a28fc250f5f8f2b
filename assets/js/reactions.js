// Reactions: the quick set, the chips under a message (count, who, the reader's own
// highlighted; a click toggles), and the PUT / DELETE that toggle one.

import { api } from "./api.js";
import { el, isolate } from "./dom.js";
import { isMe, state } from "./store.js";

export const QUICK = ["👍", "❤️", "😂", "🎉", "👀", "✅"];

export const reactedByMe = (reaction) => reaction.users.some(isMe);

/** "alice, bob and you": who reacted, each name its own bidi isolate. */
export function whoReacted(users) {
  const names = users.map((u) => (isMe(u) ? "you" : isolate(u)));
  if (names.length <= 1) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

const CHIP =
  "inline-flex h-7 items-center gap-1 rounded-full border px-2 text-sm leading-none transition-colors " +
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 disabled:cursor-default";
const CHIP_MINE = "border-indigo-300 bg-indigo-50 text-indigo-800 hover:bg-indigo-100";
const CHIP_OTHER = "border-gray-200 bg-white text-gray-700 hover:bg-gray-100";

/** The chips under message `m`, or null without reactions. `onToggle(m, emoji)`. */
export function reactionRow(m, { onToggle, disabled = false }) {
  const reactions = (m.reactions || []).filter((r) => r.users && r.users.length);
  if (!reactions.length) return null;
  return el(
    "div",
    { class: "mt-1 flex flex-wrap gap-1", "data-reactions": true },
    ...reactions.map((r) => {
      const mine = reactedByMe(r);
      const who = whoReacted(r.users);
      return el(
        "button",
        {
          type: "button",
          class: `${CHIP} ${mine ? CHIP_MINE : CHIP_OTHER}`,
          dataset: { emoji: r.emoji },
          "aria-pressed": mine ? "true" : "false",
          "aria-label": `${r.emoji} ${r.users.length}: ${who}`,
          title: `${who} reacted with ${r.emoji}`,
          disabled,
          on: { click: () => onToggle(m, r.emoji) },
        },
        el("span", { "aria-hidden": "true", dir: "auto", text: r.emoji }),
        el("span", { class: "text-xs font-semibold tabular-nums", "aria-hidden": "true" }, String(r.users.length)),
      );
    }),
  );
}

/** Adds the reader's `emoji` to message `m`, or takes it back: the answer is the message. */
export function toggleReaction(m, emoji) {
  const current = (m.reactions || []).find((r) => r.emoji === emoji);
  const method = current && reactedByMe(current) ? "DELETE" : "PUT";
  const path = `/api/chats/${m.chat_id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`;
  return api(method, path);
}

/** Reacting is for members of an open chat. */
export const canReact = (chat) => Boolean(chat) && chat.status !== "closed" && state.openChatId === chat.id;

// The actions of one message: the quick reactions one click away, any emoji through the
// picker, edit and delete. Shown on hover, on keyboard focus and after a long press; one
// Tab stop per message, the arrow keys move inside (a roving tabindex).

import { el, icon, ICONS } from "./dom.js";
import { QUICK } from "./reactions.js";

const BUTTON =
  "flex h-8 w-8 items-center justify-center rounded-md text-gray-600 hover:bg-gray-100 hover:text-gray-900 " +
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";

// Hidden until the message (its `group/message` item) is hovered, holds focus, or was long-pressed (data-actions).
// Invisible buttons take no taps: pointer events only while shown.
const SHOWN =
  "pointer-events-none opacity-0 transition-opacity group-hover/message:pointer-events-auto group-hover/message:opacity-100 " +
  "focus-within:pointer-events-auto focus-within:opacity-100 " +
  "group-data-[actions=open]/message:pointer-events-auto group-data-[actions=open]/message:opacity-100";

/**
 * The toolbar for message `m`. `can` says which actions the reader has ({react, edit,
 * remove}); `on` handles them: react(m, emoji), pick(m), edit(m), remove(m), leave().
 */
export function messageToolbar(m, mine, can, on) {
  const buttons = [];
  if (can.react) {
    for (const emoji of QUICK) {
      buttons.push(
        el(
          "button",
          { type: "button", class: `${BUTTON} text-base`, "aria-label": `React with ${emoji}`, title: `React with ${emoji}`, dataset: { quick: emoji }, on: { click: () => on.react(m, emoji) } },
          emoji,
        ),
      );
    }
    buttons.push(
      el(
        "button",
        { type: "button", class: BUTTON, "aria-label": "Add a reaction", title: "Add a reaction", dataset: { action: "pick" }, on: { click: () => on.pick(m) } },
        icon(ICONS.smile, "h-[18px] w-[18px]"),
      ),
    );
  }
  if (can.edit) {
    buttons.push(
      el(
        "button",
        { type: "button", class: BUTTON, "aria-label": "Edit message", title: "Edit", dataset: { action: "edit" }, on: { click: () => on.edit(m) } },
        icon(ICONS.pencil),
      ),
    );
  }
  if (can.remove) {
    buttons.push(
      el(
        "button",
        {
          type: "button",
          class: `${BUTTON} hover:bg-red-50 hover:text-red-700`,
          "aria-label": "Delete message",
          title: "Delete",
          dataset: { action: "delete" },
          on: { click: () => on.remove(m) },
        },
        icon(ICONS.trash),
      ),
    );
  }
  if (!buttons.length) return null;
  buttons.forEach((b, i) => b.setAttribute("tabindex", i === 0 ? "0" : "-1"));
  const side = mine ? "right-0" : "left-0";
  return el(
    "div",
    {
      role: "toolbar",
      "aria-label": "Message actions",
      class: `absolute -top-8 ${side} z-10 flex items-center gap-0.5 rounded-lg border border-gray-200 bg-white p-0.5 shadow-md ${SHOWN}`,
      on: { keydown: (e) => rove(e, buttons, on.leave) },
    },
    ...buttons,
  );
}

function rove(e, buttons, leave) {
  const at = buttons.indexOf(document.activeElement);
  let next = null;
  if (e.key === "ArrowRight" || e.key === "ArrowDown") next = (at + 1) % buttons.length;
  else if (e.key === "ArrowLeft" || e.key === "ArrowUp") next = (at - 1 + buttons.length) % buttons.length;
  else if (e.key === "Home") next = 0;
  else if (e.key === "End") next = buttons.length - 1;
  else if (e.key === "Escape") {
    e.preventDefault();
    e.stopPropagation();
    leave();
    return;
  } else return;
  e.preventDefault();
  buttons.forEach((b, i) => b.setAttribute("tabindex", i === next ? "0" : "-1"));
  buttons[next].focus();
}

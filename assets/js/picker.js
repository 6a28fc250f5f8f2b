// The emoji picker: a small built-in list of common emoji with names to search by (no
// network), in a dialog; arrow keys move through the grid, Enter or a click picks.

import { el, byId, show } from "./dom.js";

// [emoji, words to find it by]
const EMOJI = [
  ["👍", "thumbs up yes ok like"], ["👎", "thumbs down no dislike"], ["❤️", "heart love red"],
  ["😂", "joy laugh tears funny"], ["🎉", "party tada celebrate"], ["👀", "eyes look see"],
  ["✅", "check done yes tick"], ["❌", "cross no wrong"], ["🙏", "pray thanks please"],
  ["👏", "clap applause bravo"], ["🙌", "raised hands hooray"], ["💪", "muscle strong flex"],
  ["🔥", "fire hot lit"], ["✨", "sparkles shiny new"], ["⭐", "star favourite"],
  ["💯", "hundred perfect"], ["🚀", "rocket ship launch"], ["🎯", "target bullseye goal"],
  ["💡", "idea bulb light"], ["⚠️", "warning caution"], ["❓", "question what"],
  ["❗", "exclamation important"], ["👋", "wave hello bye"], ["🤝", "handshake deal"],
  ["👌", "ok perfect fine"], ["✌️", "peace victory two"], ["🤞", "fingers crossed luck"],
  ["😀", "grin happy smile"], ["😊", "blush smile happy"], ["🙂", "slight smile"],
  ["😉", "wink"], ["😍", "heart eyes love"], ["🥰", "smiling hearts love"],
  ["😎", "cool sunglasses"], ["🤔", "thinking hmm"], ["🤯", "mind blown exploding"],
  ["😅", "sweat smile phew"], ["🤣", "rofl rolling laugh"], ["😮", "open mouth wow surprised"],
  ["😢", "cry sad tear"], ["😭", "sob crying"], ["😡", "angry rage mad"],
  ["😴", "sleep tired zzz"], ["🥳", "partying celebrate birthday"], ["😬", "grimace awkward"],
  ["🙃", "upside down silly"], ["🤗", "hug hugging"], ["🤷", "shrug dunno"],
  ["🫡", "salute yes sir"], ["🥲", "smiling tear"], ["😇", "innocent halo angel"],
  ["💙", "blue heart"], ["💚", "green heart"], ["💜", "purple heart"],
  ["💔", "broken heart"], ["☕", "coffee tea hot"], ["🍕", "pizza food"],
  ["🍰", "cake shortcake birthday"], ["🍻", "beers cheers"], ["🎂", "birthday cake"],
  ["🎁", "gift present"], ["🏆", "trophy win award"], ["📌", "pin pushpin"],
  ["📎", "paperclip attach"], ["📅", "calendar date"], ["⏰", "alarm clock time"],
  ["🐛", "bug insect"], ["🐞", "ladybug bug"], ["🔧", "wrench tool fix"],
  ["🛠️", "tools hammer wrench"], ["🔒", "lock secure"], ["📈", "chart up growth"],
  ["📉", "chart down"], ["🧠", "brain smart"], ["👻", "ghost boo"],
  ["🤖", "robot bot"], ["🐶", "dog puppy"], ["🐱", "cat kitten"],
  ["🌟", "glowing star"], ["🌈", "rainbow"], ["☀️", "sun sunny"],
];

const COLUMNS = 8;
let resolveCurrent = null;
let buttons = [];

function dialog() {
  return byId("emoji-dialog");
}

function setup() {
  const grid = byId("emoji-grid");
  buttons = EMOJI.map(([emoji, words]) =>
    el(
      "button",
      {
        type: "button",
        class:
          "flex h-10 w-10 items-center justify-center rounded-lg text-xl hover:bg-gray-100 " +
          "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500",
        title: words.split(" ")[0],
        "aria-label": words.split(" ").slice(0, 2).join(" "),
        dataset: { emoji, words },
        tabindex: "-1",
        on: { click: () => finish(emoji) },
      },
      emoji,
    ),
  );
  grid.replaceChildren(...buttons);
  grid.addEventListener("keydown", moveInGrid);
  const search = byId("emoji-search");
  search.addEventListener("input", filter);
  search.addEventListener("keydown", (e) => {
    const first = visible()[0];
    if (e.key === "Enter") {
      e.preventDefault();
      if (first) finish(first.dataset.emoji);
    } else if (e.key === "ArrowDown" && first) {
      e.preventDefault();
      focusButton(first);
    }
  });
  byId("emoji-close").addEventListener("click", () => finish(null));
  dialog().addEventListener("close", () => finish(null));
  dialog().addEventListener("click", (e) => {
    if (e.target === dialog()) finish(null); // the backdrop
  });
}

const visible = () => buttons.filter((b) => !b.hidden);

function focusButton(button) {
  for (const b of buttons) b.setAttribute("tabindex", b === button ? "0" : "-1");
  button.focus();
}

function filter() {
  const q = byId("emoji-search").value.trim().toLowerCase();
  for (const b of buttons) b.hidden = Boolean(q) && !b.dataset.words.includes(q) && b.dataset.emoji !== q;
  const shown = visible();
  show(byId("emoji-empty"), shown.length === 0);
  for (const b of buttons) b.setAttribute("tabindex", b === shown[0] ? "0" : "-1");
}

function moveInGrid(e) {
  const shown = visible();
  const at = shown.indexOf(document.activeElement);
  if (at < 0) return;
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
  let next;
  if (e.key in moves) next = at + moves[e.key];
  else if (e.key === "Home") next = 0;
  else if (e.key === "End") next = shown.length - 1;
  else return;
  e.preventDefault();
  if (next < 0 && e.key === "ArrowUp") {
    byId("emoji-search").focus();
    return;
  }
  focusButton(shown[Math.max(0, Math.min(shown.length - 1, next))]);
}

function finish(emoji) {
  const resolve = resolveCurrent;
  resolveCurrent = null;
  if (dialog().open) dialog().close();
  if (resolve) resolve(emoji);
}

/** Opens the picker; resolves with the emoji picked, or null when it was closed. */
export function pickEmoji() {
  if (!buttons.length) setup();
  if (resolveCurrent) finish(null);
  const search = byId("emoji-search");
  search.value = "";
  filter();
  return new Promise((resolve) => {
    resolveCurrent = resolve;
    dialog().showModal();
    search.focus();
  });
}

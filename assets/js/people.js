// "New message": a dialog to pick a person, online first, filtered as one types (fuzzy,
// as the quick switcher). Picking someone opens the conversation with them: their direct
// chat if there is one, else an empty one that the first message sent makes real (see
// conversation.js `openWith`), so trying a name leaves no empty chat behind.
// Alt+N opens it from anywhere but a dialog. The people are read again as it opens.

import { el, byId, show, setText, markActive, botBadge } from "./dom.js";
import { lastSeen } from "./time.js";
import { state, subscribe, displayName, isBot } from "./store.js";
import { rank } from "./fuzzy.js";
import { avatar } from "./sidebar.js";

const OPTION = "person-option-";
const ITEM = "flex w-full cursor-pointer items-center gap-3 rounded-lg px-2 py-2 text-left";
const ITEM_IDLE = "hover:bg-gray-100";
const ITEM_ACTIVE = "bg-indigo-50 ring-1 ring-inset ring-indigo-200";

let dialog;
let input;
let list;
let empty;
let onPick = () => {};
let refresh = () => {};
let shown = [];
let active = 0;

export function initPersonDialog(hooks) {
  onPick = hooks.onPick;
  refresh = hooks.refresh;
  dialog = byId("person-dialog");
  input = byId("person-filter");
  list = byId("person-list");
  empty = byId("person-empty");
  byId("new-message").addEventListener("click", () => openPersonDialog());
  byId("person-cancel").addEventListener("click", close);
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });
  input.addEventListener("input", () => {
    active = 0;
    render();
  });
  input.addEventListener("keydown", onKey);
  document.addEventListener("keydown", (e) => {
    if (e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey && e.code === "KeyN" && !document.querySelector("dialog[open]")) {
      e.preventDefault();
      openPersonDialog();
    }
  });
  // Presence changes while it is open.
  subscribe(() => {
    if (dialog.open) render();
  });
}

export function openPersonDialog(text = "") {
  input.value = text;
  active = 0;
  render();
  if (!dialog.open) dialog.showModal();
  input.focus();
  // Whoever joined since the page loaded (sign-ups are not events).
  refresh();
}

function close() {
  if (dialog.open) dialog.close();
}

function people() {
  const q = input.value.trim();
  const everyone = [...state.users].sort((a, b) => Number(Boolean(b.online)) - Number(Boolean(a.online))
    || a.username.localeCompare(b.username));
  return q ? rank(q, everyone, (u) => [displayName(u.username), u.username], everyone.length) : everyone;
}

function render() {
  shown = people();
  active = Math.max(0, Math.min(active, shown.length - 1));
  list.replaceChildren(...shown.map(item));
  const none = state.users.length ? `No one is called “${input.value.trim()}”.` : "No one else is here yet.";
  setText(empty, none);
  show(empty, shown.length === 0);
  setActive(active);
}

function item(user, i) {
  return el(
    "li",
    {
      id: `${OPTION}${i}`,
      role: "option",
      "aria-selected": "false",
      class: `${ITEM} ${ITEM_IDLE}`,
      dataset: { username: user.username },
      on: {
        mousedown: (e) => e.preventDefault(),
        click: () => pick(i),
      },
    },
    avatar(displayName(user.username), { online: Boolean(user.online), username: user.username }),
    el(
      "span",
      { class: "min-w-0 flex-1" },
      el(
        "span",
        { class: "flex items-center gap-1.5" },
        el("span", { class: "truncate font-medium text-gray-800", dir: "auto", text: displayName(user.username) }),
        isBot(user.username) ? botBadge() : null,
      ),
      el("span", {
        class: `block truncate text-xs ${user.online ? "text-emerald-700" : "text-gray-600"}`,
        dir: "auto",
        text: `${user.username} · ${user.online ? "Online" : lastSeen(user.last_seen)}`,
      }),
    ),
  );
}

function setActive(i) {
  active = i;
  markActive(input, [...list.children], i, { base: ITEM, idle: ITEM_IDLE, active: ITEM_ACTIVE });
}

function onKey(e) {
  if (e.isComposing) return;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    if (!shown.length) return;
    e.preventDefault();
    setActive(Math.max(0, Math.min(shown.length - 1, active + (e.key === "ArrowDown" ? 1 : -1))));
  } else if (e.key === "Enter") {
    e.preventDefault();
    pick(active);
  }
}

function pick(i) {
  const user = shown[i];
  if (!user) return;
  close();
  onPick(user.username);
}

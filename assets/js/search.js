// The field above the chats (Ctrl+K or Cmd+K focuses it, from anywhere) is a quick
// switcher and message search in one: as one types, first the conversations whose names
// match (fuzzy, over chats and people: see fuzzy.js), then the messages found, each with
// its chat, sender, time and the matched words marked. Arrow keys move through both,
// Enter or a click opens one (a conversation clears the field; a message keeps the
// results, to go on to the next), Escape clears the search, brings the chat list back and
// returns focus to where it was. More messages page in at the end of the list. The field
// is a combobox pointing into the lists (aria-activedescendant), so focus stays in it
// while the arrows move.

import { get } from "./api.js";
import { el, byId, show, setText, markActive } from "./dom.js";
import { listTime, fullDateTime } from "./time.js";
import { state, chatTitle, isMe, otherMembers, directChatWith, userByName, displayName, senderName } from "./store.js";
import { avatar, ordered } from "./sidebar.js";
import { rank } from "./fuzzy.js";
import { latestOnly, queryProblem, searchPath, snippet } from "./search_query.js";

const MORE_PX = 120; // this close to the end of the results, the next page loads
const OPTION = "search-option-";
const MATCH = "switch-option-";
const MATCHES = 5; // conversations shown above the messages

const HINTS = {
  punctuation: "Type a word or two to search messages.",
  long: "Searches can be at most 200 characters.",
};

const ITEM =
  "flex w-full cursor-pointer items-start gap-3 rounded-lg px-2 py-2 text-left transition-colors";
const ITEM_IDLE = "hover:bg-gray-200/60";
const ITEM_ACTIVE = "bg-indigo-50 ring-1 ring-inset ring-indigo-200";
const MARK = "rounded-sm bg-amber-200/80 px-px text-gray-900";

let input;
let panel;
let list;
let status;
let more;
let switchList;
let onOpen = () => {};
let onChat = () => {};
let onPerson = () => {};
let showList = () => {};

let query = ""; // the query the results are for
let asked = ""; // the query last sent (or waiting to be)
let matches = []; // conversations: {chat} or {user}, for the words typed now
let results = [];
let next = null; // the `before` of the next page, or null at the end
let active = -1; // in the matches, then the results
let loadingMore = false;
let returnTo = null; // what had focus before the search field

const asker = latestOnly((key, signal) => get(searchPath(key.q, { before: key.before }), { signal }), {
  onAnswer: answered,
  onError: failed,
});

/**
 * `open(result)` opens a result's chat at its message; `showList()` brings the
 * sidebar into view where the open chat hides it (a phone).
 */
export function initSearch(hooks) {
  onOpen = hooks.onOpen;
  onChat = hooks.onChat;
  onPerson = hooks.onPerson;
  showList = hooks.showList;
  input = byId("search");
  switchList = byId("switch-results");
  panel = byId("search-panel");
  list = byId("search-results");
  status = byId("search-status");
  more = byId("search-more");

  if (/Mac|iPhone|iPad/.test(navigator.platform || "")) setText(byId("search-shortcut"), "⌘K");
  input.addEventListener("input", () => changed(input.value));
  input.addEventListener("keydown", onKey);
  input.addEventListener("focus", (e) => {
    if (!returnTo && e.relatedTarget && e.relatedTarget !== input) returnTo = e.relatedTarget;
  });
  more.addEventListener("click", loadMore);
  panel.addEventListener("scroll", () => {
    if (panel.scrollHeight - panel.scrollTop - panel.clientHeight < MORE_PX) loadMore();
  }, { passive: true });
  document.addEventListener("keydown", onShortcut, true);
}

/** Ctrl+K or Cmd+K, from anywhere but a dialog: into the search field, its text selected. */
function onShortcut(e) {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== "k") return;
  if (document.querySelector("dialog[open]")) return;
  e.preventDefault();
  const from = document.activeElement;
  if (from && from !== input && from !== document.body) returnTo = from;
  if (!input.checkVisibility()) showList();
  input.focus();
  input.select();
}

function onKey(e) {
  if (e.isComposing) return;
  switch (e.key) {
    case "ArrowDown":
    case "ArrowUp": {
      const options = matches.length + results.length;
      if (!options) return;
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      setActive(Math.max(0, Math.min(options - 1, active + step)));
      if (step > 0 && active === options - 1) loadMore();
      return;
    }
    case "Enter": {
      if (!matches.length && !results.length) return;
      e.preventDefault();
      choose(active >= 0 ? active : 0);
      return;
    }
    case "Escape": {
      e.preventDefault();
      e.stopPropagation();
      leave();
      return;
    }
    default:
  }
}

/** Escape: no search, the chat list back, and focus where it was before. */
function leave() {
  input.value = "";
  changed("");
  const back = returnTo;
  returnTo = null;
  if (back && back.isConnected && back.checkVisibility()) back.focus({ preventScroll: true });
}

/** The field changed: ask again (after a pause in the typing), or say why not. */
function changed(value) {
  const problem = queryProblem(value);
  const searching = problem !== "empty";
  show(panel, searching);
  show(byId("conversations"), !searching);
  show(byId("filter-row"), !searching);
  input.setAttribute("aria-expanded", searching ? "true" : "false");
  matches = searching ? conversations(value) : [];
  renderMatches();
  if (!searching || problem) {
    asker.cancel();
    asked = "";
    loadingMore = false;
    setResults("", [], null);
    say(problem && !matches.length ? HINTS[problem] : "");
    return;
  }
  const q = value.trim();
  if (q === asked) return; // only spaces changed
  asked = q;
  loadingMore = false;
  list.setAttribute("aria-busy", "true");
  if (!results.length) say("Searching…");
  asker.ask({ q, before: null });
}

function loadMore() {
  if (next === null || loadingMore || asker.pending) return;
  loadingMore = true;
  renderMore();
  asker.now({ q: query, before: next });
}

function answered(key, data) {
  const page = (data && data.results) || [];
  loadingMore = false;
  if (key.before === null) {
    setResults(key.q, page, data ? data.next : null);
    panel.scrollTop = 0;
  } else {
    const known = new Set(results.map((r) => r.message.id));
    results = [...results, ...page.filter((r) => !known.has(r.message.id))];
    next = data ? data.next : null;
    render();
  }
  list.removeAttribute("aria-busy");
  say(results.length ? "" : `No messages match “${key.q}”.`);
}

/**
 * The conversations the words typed name: chats by title and members (archived ones
 * too), then people one has no conversation with yet.
 */
function conversations(value) {
  const q = value.trim();
  const chats = [...ordered(state.chats), ...ordered(state.chats, { archived: true })];
  const strangers = state.users.filter((u) => {
    const chat = directChatWith(u.username);
    return !chat || !chats.includes(chat);
  });
  const items = [...chats.map((chat) => ({ chat })), ...strangers.map((user) => ({ user }))];
  return rank(q, items, (m) => (m.chat ? [chatTitle(m.chat), ...otherMembers(m.chat)] : [displayName(m.user.username), m.user.username]), MATCHES);
}

function renderMatches() {
  switchList.replaceChildren(...matches.map(matchItem));
  show(byId("switch-heading"), matches.length > 0);
  setActive(-1);
}

function matchItem(match, i) {
  const { chat, user } = match;
  const name = chat ? chatTitle(chat) : displayName(user.username);
  const other = chat && chat.kind === "direct" ? userByName(otherMembers(chat)[0] || "") : user;
  let detail;
  if (chat && chat.kind === "group") detail = `Group · ${chat.members.length} members`;
  else if (other) detail = `${other.username} · ${other.online ? "Online" : "Offline"}`;
  else detail = "Direct message";
  if (!chat) detail += " · new conversation";
  return el(
    "li",
    {
      id: `${MATCH}${i}`,
      role: "option",
      "aria-selected": "false",
      class: `${ITEM} ${ITEM_IDLE}`,
      dataset: chat ? { chatId: chat.id } : { username: user.username },
      on: {
        mousedown: (e) => e.preventDefault(),
        click: () => choose(i),
      },
    },
    avatar(name, { square: Boolean(chat) && chat.kind === "group", online: other ? Boolean(other.online) : null, username: other ? other.username : null }),
    el(
      "span",
      { class: "min-w-0 flex-1" },
      el("span", { class: "block truncate font-medium text-gray-800", dir: "auto", text: name }),
      el("span", { class: "block truncate text-xs text-gray-600", dir: "auto", text: detail }),
    ),
    chat && chat.unread ? el("span", { class: "badge shrink-0", "aria-label": `${chat.unread} unread` }, String(chat.unread)) : null,
  );
}

function failed(key, err) {
  loadingMore = false;
  if (key.before === null) asked = ""; // typing it again asks again
  list.removeAttribute("aria-busy");
  if (err && err.status === 401) return;
  if (err && err.status === 422) {
    setResults("", [], null);
    say(HINTS.punctuation);
    return;
  }
  renderMore();
  const why = err && err.transient ? "Can't reach the server. Please try again." : (err && err.message) || "Please try again.";
  say(`Couldn't search: ${why}`);
}

function setResults(q, page, nextId) {
  query = q;
  results = page;
  next = nextId === undefined ? null : nextId;
  active = -1;
  render();
}

function say(text) {
  setText(status, text);
  show(status, Boolean(text));
}

function renderMore() {
  show(more, next !== null);
  more.disabled = loadingMore;
  setText(more, loadingMore ? "Loading more results…" : "Load more results");
}

function render() {
  list.replaceChildren(...results.map(resultItem));
  show(byId("search-heading"), results.length > 0);
  renderMore();
  setActive(active);
}

function setActive(i) {
  active = i;
  markActive(input, [...switchList.children, ...list.children], i, { base: ITEM, idle: ITEM_IDLE, active: ITEM_ACTIVE });
}

function choose(i) {
  if (i < matches.length) {
    const { chat, user } = matches[i];
    input.value = "";
    changed("");
    returnTo = null;
    if (chat) onChat(chat.id);
    else onPerson(user.username);
    return;
  }
  const result = results[i - matches.length];
  if (!result) return;
  setActive(i);
  // A phone shows the chat instead of the list: the keyboard has nothing left to type in.
  if (window.matchMedia("(pointer: coarse)").matches) input.blur();
  onOpen(result);
}

/** The body's words around the first match, the matches as <mark>: text nodes only. */
export function highlighted(parts) {
  return snippet(parts).map((s) => (s.match ? el("mark", { class: MARK, dir: "auto", text: s.text }) : s.text));
}

function resultItem(result, i) {
  const { message, chat } = result;
  const title = chatTitle(chat);
  const sender = isMe(message.sender) ? "You" : senderName(message);
  return el(
    "li",
    {
      id: `${OPTION}${i}`,
      role: "option",
      "aria-selected": "false",
      class: `${ITEM} ${ITEM_IDLE}`,
      dataset: { messageId: message.id, chatId: message.chat_id },
      on: {
        // mousedown, not focus: the field keeps focus, so the arrows go on from here.
        mousedown: (e) => e.preventDefault(),
        click: () => choose(matches.length + i),
      },
    },
    avatar(title, { square: chat.kind === "group" }),
    el(
      "span",
      { class: "min-w-0 flex-1" },
      el(
        "span",
        { class: "flex items-baseline gap-2" },
        el("span", { class: "truncate font-medium text-gray-800", dir: "auto", text: title, "data-result-chat": true }),
        el("time", {
          class: "ml-auto shrink-0 text-xs text-gray-500",
          datetime: message.created_at,
          title: fullDateTime(message.created_at),
          text: listTime(message.created_at),
        }),
      ),
      el(
        "span",
        { class: "mt-0.5 line-clamp-2 break-words text-sm text-gray-600 [overflow-wrap:anywhere]" },
        el("span", { class: "font-medium text-gray-700", dir: "auto", text: sender, "data-result-sender": true }),
        ": ",
        el("span", { dir: "auto", "data-result-body": true }, ...highlighted(result.parts || [{ "text": message.body, match: false }])),
      ),
    ),
  );
}

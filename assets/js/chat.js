// Entry point of the chat home page (templates/chat/home.html.tera).
// Takes the event stream's cursor, then boots state from the API, routes /chats/<id>
// with the History API, and hands what the long poll brings to events.js. The lists
// change only by events (and are re-read after a lost connection), never on a timer.

import { get, post } from "./api.js";
import { byId, show } from "./dom.js";
import { startPolling, currentCursor } from "./poll.js";
import { retryDelay } from "./backoff.js";
import { applyUpdate, initEvents } from "./events.js";
import { initSidebar } from "./sidebar.js";
import { initSearch } from "./search.js";
import { initGroupDialog } from "./group.js";
import { initInviteDialog } from "./invite.js";
import { initChatSettings } from "./chat_settings.js";
import { initConversation, openChat, openWith, closeChat, markRead, openView } from "./conversation.js";
import { initPersonDialog } from "./people.js";
import { initDrafts } from "./drafts.js";
import { initAlerts, alertFor } from "./alerts.js";
import { state, notify, setChats, setUsers, upsertChat, directChatWith, learnProfiles } from "./store.js";

const app = byId("app");

state.me = {
  id: Number(app.dataset.meId),
  username: app.dataset.meUsername || "",
  role: app.dataset.meRole || "member",
  enter_sends: app.dataset.enterSends !== "false",
};
learnProfiles([{ username: state.me.username, display_name: app.dataset.meDisplayName, avatar_url: app.dataset.meAvatarUrl }]);
const pollWait = Math.max(0, Number(app.dataset.pollWait) || 25);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function chatIdFromPath(path) {
  const m = /^\/chats\/(\d+)\/?$/.exec(path);
  return m ? Number(m[1]) : null;
}

function setOnline(ok) {
  show(byId("conn-status"), !ok);
}

/**
 * Open (id) or close (null) a chat and keep the address bar in step; `at` a message to
 * show (a search result).
 */
async function navigate(id, { push = true, at = null } = {}) {
  const path = id === null ? "/" : `/chats/${id}`;
  if (push && window.location.pathname !== path) window.history.pushState({ chatId: id }, "", path);
  if (id === null) {
    closeChat();
    return;
  }
  const ok = await openChat(id, { at });
  if (!ok && chatIdFromPath(window.location.pathname) === id) window.history.replaceState({ chatId: null }, "", "/");
}

// Single-flight refreshes: a call while one runs queues exactly one more.
function singleFlight(fn) {
  let running = null;
  let again = false;
  return function run() {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await fn();
        } catch (err) {
          if (err && err.transient) setOnline(false);
        }
      } while (again);
      running = null;
    })();
    return running;
  };
}

const refreshChats = singleFlight(async () => setChats(await get("/api/chats")));
const refreshUsers = singleFlight(async () => setUsers(await get("/api/users")));

/** A person picked (New message, the switcher): their chat, or a conversation to start. */
function onPerson(username) {
  const chat = directChatWith(username);
  if (chat) {
    navigate(chat.id);
    return;
  }
  if (window.location.pathname !== "/") window.history.pushState({ chatId: null }, "", "/");
  openWith(username);
}

function wireEvents() {
  const archivedToggle = byId("show-archived");
  archivedToggle.addEventListener("change", () => {
    state.showArchived = archivedToggle.checked;
    notify();
  });
  byId("back-button").addEventListener("click", () => navigate(null));
  window.addEventListener("popstate", () => navigate(chatIdFromPath(window.location.pathname), { push: false }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") markRead();
  });
  window.addEventListener("focus", markRead);
  document.addEventListener("keydown", (e) => {
    // Escape closes the chat on phones, where the chat hides the list.
    if (e.key === "Escape" && state.openChatId !== null && !document.querySelector("dialog[open]")
        && window.matchMedia("(max-width: 767px)").matches) {
      navigate(null);
    }
  });
}

async function boot() {
  initDrafts(state.me.id);
  initSidebar({ onChat: (id) => navigate(id) });
  initPersonDialog({ onPick: onPerson, refresh: refreshUsers });
  initSearch({
    onOpen: (result) => navigate(result.message.chat_id, { at: result.message.id }),
    onChat: (id) => navigate(id),
    onPerson,
    showList: () => navigate(null),
  });
  initConversation({ onStale: refreshChats, onStarted: (id) => navigate(id), onLeft: () => navigate(null) });
  initEvents({ view: openView, refreshChats, refreshUsers, onNewMessage: alertFor });
  initAlerts({
    notifications: app.dataset.notifications !== "false",
    sound: app.dataset.sound === "true",
    sound_url: app.dataset.soundUrl || "",
    onOpen: (id) => navigate(id),
  });
  initChatSettings({ onLeft: () => navigate(null) });
  initGroupDialog({
    onCreated: (chat) => {
      upsertChat(chat, { toTop: true });
      navigate(chat.id);
    },
  });
  initInviteDialog();
  wireEvents();

  // The cursor first, then the lists: whatever changes in between comes as events, and
  // applying an event to what already shows it changes nothing.
  let cursor = 0;
  for (let failures = 1; ; failures += 1) {
    try {
      cursor = await currentCursor();
      const [users, chats] = await Promise.all([get("/api/users"), get("/api/chats")]);
      setUsers(users);
      setChats(chats);
      break;
    } catch (err) {
      if (err.status === 401) return;
      setOnline(false);
      await sleep(retryDelay(failures));
    }
  }
  setOnline(true);
  show(byId("lists-loading"), false);

  const initial = Number(app.dataset.openChat) || chatIdFromPath(window.location.pathname);
  window.history.replaceState({ chatId: initial || null }, "", window.location.pathname);
  if (initial) navigate(initial, { push: false });

  const poller = startPolling({
    cursor,
    wait: pollWait,
    onUpdate: applyUpdate,
    onStatus: setOnline,
    // Receipts and presence are not kept for a tab that was away: read them again.
    onReconnect: () => {
      refreshChats();
      refreshUsers();
    },
    // The server no longer has our place in the stream: start the page over.
    onExpired: () => window.location.reload(),
  });
  // Signing out ends this session's polls on the server (401): stop ours first.
  for (const form of document.querySelectorAll('form[action="/logout"]')) {
    form.addEventListener("submit", () => poller.stop());
  }
}

boot();

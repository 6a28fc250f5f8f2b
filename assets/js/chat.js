// Entry point of the chat home page (templates/chat/home.html.tera).
// Boots state from the API, routes /chats/<id> with the History API, and applies
// what the long poll brings: new messages, unread counts, presence.

import { get, post } from "./api.js";
import { byId, show, setText } from "./dom.js";
import { startPolling } from "./poll.js";
import { initSidebar } from "./sidebar.js";
import { initGroupDialog } from "./group.js";
import { initConversation, openChat, closeChat, receive, markRead, isShown } from "./conversation.js";
import {
  state, notify, subscribe, getChat, setChats, setUsers, upsertChat, updateChat,
  totalUnread, maxMessageId, isMe,
} from "./store.js";

const app = byId("app");
// Fallback refresh of the lists: new people, and groups someone added us to that have
// no message yet (a message would bring them at once through the poll).
const LISTS_EVERY_MS = 60_000;

state.me = {
  id: Number(app.dataset.meId),
  username: app.dataset.meUsername || "",
  role: app.dataset.meRole || "member",
};
const pollWait = Math.max(0, Number(app.dataset.pollWait) || 25);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function chatIdFromPath(path) {
  const m = /^\/chats\/(\d+)\/?$/.exec(path);
  return m ? Number(m[1]) : null;
}

function setOnline(ok) {
  show(byId("conn-status"), !ok);
}

function sidebarError(message) {
  setText(byId("sidebar-error"), message || "");
  show(byId("sidebar-error"), Boolean(message));
}

/** Open (id) or close (null) a chat and keep the address bar in step. */
async function navigate(id, { push = true } = {}) {
  const path = id === null ? "/" : `/chats/${id}`;
  if (push && window.location.pathname !== path) window.history.pushState({ chatId: id }, "", path);
  if (id === null) {
    closeChat();
    return;
  }
  const ok = await openChat(id);
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

async function onPerson(username) {
  sidebarError("");
  try {
    const chat = await post("/api/chats", { with: username });
    upsertChat(chat, { toTop: !getChat(chat.id) });
    await navigate(chat.id);
  } catch (err) {
    sidebarError(err.transient ? "Can't reach the server. Please try again." : err.message);
  }
}

function onUpdate({ messages = [], presence = [] }) {
  let unknownChat = false;
  const forOpenChat = [];
  const visible = document.visibilityState === "visible";
  for (const m of [...messages].sort((a, b) => a.id - b.id)) {
    const chat = getChat(m.chat_id);
    if (!chat) {
      unknownChat = true;
      continue;
    }
    const open = m.chat_id === state.openChatId;
    const newer = !chat.last_message || m.id > chat.last_message.id;
    const fields = { archived: false };
    if (newer) fields.last_message = m;
    if (newer && !isMe(m.sender) && !(open && visible) && !(open && isShown(m.id))) {
      fields.unread = (chat.unread || 0) + 1;
    }
    updateChat(chat.id, fields, { toTop: newer });
    if (open) forOpenChat.push(m);
  }
  if (forOpenChat.length) receive(forOpenChat);
  if (unknownChat) refreshChats();

  let unknownUser = false;
  for (const p of presence) {
    if (p.user_id === state.me.id) continue;
    const user = state.users.find((u) => u.id === p.user_id);
    if (!user) {
      unknownUser = true;
      continue;
    }
    user.online = p.online;
    user.last_seen = p.last_seen;
  }
  if (presence.length) notify();
  if (unknownUser) refreshUsers();
}

function wireEvents() {
  byId("filter").addEventListener("input", (e) => {
    state.filter = e.target.value;
    notify();
  });
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
  window.addEventListener("focus", () => {
    markRead();
    refreshUsers();
    refreshChats();
  });
  document.addEventListener("keydown", (e) => {
    // Escape closes the chat on phones, where the chat hides the list.
    if (e.key === "Escape" && state.openChatId !== null && !document.querySelector("dialog[open]")
        && window.matchMedia("(max-width: 767px)").matches) {
      navigate(null);
    }
  });
}

subscribe(() => {
  const unread = totalUnread();
  document.title = unread ? `(${unread}) Kanect` : "Kanect";
});

async function boot() {
  initSidebar({ onPerson, onChat: (id) => navigate(id) });
  initConversation({ onStale: refreshChats });
  initGroupDialog({
    onCreated: (chat) => {
      upsertChat(chat, { toTop: true });
      navigate(chat.id);
    },
  });
  wireEvents();

  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      const [users, chats] = await Promise.all([get("/api/users"), get("/api/chats")]);
      setUsers(users);
      setChats(chats);
      break;
    } catch (err) {
      if (err.status === 401) return;
      setOnline(false);
      await sleep(delay);
    }
  }
  setOnline(true);
  show(byId("lists-loading"), false);

  const initial = Number(app.dataset.openChat) || chatIdFromPath(window.location.pathname);
  window.history.replaceState({ chatId: initial || null }, "", window.location.pathname);
  if (initial) navigate(initial, { push: false });

  const poller = startPolling({ cursor: maxMessageId(), wait: pollWait, onUpdate, onStatus: setOnline });
  // Signing out ends this session's polls on the server (401): stop ours first.
  for (const form of document.querySelectorAll('form[action="/logout"]')) {
    form.addEventListener("submit", () => poller.stop());
  }
  setInterval(() => {
    refreshUsers();
    refreshChats();
  }, LISTS_EVERY_MS);
}

boot();

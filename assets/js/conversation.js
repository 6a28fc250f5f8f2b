// The right panel: the open chat's header, history (latest page, then older pages
// on demand), read receipts, sending, and archiving.

import { get, post, patch } from "./api.js";
import { byId, show, setText, isolate } from "./dom.js";
import { MessageList } from "./messages.js";
import { setupComposer } from "./composer.js";
import { lastSeen } from "./time.js";
import { state, notify, subscribe, getChat, upsertChat, updateChat, chatTitle, otherMembers, userByName } from "./store.js";

const PAGE = 50;
const TOP_PAGING_PX = 150;

let view;
let composer;
let onStale = () => {};
let loadToken = 0; // bumps whenever the open chat changes, so late answers are dropped
let loading = false;
let loadingOlder = false;
let hasOlder = false;
const readUpTo = new Map(); // chat id -> highest message id reported read
const drafts = new Map(); // chat id -> unsent text

const coarsePointer = window.matchMedia("(pointer: coarse)").matches;

export function initConversation(opts) {
  onStale = opts.onStale;
  const scroller = byId("message-scroller");
  view = new MessageList(scroller, byId("message-list"));
  composer = setupComposer({
    form: byId("composer"),
    input: byId("composer-input"),
    button: byId("send-button"),
    counter: byId("composer-counter"),
    error: byId("composer-error"),
    onSend: send,
  });
  byId("load-older").addEventListener("click", loadOlder);
  scroller.addEventListener("scroll", () => {
    if (scroller.scrollTop < TOP_PAGING_PX) loadOlder();
  }, { passive: true });
  byId("archive-button").addEventListener("click", toggleArchive);
  subscribe(renderHeader);
}

/** Is this message already on screen? (Our own sent messages come back via the poll.) */
export const isShown = (id) => view.has(id);

function chatError(message) {
  setText(byId("chat-error"), message || "");
  show(byId("chat-error"), Boolean(message));
}

function renderPaging() {
  const any = view.messages.length > 0;
  const btn = byId("load-older");
  show(btn, !loading && hasOlder);
  btn.disabled = loadingOlder;
  setText(btn, loadingOlder ? "Loading older messages…" : "Load older messages");
  show(byId("history-start"), !loading && !hasOlder && any);
  show(byId("messages-empty"), !loading && !any);
  show(byId("messages-loading"), loading);
}

function renderHeader() {
  const chat = getChat(state.openChatId);
  if (!chat) return;
  setText(byId("chat-title"), chatTitle(chat));
  let subtitle;
  if (chat.kind === "group") {
    const others = otherMembers(chat).sort((a, b) => a.localeCompare(b));
    subtitle = `${chat.members.length} members · ${[...others.map(isolate), "you"].join(", ")}`;
  } else {
    const user = userByName(otherMembers(chat)[0] || "");
    subtitle = user ? (user.online ? "Online" : lastSeen(user.last_seen)) : "Direct message";
  }
  setText(byId("chat-members"), subtitle);
  const archive = byId("archive-button");
  setText(archive, chat.archived ? "Unarchive" : "Archive");
  archive.setAttribute("aria-label", `${chat.archived ? "Unarchive" : "Archive"} this chat`);
  const closed = chat.status === "closed";
  show(byId("composer-area"), !closed);
  show(byId("closed-notice"), closed);
}

function saveDraft() {
  if (state.openChatId === null) return;
  const text = composer.value;
  if (text.trim()) drafts.set(state.openChatId, text);
  else drafts.delete(state.openChatId);
}

/** Open a chat: show it at once, then load its latest page. Resolves false if it is not ours. */
export async function openChat(id) {
  if (state.openChatId === id && view.chat) return true;
  saveDraft();
  state.openChatId = id;
  const token = ++loadToken;
  view.reset(getChat(id) || { id, kind: "direct" });
  loading = true;
  hasOlder = false;
  chatError("");
  composer.reset(drafts.get(id) || "");
  byId("app").dataset.view = "chat";
  show(byId("welcome"), false);
  show(byId("chat-view"), true);
  setText(byId("chat-title"), getChat(id) ? chatTitle(getChat(id)) : "Loading…");
  setText(byId("chat-members"), "");
  renderHeader();
  renderPaging();
  notify();

  for (let delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
    try {
      const data = await get(`/api/chats/${id}/messages?limit=${PAGE}`);
      if (token !== loadToken) return true;
      if (!getChat(id)) await onStale();
      if (token !== loadToken) return true;
      view.chat = getChat(id) || view.chat;
      const messages = data.messages || [];
      view.merge(messages);
      hasOlder = messages.length >= PAGE;
      loading = false;
      renderHeader();
      renderPaging();
      view.scrollToBottom();
      markRead();
      fillViewport();
      if (!coarsePointer) composer.focus();
      return true;
    } catch (err) {
      if (token !== loadToken || err.status === 401) return true;
      if (!err.transient) {
        closeChat();
        showWelcomeError(err.status === 404 || err.status === 403
          ? "That chat doesn't exist, or you're not a member of it."
          : err.message);
        return false;
      }
      chatError("Can't load messages right now. Retrying…");
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (token !== loadToken) return true;
    }
  }
}

export function closeChat() {
  saveDraft();
  loadToken += 1;
  state.openChatId = null;
  view.reset(null);
  loading = false;
  byId("app").dataset.view = "list";
  show(byId("chat-view"), false);
  show(byId("welcome"), true);
  showWelcomeError("");
  notify();
}

function showWelcomeError(message) {
  setText(byId("welcome-error"), message || "");
  show(byId("welcome-error"), Boolean(message));
}

/** Page older history in while the list does not fill the panel yet. */
function fillViewport() {
  const s = byId("message-scroller");
  if (hasOlder && s.scrollHeight <= s.clientHeight + TOP_PAGING_PX) loadOlder();
}

async function loadOlder() {
  if (!hasOlder || loading || loadingOlder || view.oldestId === null) return;
  const token = loadToken;
  loadingOlder = true;
  renderPaging();
  try {
    const data = await get(`/api/chats/${state.openChatId}/messages?before=${view.oldestId}&limit=${PAGE}`);
    if (token !== loadToken) return;
    const messages = data.messages || [];
    hasOlder = messages.length >= PAGE;
    loadingOlder = false;
    renderPaging(); // before merging, so the anchor math sees the final layout above the list
    view.merge(messages, { keepAnchor: true });
    fillViewport();
  } catch (err) {
    if (token === loadToken) chatError(`Couldn't load older messages: ${err.message}`);
  } finally {
    if (token === loadToken) {
      loadingOlder = false;
      renderPaging();
    }
  }
}

/** New messages for the open chat, from the poll. */
export function receive(messages) {
  if (loading) {
    view.merge(messages); // the latest page is still loading; it merges in by id
    return;
  }
  view.append(messages);
  renderPaging();
  markRead();
}

/** Tell the server we have read up to the newest message, if the reader can see it. */
export function markRead() {
  const id = state.openChatId;
  if (id === null || loading || document.visibilityState !== "visible") return;
  const last = view.newestId;
  const chat = getChat(id);
  if (last === null || !chat) return;
  if ((readUpTo.get(id) || 0) >= last) {
    if (chat.unread) updateChat(id, { unread: 0 });
    return;
  }
  readUpTo.set(id, last);
  updateChat(id, { unread: 0 });
  post(`/api/chats/${id}/read`, { up_to: last })
    .then((updated) => {
      if (updated && updated.id === id && getChat(id)) upsertChat(updated);
    })
    .catch(() => readUpTo.delete(id));
}

async function send(body) {
  const id = state.openChatId;
  let message;
  try {
    message = await post(`/api/chats/${id}/messages`, { body });
  } catch (err) {
    if (err.status === 403 || err.status === 404) onStale();
    if (err.transient) throw new Error("Can't reach the server. Your message was not sent; please try again.");
    throw err;
  }
  drafts.delete(id);
  if (state.openChatId === id) {
    view.append([message], { forceScroll: true });
    renderPaging();
  }
  readUpTo.set(id, Math.max(readUpTo.get(id) || 0, message.id));
  const chat = getChat(id);
  if (chat) {
    const newer = !chat.last_message || message.id > chat.last_message.id;
    upsertChat({ ...chat, archived: false, last_message: newer ? message : chat.last_message }, { toTop: true });
  }
}

async function toggleArchive() {
  const chat = getChat(state.openChatId);
  if (!chat) return;
  const button = byId("archive-button");
  button.disabled = true;
  chatError("");
  try {
    upsertChat(await patch(`/api/chats/${chat.id}`, { archived: !chat.archived }));
  } catch (err) {
    chatError(err.message);
  } finally {
    button.disabled = false;
  }
}

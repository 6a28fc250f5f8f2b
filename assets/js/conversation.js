// The right panel: the open chat's header, history (latest page, then older pages
// on demand), read receipts, sending (with files), drafts, mentions, typing, and archiving; and
// `openView`, through which events.js changes what the open chat shows.

import { get, post, patch } from "./api.js";
import { byId, show, setText, isolate } from "./dom.js";
import { MessageList } from "./messages.js";
import { setupComposer } from "./composer.js";
import { setupMentions } from "./mentions.js";
import { messageActions } from "./message_actions.js";
import { changedMessage, deletedMessage } from "./events.js";
import { draftFor, saveDraft, clearDraft } from "./drafts.js";
import { typed, sent, typingNow } from "./typing.js";
import * as uploads from "./uploads.js";
import { lastSeen } from "./time.js";
import {
  state, notify, subscribe, getChat, upsertChat, updateChat, chatTitle, otherMembers, userByName, typingIn,
} from "./store.js";

const PAGE = 50;
const TOP_PAGING_PX = 150;

let view;
let composer;
let mentions;
let onStale = () => {};
let loadToken = 0; // bumps whenever the open chat changes, so late answers are dropped
let loading = false;
let loadingOlder = false;
let hasOlder = false;
let typingTimer = null;
const readUpTo = new Map(); // chat id -> highest message id reported read

const coarsePointer = window.matchMedia("(pointer: coarse)").matches;

export function initConversation(opts) {
  onStale = opts.onStale;
  const scroller = byId("message-scroller");
  const actions = messageActions({
    view: () => view,
    showError: chatError,
    changed: changedMessage,
    removed: (m) => deletedMessage(m.chat_id, m.id),
    leave: () => composer.focus(),
  });
  view = new MessageList(scroller, byId("message-list"), actions);
  const input = byId("composer-input");
  composer = setupComposer({
    form: byId("composer"),
    input,
    button: byId("send-button"),
    counter: byId("composer-counter"),
    error: byId("composer-error"),
    onSend: send,
    onKey,
    files: { ids: uploads.readyIds, busy: uploads.uploading },
    onInput: (text) => {
      saveDraft(state.openChatId, text);
      typed(state.openChatId, text);
      mentions.update();
    },
  });
  uploads.initUploads({
    changed: () => composer.refresh(),
    showError: (message) => composer.showError(message),
    canAttach,
  });
  mentions = setupMentions({
    input,
    list: byId("mention-list"),
    members: () => {
      const chat = getChat(state.openChatId);
      return chat ? otherMembers(chat) : [];
    },
    group: () => {
      const chat = getChat(state.openChatId);
      return Boolean(chat) && chat.kind === "group";
    },
    replace: (text, caret) => composer.replace(text, caret),
  });
  byId("load-older").addEventListener("click", loadOlder);
  scroller.addEventListener("scroll", () => {
    if (scroller.scrollTop < TOP_PAGING_PX) loadOlder();
  }, { passive: true });
  byId("archive-button").addEventListener("click", toggleArchive);
  // A reload or a closed tab keeps what was being typed.
  window.addEventListener("pagehide", () => saveDraft(state.openChatId, composer.value));
  subscribe(renderHeader);
  subscribe(renderTyping);
}

/** Keys in the composer: the mention list first; ArrowUp in an empty box edits one's last message. */
function onKey(e) {
  if (mentions.onKey(e)) return true;
  if (e.key === "ArrowUp" && !composer.value && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
    const last = view.lastOwn();
    const chat = getChat(state.openChatId);
    if (last && chat && chat.status !== "closed") {
      e.preventDefault();
      view.actions.edit(last);
      return true;
    }
  }
  return false;
}

/** What events.js may do to the open chat. */
export const openView = {
  isShown: (id) => view.has(id),
  upsert(messages) {
    if (loading) {
      view.merge(messages); // the latest page is still loading; it merges in by id
      return;
    }
    view.upsert(messages);
    renderPaging();
    markRead();
  },
  remove(id) {
    view.remove(id);
    renderPaging();
  },
  changed(chat) {
    const before = view.chat;
    view.chat = chat;
    if (!before || before.status !== chat.status || before.kind !== chat.kind) view.renderAll();
    else view.refreshReceipts();
    markRead();
  },
  gone(chat) {
    const title = chat ? chatTitle(chat) : "that chat";
    clearDraft(state.openChatId);
    closeChat();
    showWelcomeError(`You are no longer a member of ${isolate(title)}.`);
  },
  receiptsChanged() {
    view.chat = getChat(state.openChatId) || view.chat;
    view.refreshReceipts();
  },
  typingChanged: renderTyping,
};

/** Files can be added while an open chat shows its composer. */
function canAttach() {
  const chat = getChat(state.openChatId);
  return Boolean(chat) && chat.status !== "closed" && !byId("chat-view").hidden;
}

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

/** "alice is typing…" under the messages, looked at again each second while anyone is. */
function renderTyping() {
  const id = state.openChatId;
  const text = id === null ? "" : typingNow(id);
  const line = byId("typing-indicator");
  if (line.textContent !== text) setText(line, text);
  clearTimeout(typingTimer);
  typingTimer = id !== null && typingIn(id).length ? setTimeout(renderTyping, 1000) : null;
}

/** Open a chat: show it at once, then load its latest page. Resolves false if it is not ours. */
export async function openChat(id) {
  if (state.openChatId === id && view.chat) return true;
  saveDraft(state.openChatId, composer.value);
  state.openChatId = id;
  const token = ++loadToken;
  view.reset(getChat(id) || { id, kind: "direct" });
  loading = true;
  hasOlder = false;
  chatError("");
  mentions.close();
  composer.reset(draftFor(id));
  uploads.showChat();
  byId("app").dataset.view = "chat";
  show(byId("welcome"), false);
  show(byId("chat-view"), true);
  setText(byId("chat-title"), getChat(id) ? chatTitle(getChat(id)) : "Loading…");
  setText(byId("chat-members"), "");
  renderHeader();
  renderPaging();
  renderTyping();
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
      view.refreshReceipts();
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
  if (state.openChatId !== null && getChat(state.openChatId)) saveDraft(state.openChatId, composer.value);
  loadToken += 1;
  state.openChatId = null;
  view.reset(null);
  mentions.close();
  composer.reset("");
  uploads.showChat();
  loading = false;
  byId("app").dataset.view = "list";
  show(byId("chat-view"), false);
  show(byId("welcome"), true);
  showWelcomeError("");
  renderTyping();
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

/** Tell the server we have read up to the newest message, if the reader can see it. */
export function markRead() {
  const id = state.openChatId;
  if (id === null || loading || document.visibilityState !== "visible") return;
  const last = view.newestId;
  const chat = getChat(id);
  if (last === null || !chat) return;
  if ((readUpTo.get(id) || 0) >= last) {
    if (chat.unread || chat.mentions) updateChat(id, { unread: 0, mentions: 0 });
    return;
  }
  readUpTo.set(id, last);
  updateChat(id, { unread: 0, mentions: 0 });
  post(`/api/chats/${id}/read`, { up_to: last })
    .then((updated) => {
      if (updated && updated.id === id && getChat(id)) upsertChat(updated);
    })
    .catch(() => readUpTo.delete(id));
}

async function send(body, attachments) {
  const id = state.openChatId;
  let message;
  try {
    message = await post(`/api/chats/${id}/messages`, attachments.length ? { body, attachments } : { body });
  } catch (err) {
    if (err.status === 403 || err.status === 404) onStale();
    if (err.transient) throw new Error("Can't reach the server. Your message was not sent; please try again.");
    throw err;
  }
  clearDraft(id);
  sent(id);
  uploads.sent(id, attachments);
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

// The right panel: the open chat's header, its history (the latest page, or the window
// around a message from a search, paged by history.js), read receipts, sending (with files),
// drafts, mentions, typing, and archiving; and `openView`, through which events.js changes
// what the open chat shows. `openWith` shows the conversation with someone one has no
// direct chat with yet: empty, the composer ready; the first message sent makes the chat
// (or the chat they make first takes its place, what was typed kept).

import { get, post, patch } from "./api.js";
import { byId, show, setText, isolate } from "./dom.js";
import { MessageList } from "./messages.js";
import { ChatHistory } from "./history.js";
import { firstUnread } from "./grouping.js";
import { retryDelay } from "./backoff.js";
import { setupComposer } from "./composer.js";
import { setupMentions } from "./mentions.js";
import { messageActions } from "./message_actions.js";
import { changedMessage, deletedMessage } from "./events.js";
import { draftFor, saveDraft, clearDraft } from "./drafts.js";
import { typed, sent, typingNow } from "./typing.js";
import * as uploads from "./uploads.js";
import { lastSeen } from "./time.js";
import {
  state, notify, subscribe, getChat, upsertChat, updateChat, chatTitle, otherMembers, userByName, typingIn, isMe, displayName,
  directChatWith, isBot,
} from "./store.js";

let view;
let history; // which stretch of the open chat's messages the list holds
let composer;
let mentions;
let onStale = () => {};
let onStarted = async () => {};
let pendingWith = null; // the person of an open conversation that has no chat yet
let opening = null; // the chat that conversation became, being opened
const pendingDrafts = new Map(); // lower-cased username -> what was typed to them, no chat yet
let typingTimer = null;
const readUpTo = new Map(); // chat id -> highest message id reported read

const coarsePointer = window.matchMedia("(pointer: coarse)").matches;

export function initConversation(opts) {
  onStale = opts.onStale;
  onStarted = opts.onStarted;
  const scroller = byId("message-scroller");
  const actions = messageActions({
    view: () => view,
    showError: chatError,
    changed: changedMessage,
    removed: (m) => deletedMessage(m.chat_id, m.id),
    leave: () => composer.focus(),
  });
  view = new MessageList(scroller, byId("message-list"), actions);
  history = new ChatHistory(view, scroller, { onError: chatError, onAttached: markRead });
  const input = byId("composer-input");
  composer = setupComposer({
    enterSends: () => state.me.enter_sends !== false,
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
    start: async () => {
      if (pendingWith === null) return null;
      try {
        return await startChat();
      } catch (err) {
        composer.showError(err.message);
        return null;
      }
    },
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
  byId("jump-latest").addEventListener("click", () => {
    // New messages below, in the list already: scroll to them; else load the newest page.
    if (history.detached) jumpToLatest();
    else view.scrollToBottom();
  });
  byId("archive-button").addEventListener("click", toggleArchive);
  // A reload or a closed tab keeps what was being typed.
  window.addEventListener("pagehide", () => saveDraft(state.openChatId, composer.value));
  subscribe(renderHeader);
  subscribe(renderTyping);
  subscribe(adoptStarted);
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
    if (history.live(messages)) markRead();
  },
  remove(id) {
    history.forget(id);
  },
  changed(chat) {
    const before = view.chat;
    view.chat = chat;
    // A member's new name or avatar shows on their messages too.
    const profiles = (c) => JSON.stringify(c.profiles || []);
    if (!before || before.status !== chat.status || before.kind !== chat.kind || profiles(before) !== profiles(chat)) view.renderAll();
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

/** Files can be added while an open chat (or a conversation about to be one) shows its composer. */
function canAttach() {
  const chat = getChat(state.openChatId);
  return (pendingWith !== null || (Boolean(chat) && chat.status !== "closed")) && !byId("chat-view").hidden;
}

function chatError(message) {
  setText(byId("chat-error"), message || "");
  show(byId("chat-error"), Boolean(message));
}

/** "alice · Online", "alice · Last seen …", for the person of a direct conversation. */
function presenceOf(username) {
  const user = userByName(username || "");
  const presence = user ? (user.online ? "Online" : lastSeen(user.last_seen)) : "Direct message";
  return username ? `${isolate(username)} · ${presence}` : presence;
}

function renderHeader() {
  const chat = getChat(state.openChatId);
  if (!chat) {
    if (pendingWith !== null) setText(byId("chat-members"), presenceOf(pendingWith));
    return;
  }
  setText(byId("chat-title"), chatTitle(chat));
  show(byId("chat-bot-badge"), chat.kind === "direct" && isBot(otherMembers(chat)[0]));
  let subtitle;
  if (chat.kind === "group") {
    const others = otherMembers(chat).map(displayName).sort((a, b) => a.localeCompare(b));
    subtitle = `${chat.members.length} members · ${[...others.map(isolate), "you"].join(", ")}`;
  } else {
    subtitle = presenceOf(otherMembers(chat)[0]);
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

/**
 * Open a chat: show it at once, then load its latest page, or with `at` (a search result)
 * the messages around that one, scrolled to it and highlighted. Resolves false if the chat
 * is not ours.
 */
export async function openChat(id, { at = null } = {}) {
  if (state.openChatId === id && view.chat && (at === null || view.reveal(at))) return true;
  saveDraft(state.openChatId, composer.value);
  keepPendingDraft();
  pendingWith = null;
  state.openChatId = id;
  show(byId("archive-button"), true);
  const token = history.begin(id, { around: at !== null });
  const unread = at === null && getChat(id) ? getChat(id).unread || 0 : 0; // before reading marks it 0
  view.reset(getChat(id) || { id, kind: "direct" });
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
  history.render();
  renderTyping();
  notify();
  return load(id, token, at, unread);
}

/** What was typed in a conversation that has no chat yet, for when it is opened again. */
function keepPendingDraft() {
  if (pendingWith === null) return;
  const key = pendingWith.toLowerCase();
  if (composer.value.trim()) pendingDrafts.set(key, composer.value);
  else pendingDrafts.delete(key);
}

/** The conversation with `username`, who has no direct chat with the reader yet. */
export function openWith(username) {
  saveDraft(state.openChatId, composer.value);
  keepPendingDraft();
  history.begin(null);
  state.openChatId = null;
  pendingWith = username;
  view.reset(null);
  chatError("");
  mentions.close();
  composer.reset(pendingDrafts.get(username.toLowerCase()) || "");
  uploads.showChat();
  byId("app").dataset.view = "chat";
  show(byId("welcome"), false);
  show(byId("chat-view"), true);
  setText(byId("chat-title"), displayName(username));
  renderHeader();
  show(byId("archive-button"), false);
  show(byId("composer-area"), true);
  show(byId("closed-notice"), false);
  history.render();
  renderTyping();
  notify();
  composer.focus();
}

/** The chat they made while ours had none yet: it takes the conversation's place. */
function adoptStarted() {
  if (pendingWith === null) return;
  const chat = directChatWith(pendingWith);
  if (chat) start(chat);
}

function start(chat) {
  pendingDrafts.delete(pendingWith.toLowerCase());
  pendingWith = null;
  // Opening the chat puts its draft in the composer: let that be what was typed.
  saveDraft(chat.id, composer.value);
  opening = onStarted(chat.id);
}

/** The first message to someone: their direct chat first, opened in the conversation's place. */
async function startChat() {
  const username = pendingWith;
  let chat;
  try {
    chat = await post("/api/chats", { with: username });
  } catch (err) {
    if (err.transient) throw unsent();
    throw err;
  }
  upsertChat(chat, { toTop: true }); // its event may have done it (and `adoptStarted`)
  if (pendingWith === username) start(chat);
  await opening;
  return chat.id;
}

/**
 * The first page of the open chat, retried while the server is away; with `unread`
 * messages waiting, a "new messages" line above the first of them.
 */
async function load(id, token, at, unread = 0) {
  for (let failures = 1; ; failures += 1) {
    try {
      const data = await get(history.firstPath(at));
      if (!history.current(token)) return true;
      if (!getChat(id)) await onStale();
      if (!history.current(token)) return true;
      const chat = getChat(id);
      view.chat = chat || view.chat;
      const newestId = chat && chat.last_message ? chat.last_message.id : null;
      if (at === null) view.unreadFrom = firstUnread(data.messages || [], unread, isMe);
      history.shown(data.messages || [], { at, newestId });
      view.refreshReceipts();
      renderHeader();
      if (at === null || !view.reveal(at)) {
        view.scrollToBottom();
        view.revealUnread();
      }
      markRead();
      history.fill();
      // Opened from a search, the keys stay with the results (the arrows, Escape).
      if (!coarsePointer && at === null) composer.focus();
      return true;
    } catch (err) {
      if (!history.current(token) || err.status === 401) return true;
      if (at !== null && err.status === 404) {
        // The message went (deleted since the search): the chat, as usual.
        chatError("That message is no longer in this chat.");
        at = null;
        history.around = false;
        continue;
      }
      if (!err.transient) {
        closeChat();
        showWelcomeError(err.status === 404 || err.status === 403
          ? "That chat doesn't exist, or you're not a member of it."
          : err.message);
        return false;
      }
      chatError("Can't load messages right now. Retrying…");
      await new Promise((resolve) => setTimeout(resolve, retryDelay(failures)));
      if (!history.current(token)) return true;
    }
  }
}

/** Leave a window of older messages for the chat's latest page. */
async function jumpToLatest() {
  const id = state.openChatId;
  if (id === null) return;
  const token = history.begin(id);
  view.reset(getChat(id) || view.chat);
  history.render();
  await load(id, token, null);
}

export function closeChat() {
  if (state.openChatId !== null && getChat(state.openChatId)) saveDraft(state.openChatId, composer.value);
  keepPendingDraft();
  pendingWith = null;
  history.begin(null);
  state.openChatId = null;
  view.reset(null);
  mentions.close();
  composer.reset("");
  uploads.showChat();
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

/** Tell the server we have read up to the newest message, if the reader can see it. */
export function markRead() {
  const id = state.openChatId;
  // A window of older messages (a search result) has not shown the newest ones yet.
  if (id === null || history.loading || history.detached || document.visibilityState !== "visible") return;
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

/** A send the server did not get: kept in the composer (and its draft) with a Retry. */
function unsent() {
  const failed = new Error("Can't reach the server. Your message is kept here, not sent yet.");
  failed.retry = true;
  return failed;
}

async function send(body, attachments) {
  const id = state.openChatId === null && pendingWith !== null ? await startChat() : state.openChatId;
  // Left for another chat while the first one was being made: not there.
  if (id === null || id !== state.openChatId) throw new Error("Your message was not sent; please try again.");
  let message;
  try {
    message = await post(`/api/chats/${id}/messages`, attachments.length ? { body, attachments } : { body });
  } catch (err) {
    if (err.status === 403 || err.status === 404) onStale();
    if (err.transient) throw unsent();
    throw err;
  }
  clearDraft(id);
  sent(id);
  uploads.sent(id, attachments);
  if (state.openChatId === id) {
    if (history.detached) {
      jumpToLatest(); // one's own message, among the newest: no gap before it
    } else {
      view.append([message], { forceScroll: true });
      history.render();
    }
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

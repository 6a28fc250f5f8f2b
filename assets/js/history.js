// Which stretch of the open chat's history the message list holds, and paging through it.
// A chat opens at its latest page (and pages older on demand), or, from a search result,
// at a window around one message: that window pages older (`before` = its first id) and
// newer (`after` = its last id) until it reaches the newest message. While it is detached
// from the newest, messages arriving live are held, not appended into the gap; they join
// once the window catches up (by scrolling down), or "Jump to latest" loads the newest page.
// The window is bounded (grouping.js MAX_RENDERED): a page loaded at one end drops as many
// messages from the other, which then pages in again like any other, so the list may
// detach from the newest by scrolling up far enough, just as a search result's window does.
// New messages the reader has not scrolled to (below, or held) are counted on that same
// "Jump to latest" pill: "3 new messages".

import { get } from "./api.js";
import { byId, show, setText } from "./dom.js";
import { readerEnd, trimPlan } from "./grouping.js";
import { isMe } from "./store.js";

export const PAGE = 50;
const EDGE_PX = 150; // this close to the top (or bottom) of the panel, the next page loads

export class ChatHistory {
  /** `onError(message)` says what failed; `onAttached()` runs when the window reaches the newest. */
  constructor(view, scroller, { onError, onAttached }) {
    this.view = view;
    this.scroller = scroller;
    this.onError = onError;
    this.onAttached = onAttached;
    this.token = 0;
    this.begin(null);
    scroller.addEventListener("scroll", () => this.atEdge(), { passive: true });
    byId("load-older").addEventListener("click", () => this.older());
    byId("load-newer").addEventListener("click", () => this.newer());
  }

  /**
   * A chat starts loading (`around`: at a message), or none is open (null). Answers a
   * token: an answer that comes back after another begin() is for a chat no longer shown.
   */
  begin(chatId, { around = false } = {}) {
    this.token += 1;
    this.chatId = chatId;
    this.loading = chatId !== null;
    this.around = around;
    this.loadingOlder = false;
    this.loadingNewer = false;
    this.hasOlder = false;
    this.hasNewer = false;
    this.held = new Map(); // id -> message, newer than the window's end
    this.unseen = new Set(); // ids of new messages from others the reader has not scrolled to
    this.highWater = 0; // the newest id the list has held since the chat opened
    return this.token;
  }

  current(token) {
    return token === this.token;
  }

  /** The list does not end at the chat's newest message (or will not, once loaded). */
  get detached() {
    return this.hasNewer || (this.loading && this.around);
  }

  /** What the first load of the chat asks for: its latest page, or the window around `at`. */
  firstPath(at) {
    const id = this.chatId;
    return at === null ? `/api/chats/${id}/messages?limit=${PAGE}` : `/api/chats/${id}/messages?around=${at}&limit=${PAGE}`;
  }

  /**
   * The first load answered. `newestId` is the chat's newest message as the list of chats
   * knows it (null if unknown): a window that ends before it is detached.
   */
  shown(messages, { at = null, newestId = null } = {}) {
    this.view.merge(messages);
    this.loading = false;
    this.noteNewest();
    const first = messages.length ? messages[0].id : null;
    const last = messages.length ? messages[messages.length - 1].id : null;
    if (at === null) {
      this.hasOlder = messages.length >= PAGE;
      this.hasNewer = false;
    } else {
      // Unsure means yes: a page that comes back empty settles it.
      this.hasOlder = first !== null && first < at;
      this.hasNewer = last !== null && (newestId === null ? last > at : last < newestId);
    }
    if (this.hasNewer) this.dropHeld();
    else this.join();
    this.render();
  }

  /**
   * Messages from the stream (new, edited, reacted to): replaced where they show; new ones
   * appended when the list ends at the newest, held while it does not. A message older
   * than the list's first, while older pages remain, is left for paging to bring.
   * Answers whether the list changed.
   */
  live(messages) {
    if (this.loading && !this.around) {
      this.view.merge(messages); // the latest page is still loading; it merges in by id
      return false;
    }
    const shown = [];
    const below = !this.view.isNearBottom();
    for (const m of messages) {
      const news = m.id > this.highWater && !isMe(m.sender);
      if (this.view.has(m.id)) shown.push(m);
      else if (this.detached) {
        this.held.set(m.id, m);
        if (news) this.unseen.add(m.id);
      } else if (!(this.hasOlder && this.view.oldestId !== null && m.id < this.view.oldestId)) {
        shown.push(m);
        if (news && below) this.unseen.add(m.id);
      }
    }
    if (this.detached) this.dropHeld();
    if (!shown.length) {
      this.render();
      return false;
    }
    this.view.upsert(shown);
    this.noteNewest();
    this.trim();
    this.render();
    return true;
  }

  noteNewest() {
    if (this.view.newestId !== null) this.highWater = Math.max(this.highWater, this.view.newestId);
  }

  /**
   * Keeps the window bounded: what is over goes from the end away from the reader, and
   * that end then has more to page in (dropping the newest detaches the window).
   */
  trim(keep = readerEnd(this.scroller)) {
    const dropped = this.view.trim(trimPlan(this.view.messages.length, keep));
    if (dropped.top) this.hasOlder = true;
    if (dropped.bottom) this.hasNewer = true;
  }

  /** A deleted message: gone from the list and from what is held. */
  forget(id) {
    this.held.delete(id);
    this.unseen.delete(id);
    this.view.remove(id);
    this.render();
  }

  /** Held messages the list now reaches (or will never need) go. */
  dropHeld() {
    const newest = this.view.newestId;
    for (const id of this.held.keys()) if (newest !== null && id <= newest) this.held.delete(id);
  }

  /** The list reached the newest message: the held ones join it, after the last page. */
  join() {
    const newest = this.view.newestId;
    const joining = [...this.held.values()].filter((m) => !this.view.has(m.id) && (newest === null || m.id > newest));
    this.held.clear();
    if (!joining.length) return;
    const top = this.scroller.scrollTop;
    this.view.merge(joining);
    this.scroller.scrollTop = top;
  }

  atEdge() {
    const s = this.scroller;
    if (this.unseen.size && !this.detached && this.view.isNearBottom()) {
      this.unseen.clear();
      this.render();
    }
    if (s.scrollTop < EDGE_PX) this.older();
    if (s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX) this.newer();
  }

  /** Page history in while the list does not fill the panel yet. */
  fill() {
    const s = this.scroller;
    if (s.scrollHeight > s.clientHeight + EDGE_PX) return;
    if (this.hasOlder) this.older();
    else if (this.hasNewer) this.newer();
  }

  async older() {
    if (!this.hasOlder || this.loading || this.loadingOlder || this.view.oldestId === null) return;
    const token = this.token;
    this.loadingOlder = true;
    this.render();
    try {
      const data = await get(`/api/chats/${this.chatId}/messages?before=${this.view.oldestId}&limit=${PAGE}`);
      if (token !== this.token) return;
      const messages = data.messages || [];
      this.hasOlder = messages.length >= PAGE;
      this.loadingOlder = false;
      this.render(); // before merging, so the anchor math sees the final layout above the list
      // Timed for the browser suite (performance.getEntriesByName): a page's cost in the DOM.
      const started = performance.now();
      this.view.merge(messages, { keepAnchor: true });
      this.trim("top");
      if (messages.length) performance.measure("kanect:older-page", { start: started, end: performance.now() });
      this.render();
      this.fill();
    } catch (err) {
      if (token === this.token) this.onError(`Couldn't load older messages: ${err.message}`);
    } finally {
      if (token === this.token) {
        this.loadingOlder = false;
        this.render();
      }
    }
  }

  async newer() {
    if (!this.hasNewer || this.loading || this.loadingNewer || this.view.newestId === null) return;
    const token = this.token;
    this.loadingNewer = true;
    this.render();
    try {
      const data = await get(`/api/chats/${this.chatId}/messages?after=${this.view.newestId}&limit=${PAGE}`);
      if (token !== this.token) return;
      const messages = data.messages || [];
      const top = this.scroller.scrollTop;
      this.view.merge(messages);
      this.scroller.scrollTop = top;
      this.noteNewest();
      this.trim("bottom");
      this.loadingNewer = false;
      if (messages.length < PAGE) {
        this.hasNewer = false;
        this.join();
        this.render();
        this.onAttached();
      } else {
        this.dropHeld();
      }
      this.fill();
    } catch (err) {
      if (token === this.token) this.onError(`Couldn't load newer messages: ${err.message}`);
    } finally {
      if (token === this.token) {
        this.loadingNewer = false;
        this.render();
      }
    }
  }

  /** The paging controls and the empty, loading and beginning-of-chat lines. */
  render() {
    const any = this.view.messages.length > 0;
    const older = byId("load-older");
    show(older, !this.loading && this.hasOlder);
    older.disabled = this.loadingOlder;
    setText(older, this.loadingOlder ? "Loading older messages…" : "Load older messages");
    const newer = byId("load-newer");
    show(newer, !this.loading && this.hasNewer);
    newer.disabled = this.loadingNewer;
    setText(newer, this.loadingNewer ? "Loading newer messages…" : "Load newer messages");
    // One pill for both: the newest is not in the list, or new messages are below the reader.
    const news = this.unseen.size;
    show(byId("jump-latest-bar"), !this.loading && (this.hasNewer || news > 0));
    setText(byId("jump-latest-label"), news ? `${news} new message${news === 1 ? "" : "s"}` : "Jump to latest");
    show(byId("history-start"), !this.loading && !this.hasOlder && any);
    show(byId("messages-empty"), !this.loading && !any);
    show(byId("messages-loading"), this.loading);
  }
}

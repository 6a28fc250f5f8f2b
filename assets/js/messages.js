// The message list of the open chat: rendering (formatted bodies, attachments, reactions,
// status of one's own messages, the actions toolbar, the editor in place), day separators, runs
// of messages from one sender (one header and time per run), the "new messages" line, and
// scroll handling (anchored prepends, sticky bottom). Messages are kept by id: an edit, a
// reaction or a delete replaces or drops one. The list changes incrementally: a page goes in
// above or below and only the item at the seam is rebuilt, so a page costs the same at
// message 2,000 as at 50; history.js keeps the window bounded with trim().

import { el, avatarColour, initial, botBadge } from "./dom.js";
import { attachmentsOf } from "./attachments.js";
import { parse, render } from "./format.js";
import { reactionRow, whoReacted } from "./reactions.js";
import { receiptMark } from "./receipts.js";
import { messageToolbar } from "./toolbar.js";
import { clock, dayKey, dayLabel, fullDateTime } from "./time.js";
import { continues as inRun } from "./grouping.js";
import { isMe, isStaff, isBot, state, senderName, avatarUrl } from "./store.js";

const NEAR_BOTTOM_PX = 120;
const FLASH_MS = 2600; // a little longer than the highlight's fade in app.css (.message-flash)
const LONG_PRESS_MS = 450;
const PRESS_SLOP_PX = 10;

// How a body's formatting looks on someone else's bubble (white) and on one's own (indigo).
const STYLE = {
  theirs: {
    link: "text-indigo-700 underline decoration-indigo-300 underline-offset-2 hover:decoration-indigo-700",
    code: "rounded bg-gray-100 px-1 py-0.5 font-mono text-[0.85em]",
    codeblock: "my-1 overflow-x-auto whitespace-pre rounded-lg bg-gray-100 p-2 font-mono text-[0.85em] leading-5",
    quote: "my-1 border-l-4 border-gray-300 pl-2 text-gray-700",
    strike: "text-gray-500",
    mention: "font-semibold text-indigo-700",
    mentionMe: "rounded bg-amber-100 px-0.5 font-semibold text-amber-900",
  },
  mine: {
    link: "underline decoration-white/60 underline-offset-2 hover:decoration-white",
    code: "rounded bg-white/15 px-1 py-0.5 font-mono text-[0.85em]",
    codeblock: "my-1 overflow-x-auto whitespace-pre rounded-lg bg-black/20 p-2 font-mono text-[0.85em] leading-5",
    quote: "my-1 border-l-4 border-white/50 pl-2 text-indigo-50",
    strike: "text-indigo-100",
    mention: "font-semibold underline decoration-white/50 underline-offset-2",
    mentionMe: "font-semibold",
  },
};

export class MessageList {
  /** `actions`: react(m, emoji), toggle(m, emoji), pick(m), edit(m), remove(m), leave(). */
  constructor(scroller, list, actions) {
    this.scroller = scroller;
    this.list = list;
    this.actions = actions;
    this.editing = null; // {id, form}: the message being edited and its editor
    this.reset(null);
    this.watchLongPress();
  }

  reset(chat) {
    this.chat = chat;
    this.messages = [];
    this.ids = new Set();
    this.nodes = new Map(); // id -> the message's <li>
    this.editing = null;
    this.flashing = null;
    this.unreadFrom = null; // the first unread message when the chat opened: the "new messages" line
    clearTimeout(this.flashTimer);
    this.list.replaceChildren();
  }

  get oldestId() {
    return this.messages.length ? this.messages[0].id : null;
  }

  get newestId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : null;
  }

  has(id) {
    return this.ids.has(id);
  }

  get(id) {
    return this.messages.find((m) => m.id === id) || null;
  }

  /** The reader's newest message, for "edit the last one" (ArrowUp in the composer). */
  lastOwn() {
    for (let i = this.messages.length - 1; i >= 0; i -= 1) if (isMe(this.messages[i].sender)) return this.messages[i];
    return null;
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** After opening at the bottom: if the "new messages" line went above the panel, it goes to the top. */
  revealUnread() {
    const line = this.list.querySelector("li[data-unread-line]");
    if (!line) return;
    const s = this.scroller;
    const top = line.getBoundingClientRect().top - s.getBoundingClientRect().top + s.scrollTop;
    if (top < s.scrollTop) s.scrollTop = Math.max(0, top - 8);
  }

  /** Scrolls message `id` to the middle of the panel and highlights it for a moment. */
  reveal(id) {
    const node = this.nodeOf(id);
    if (!node) return false;
    const s = this.scroller;
    const top = node.getBoundingClientRect().top - s.getBoundingClientRect().top + s.scrollTop;
    s.scrollTop = Math.max(0, top - Math.max(0, s.clientHeight - node.offsetHeight) / 2);
    clearTimeout(this.flashTimer);
    for (const lit of this.list.querySelectorAll(".message-flash")) lit.classList.remove("message-flash");
    this.flashing = id;
    node.classList.add("message-flash");
    this.flashTimer = setTimeout(() => {
      this.flashing = null;
      const lit = this.nodeOf(id);
      if (lit) lit.classList.remove("message-flash");
    }, FLASH_MS);
    return true;
  }

  /**
   * Merge messages in by id: a known one is replaced where it is; new ones older than the
   * list go in above it (`keepAnchor`: what the reader sees stays put), newer ones below;
   * only new ones in between rebuild the list. Answers how many were new.
   */
  merge(messages, { keepAnchor = false } = {}) {
    if (!messages.length) return 0;
    const fresh = [];
    for (const m of messages) {
      if (!this.ids.has(m.id)) fresh.push(m);
      else this.replace(m);
    }
    if (!fresh.length) return 0;
    fresh.sort((a, b) => a.id - b.id);
    const unique = fresh.filter((m, i) => i === 0 || fresh[i - 1].id !== m.id);
    // Pages of history are not news: screen readers hear only what append() brings.
    if (this.oldestId === null || unique[unique.length - 1].id < this.oldestId) this.quietly(() => this.prepend(unique, { keepAnchor }));
    else if (unique[0].id > this.newestId) this.quietly(() => this.appendPage(unique));
    else {
      const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
      for (const m of unique) this.ids.add(m.id);
      this.messages = [...this.messages, ...unique].sort((a, b) => a.id - b.id);
      this.renderAll();
      if (keepAnchor) this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    }
    return unique.length;
  }

  /** Runs `change` with the live region quiet (until the next frame, when it listens again). */
  quietly(change) {
    this.list.setAttribute("aria-live", "off");
    this.list.setAttribute("aria-busy", "true");
    try {
      change();
    } finally {
      this.list.removeAttribute("aria-busy");
      requestAnimationFrame(() => this.list.setAttribute("aria-live", "polite"));
    }
  }

  /** Known message `m` changed (an edit, a reaction): its item is rebuilt where it is. */
  replace(m) {
    const i = this.messages.findIndex((x) => x.id === m.id);
    if (i < 0 || JSON.stringify(this.messages[i]) === JSON.stringify(m)) return; // our own answer, again
    this.messages[i] = m;
    this.replaceItem(m);
  }

  /** Older messages (all before the first shown) go in above; only the old first item may change. */
  prepend(older, { keepAnchor = false } = {}) {
    const s = this.scroller;
    const fromBottom = s.scrollHeight - s.scrollTop;
    const first = this.messages[0] || null;
    const nodes = [];
    let prev = null;
    for (const m of older) {
      nodes.push(...this.itemsFor(m, prev));
      prev = m;
      this.ids.add(m.id);
    }
    this.messages = [...older, ...this.messages];
    if (first) {
      // The old first message now follows `prev`: its day line may go, it may join prev's run.
      const head = this.list.firstElementChild;
      if (head && head.dataset.day && head.dataset.day === dayKey(prev.created_at)) head.remove();
      if (this.continues(prev, first)) this.replaceItem(first);
    }
    this.list.prepend(...nodes);
    this.refreshReceipts();
    if (keepAnchor) s.scrollTop = s.scrollHeight - fromBottom;
  }

  /** Newer messages (all after the last shown) go in below; the scroll position stays. */
  appendPage(newer) {
    let prev = this.messages[this.messages.length - 1] || null;
    const nodes = [];
    for (const m of newer) {
      nodes.push(...this.itemsFor(m, prev));
      prev = m;
      this.ids.add(m.id);
      this.messages.push(m);
    }
    this.list.append(...nodes);
    this.refreshReceipts();
  }

  /** Add new messages at the end; scrolls along only if the reader was near the bottom. */
  append(messages, { forceScroll = false } = {}) {
    const fresh = messages.filter((m) => !this.ids.has(m.id)).sort((a, b) => a.id - b.id);
    if (!fresh.length) return 0;
    if (this.newestId !== null && fresh[0].id < this.newestId) return this.merge(fresh);
    const stick = forceScroll || this.isNearBottom();
    this.appendPage(fresh);
    if (stick) this.scrollToBottom();
    return fresh.length;
  }

  /**
   * Drops `top` messages from the start of the list and `bottom` from its end (the far
   * side of where the reader is: paging brings them back), keeping what the reader sees
   * where it is. The message being edited is never dropped. Answers what was dropped.
   */
  trim(counts) {
    let dropped = { top: 0, bottom: 0 };
    if (counts.top || counts.bottom) this.quietly(() => (dropped = this.cut(counts)));
    return dropped;
  }

  cut({ top = 0, bottom = 0 }) {
    const editing = this.editing ? this.messages.findIndex((m) => m.id === this.editing.id) : -1;
    if (editing >= 0) {
      top = Math.min(top, editing);
      bottom = Math.min(bottom, this.messages.length - 1 - editing);
    }
    top = Math.max(0, Math.min(top, this.messages.length));
    bottom = Math.max(0, Math.min(bottom, this.messages.length - top));
    if (top) {
      const s = this.scroller;
      const height = s.scrollHeight;
      const keep = this.messages[top] || null;
      const stop = keep ? this.nodeOf(keep.id) : null;
      for (const m of this.messages.slice(0, top)) this.forgetNode(m.id);
      while (this.list.firstChild && this.list.firstChild !== stop) this.list.firstChild.remove();
      this.messages = this.messages.slice(top);
      if (keep) {
        // The first kept message gets a day line (and its run's header) of its own.
        stop.before(daySeparator(keep.created_at), ...(keep.id === this.unreadFrom ? [unreadLine()] : []));
        this.replaceItem(keep);
      }
      s.scrollTop -= height - s.scrollHeight;
    }
    if (bottom) {
      const gone = this.messages.slice(this.messages.length - bottom);
      // The lines just above the first dropped message (its day, "new messages") go with it.
      let cut = this.nodeOf(gone[0].id);
      while (cut && cut.previousElementSibling && !cut.previousElementSibling.dataset.id) cut = cut.previousElementSibling;
      while (cut && cut.nextSibling) cut.nextSibling.remove();
      if (cut) cut.remove();
      for (const m of gone) this.forgetNode(m.id);
      this.messages = this.messages.slice(0, this.messages.length - bottom);
    }
    if (top || bottom) this.refreshReceipts();
    return { top, bottom };
  }

  forgetNode(id) {
    this.ids.delete(id);
    this.nodes.delete(id);
    if (this.editing && this.editing.id === id) this.editing = null;
  }

  /** Messages from the stream: new ones go in, known ones are replaced where they are. */
  upsert(messages) {
    const fresh = [];
    const stick = this.isNearBottom();
    for (const m of messages) {
      if (!this.ids.has(m.id)) fresh.push(m);
      else this.replace(m);
    }
    if (fresh.length) this.append(fresh);
    this.refreshReceipts();
    if (stick) this.scrollToBottom();
  }

  /** A deleted message leaves the list (and its editor, if it was being edited); its neighbours mend. */
  remove(id) {
    if (!this.ids.has(id)) return false;
    const i = this.messages.findIndex((m) => m.id === id);
    const node = this.nodeOf(id);
    const stick = this.isNearBottom();
    const top = this.scroller.scrollTop;
    const [gone] = this.messages.splice(i, 1);
    this.forgetNode(id);
    const next = this.messages[i] || null;
    const dayGoesOn = Boolean(next) && dayKey(next.created_at) === dayKey(gone.created_at);
    if (node) {
      const above = node.previousElementSibling;
      node.remove();
      // Lines right above it lead to the next message of its day; with none, they go too.
      if (!dayGoesOn) {
        for (let line = above; line && !line.dataset.id;) {
          const up = line.previousElementSibling;
          line.remove();
          line = up;
        }
      }
    }
    if (id === this.unreadFrom) this.unreadFrom = dayGoesOn ? next.id : null;
    if (next) this.replaceItem(next); // it may now start a run, or continue the one before
    this.refreshReceipts();
    if (stick) this.scrollToBottom();
    else this.scroller.scrollTop = top;
    return true;
  }

  nodeOf(id) {
    return this.nodes.get(id) || null;
  }

  /** Rebuilds one message's item in place; a button that had focus keeps it. */
  replaceItem(m) {
    const node = this.nodeOf(m.id);
    if (!node) return;
    const focused = node.contains(document.activeElement) ? sameControl(document.activeElement) : null;
    const fresh = this.messageItem(m, this.continues(this.previous(m.id), m));
    if (node.dataset.actions) fresh.dataset.actions = node.dataset.actions; // a long press's, still open
    // A reaction or an edit is no new message: screen readers should not read it out again.
    this.list.setAttribute("aria-live", "off");
    node.replaceWith(fresh);
    requestAnimationFrame(() => this.list.setAttribute("aria-live", "polite"));
    const again = focused && fresh.querySelector(focused);
    if (again) again.focus({ preventScroll: true });
  }

  /** Shows `form` in place of message `id`'s bubble until stopEditing(). */
  startEditing(id, form) {
    this.stopEditing();
    const m = this.get(id);
    if (!m) return;
    this.editing = { id, form };
    this.replaceItem(m);
    form.focusEditor();
  }

  stopEditing() {
    if (!this.editing) return;
    const { id } = this.editing;
    this.editing = null;
    const m = this.get(id);
    if (m) this.replaceItem(m);
    this.refreshReceipts();
  }

  previous(id) {
    const i = this.messages.findIndex((m) => m.id === id);
    return i > 0 ? this.messages[i - 1] : null;
  }

  renderAll() {
    // A rebuild is not news: keep screen readers from announcing the whole history.
    const editorHadFocus = this.editing && this.editing.form.contains(document.activeElement);
    this.quietly(() => {
      const nodes = [];
      let prev = null;
      for (const m of this.messages) {
        nodes.push(...this.itemsFor(m, prev));
        prev = m;
      }
      this.list.replaceChildren(...nodes);
      this.refreshReceipts();
      if (editorHadFocus) this.editing.form.focusEditor();
    });
  }

  /** One run of a sender's messages: after the "new messages" line a new one starts. */
  continues(prev, m) {
    return m.id !== this.unreadFrom && inRun(prev, m);
  }

  itemsFor(m, prev) {
    const items = [];
    if (!prev || dayKey(prev.created_at) !== dayKey(m.created_at)) items.push(daySeparator(m.created_at));
    if (m.id === this.unreadFrom) items.push(unreadLine());
    items.push(this.messageItem(m, this.continues(prev, m)));
    return items;
  }

  /**
   * The status marks of the reader's own messages, from the chat's receipts: changed
   * ones only. In a group "Seen by" goes on the last message of each of one's runs.
   */
  refreshReceipts() {
    const chat = this.chat;
    this.messages.forEach((m, i) => {
      if (!isMe(m.sender)) return;
      const li = this.nodeOf(m.id);
      const slot = li && li.querySelector("[data-receipt-slot]");
      if (!slot) return;
      const next = this.messages[i + 1];
      const showSeen = !next || !isMe(next.sender);
      const { key, build } = receiptMark(m, chat, { showSeen, onSeen: (button, names) => this.toggleSeen(m.id, button, names) });
      if (slot.dataset.key === key) return;
      slot.dataset.key = key;
      const node = build();
      slot.replaceChildren(...(node ? [slot.dataset.after === undefined ? "" : " · ", node] : []));
    });
  }

  /** The names behind "Seen by N", under the message (a tap shows what a hover would). */
  toggleSeen(id, button, names) {
    const li = this.nodeOf(id);
    const details = li && li.querySelector("[data-seen-names]");
    if (!details) return;
    const open = details.hidden;
    details.replaceChildren(...(open ? ["Seen by ", ...names.flatMap((n, i) => [i ? ", " : "", el("span", { dir: "auto", text: n })])] : []));
    details.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  permissions(m) {
    const chat = this.chat;
    const open = Boolean(chat) && chat.status !== "closed";
    const mine = isMe(m.sender);
    return { react: open, edit: open && mine, remove: open && (mine || isStaff()) };
  }

  messageItem(m, continues) {
    const mine = isMe(m.sender);
    const group = Boolean(this.chat) && this.chat.kind === "group";
    const showSender = !mine && !continues && group;
    const editing = this.editing && this.editing.id === m.id;
    const style = mine ? STYLE.mine : STYLE.theirs;
    const mentionsMe = !mine && (m.mentions || []).some(isMe);
    const bubble = mine
      ? "rounded-2xl rounded-br-md bg-indigo-600 text-white"
      : `rounded-2xl rounded-bl-md border bg-white text-gray-900 ${mentionsMe ? "border-amber-300 ring-2 ring-amber-200" : "border-gray-200"}`;
    const can = this.permissions(m);
    const tree = parse(m.body, { mentions: m.mentions || [], me: state.me.username, all: group });
    const files = attachmentsOf(m, { mine });
    const text = Boolean(m.body.trim()) || !files; // a message of files only has no bubble
    const time = el("time", {
      class: continues
        ? `pointer-events-none absolute top-1/2 -translate-y-1/2 whitespace-nowrap text-[11px] text-gray-500 opacity-0 transition-opacity group-hover/message:opacity-100 group-focus-within/message:opacity-100 group-data-[actions=open]/message:opacity-100 ${mine ? "right-full mr-2" : "left-full ml-2"}`
        : "",
      datetime: m.created_at,
      title: fullDateTime(m.created_at),
      text: clock(m.created_at),
    });
    const notes = [
      m.edited_at ? el("span", { text: "edited", title: fullDateTime(m.edited_at), "data-edited": true }) : null,
      // Not written by the sender: a staff member added it in their name.
      m.added_by
        ? el(
            "span",
            { class: "font-medium text-amber-700", "data-added-by": true },
            "added by ",
            el("span", { dir: "auto", text: m.added_by }),
            " in the admin console",
          )
        : null,
    ].filter(Boolean);
    const item = el(
      "li",
      {
        class: `group/message relative flex ${mine ? "justify-end" : "justify-start"} ${continues ? "mt-0.5" : "mt-3"}${this.flashing === m.id ? " message-flash" : ""}`,
        dataset: { id: m.id, sender: m.sender, ...(mentionsMe ? { mentionsMe: "" } : {}), ...(editing ? { editing: "" } : {}) },
      },
      el(
        "div",
        { class: `relative flex min-w-0 max-w-[85%] flex-col sm:max-w-[70%] ${mine ? "items-end" : "items-start"}` },
        // A run's first message carries its header: the sender (in a group) and the time, once.
        continues
          ? null
          : el(
              "div",
              { class: "mb-0.5 flex items-baseline gap-1.5 px-1 text-xs text-gray-500", "data-run-head": true },
              showSender ? senderAvatar(m) : null,
              showSender ? el("span", { class: "font-semibold text-gray-600", dir: "auto", text: senderName(m), title: m.sender }) : null,
              showSender && isBot(m.sender) ? botBadge() : null,
              time,
            ),
        editing
          ? this.editing.form
          : text
            ? el(
                "div",
                { class: `${bubble} max-w-full whitespace-pre-wrap break-words px-3.5 py-2 shadow-sm [overflow-wrap:anywhere] [@media(pointer:coarse)]:select-none` },
                mine ? null : el("span", { class: "sr-only", dir: "auto", text: `${senderName(m)}: ` }),
                el("span", { class: "block", dir: "auto", "data-message-body": true }, ...render(tree, style)),
              )
            : null,
        files && !text && !mine ? el("span", { class: "sr-only", dir: "auto", text: `${senderName(m)}: ` }) : null,
        files ? el("div", { class: `${text || editing ? "mt-1" : ""} max-w-full` }, files) : null,
        reactionRow(m, { onToggle: this.actions.toggle, disabled: !can.react }),
        reactionNames(m),
        notes.length || mine
          ? el(
              "span",
              { class: "mt-0.5 px-1 text-[11px] text-gray-500" },
              ...notes.flatMap((note, i) => (i ? [" · ", note] : [note])),
              mine ? el("span", { "data-receipt-slot": true, ...(notes.length ? { dataset: { after: "" } } : {}) }) : null,
            )
          : null,
        // Later messages of a run show their time on hover, focus or a long press, beside the bubble.
        continues ? time : null,
        mine ? el("p", { class: "px-1 text-[11px] text-gray-500", "data-seen-names": true, hidden: true }) : null,
        editing ? null : messageToolbar(m, mine, can, this.actions),
      ),
    );
    this.nodes.set(m.id, item);
    return item;
  }

  /** Touch: a long press on a message shows its actions (and who reacted), until a tap elsewhere. */
  watchLongPress() {
    let timer = null;
    let start = null;
    let pressed = null;
    let opened = false; // this touch's press opened the actions
    const cancel = () => {
      clearTimeout(timer);
      timer = null;
    };
    this.list.addEventListener("pointerdown", (e) => {
      if (e.pointerType === "mouse") return;
      const li = e.target.closest("li[data-id]");
      const control = e.target.closest("button, a, textarea, input, [role=toolbar]");
      if (!li || (control && !control.closest("[data-attachments]"))) return; // a file is pressed like the text
      start = { x: e.clientX, y: e.clientY };
      cancel();
      timer = setTimeout(() => {
        timer = null;
        this.closeActions();
        li.dataset.actions = "open";
        pressed = li;
        opened = true;
      }, LONG_PRESS_MS);
    });
    this.list.addEventListener("pointermove", (e) => {
      if (timer && start && Math.hypot(e.clientX - start.x, e.clientY - start.y) > PRESS_SLOP_PX) cancel();
    });
    for (const type of ["pointerup", "pointercancel", "pointerleave"]) this.list.addEventListener(type, cancel);
    // The press that opened the actions is not also a click (on the toolbar that has just
    // appeared under the finger), nor the browser's menu.
    this.list.addEventListener("touchstart", () => {
      opened = false;
    }, { passive: true });
    this.list.addEventListener("touchend", (e) => {
      if (opened) e.preventDefault();
      opened = false;
    });
    this.list.addEventListener("contextmenu", (e) => {
      if (pressed && pressed.contains(e.target)) e.preventDefault();
    });
    document.addEventListener("pointerdown", (e) => {
      const open = this.list.querySelector("li[data-actions=open]");
      if (open && !open.contains(e.target)) this.closeActions();
      if (!open) pressed = null;
    });
  }

  closeActions() {
    for (const li of this.list.querySelectorAll("li[data-actions=open]")) delete li.dataset.actions;
  }
}

/** A selector for the same control in a rebuilt item (a toolbar button, a reaction chip). */
function sameControl(node) {
  for (const key of ["quick", "action", "emoji", "receipt"]) {
    const value = node.dataset ? node.dataset[key] : undefined;
    if (value !== undefined) return `[data-${key}="${CSS.escape(value)}"]`;
  }
  return null;
}

/** Who reacted with what, in words: shown under the message after a long press. */
function reactionNames(m) {
  const reactions = (m.reactions || []).filter((r) => r.users && r.users.length);
  if (!reactions.length) return null;
  return el(
    "p",
    { class: "hidden px-1 pt-0.5 text-[11px] text-gray-600 group-data-[actions=open]/message:block", "data-reaction-names": true },
    ...reactions.flatMap((r, i) => [i ? " · " : "", `${r.emoji} `, el("span", { dir: "auto", text: whoReacted(r.users) })]),
  );
}

function daySeparator(iso) {
  return el(
    "li",
    { class: "my-4 flex items-center gap-3 text-xs font-medium text-gray-500", dataset: { day: dayKey(iso) } },
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
    el("span", { class: "shrink-0 rounded-full bg-gray-100 px-3 py-0.5 text-gray-600", text: dayLabel(iso) }),
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
  );
}

/** Where the reader had read up to when the chat opened. */
function unreadLine() {
  return el(
    "li",
    { class: "my-3 flex items-center gap-3 text-xs font-semibold text-red-700", dataset: { unreadLine: "" } },
    el("span", { class: "h-px flex-1 bg-red-300", "aria-hidden": "true" }),
    el("span", { class: "shrink-0", text: "New messages" }),
    el("span", { class: "h-px flex-1 bg-red-300", "aria-hidden": "true" }),
  );
}

/** The small picture (or initials) beside a sender's name at the head of their run. */
function senderAvatar(m) {
  const url = avatarUrl(m.sender) || m.sender_avatar_url;
  const size = "h-5 w-5 shrink-0 self-center rounded-full";
  if (url) return el("img", { src: url, alt: "", class: `${size} object-cover`, "data-sender-avatar": m.sender });
  return el("span", {
    class: `${size} flex items-center justify-center text-[10px] font-semibold ${avatarColour(m.sender)}`,
    "aria-hidden": "true",
    dir: "auto",
    text: initial(senderName(m)),
  });
}

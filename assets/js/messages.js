// The message list of the open chat: rendering (formatted bodies, attachments, reactions,
// status of one's own messages, the actions toolbar, the editor in place), day separators, runs
// of messages from one sender, and scroll handling (anchored prepends, sticky bottom).
// Messages are kept by id: an edit, a reaction or a delete replaces or drops one.

import { el } from "./dom.js";
import { attachmentsOf } from "./attachments.js";
import { parse, render } from "./format.js";
import { reactionRow, whoReacted } from "./reactions.js";
import { receiptMark } from "./receipts.js";
import { messageToolbar } from "./toolbar.js";
import { clock, dayKey, dayLabel, fullDateTime, withinMinutes } from "./time.js";
import { isMe, isStaff, state } from "./store.js";

const NEAR_BOTTOM_PX = 120;
const FLASH_MS = 2600; // a little longer than the highlight's fade in app.css (.message-flash)
const RUN_MINUTES = 5;
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
    this.editing = null;
    this.flashing = null;
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

  /** Merge messages in (by id: a known one is replaced, kept in id order) and rebuild the list. */
  merge(messages, { keepAnchor = false } = {}) {
    if (!messages.length) return 0;
    const byId = new Map(this.messages.map((m) => [m.id, m]));
    let fresh = 0;
    for (const m of messages) {
      if (!byId.has(m.id)) fresh += 1;
      byId.set(m.id, m);
      this.ids.add(m.id);
    }
    this.messages = [...byId.values()].sort((a, b) => a.id - b.id);
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.renderAll();
    if (keepAnchor) this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    return fresh;
  }

  /** Add new messages at the end; scrolls along only if the reader was near the bottom. */
  append(messages, { forceScroll = false } = {}) {
    const fresh = messages.filter((m) => !this.ids.has(m.id)).sort((a, b) => a.id - b.id);
    if (!fresh.length) return 0;
    if (this.newestId !== null && fresh[0].id < this.newestId) return this.merge(fresh);
    const stick = forceScroll || this.isNearBottom();
    let prev = this.messages[this.messages.length - 1] || null;
    const nodes = [];
    for (const m of fresh) {
      nodes.push(...this.itemsFor(m, prev));
      prev = m;
      this.ids.add(m.id);
      this.messages.push(m);
    }
    this.list.append(...nodes);
    this.refreshReceipts();
    if (stick) this.scrollToBottom();
    return fresh.length;
  }

  /** Messages from the stream: new ones go in, known ones are replaced where they are. */
  upsert(messages) {
    const fresh = [];
    const stick = this.isNearBottom();
    for (const m of messages) {
      if (!this.ids.has(m.id)) {
        fresh.push(m);
        continue;
      }
      const i = this.messages.findIndex((x) => x.id === m.id);
      if (JSON.stringify(this.messages[i]) === JSON.stringify(m)) continue; // our own answer, again
      this.messages[i] = m;
      this.replaceItem(m);
    }
    if (fresh.length) this.append(fresh);
    this.refreshReceipts();
    if (stick) this.scrollToBottom();
  }

  /** A deleted message leaves the list (and its editor, if it was being edited). */
  remove(id) {
    if (!this.ids.has(id)) return false;
    this.ids.delete(id);
    this.messages = this.messages.filter((m) => m.id !== id);
    if (this.editing && this.editing.id === id) this.editing = null;
    const stick = this.isNearBottom();
    const top = this.scroller.scrollTop;
    this.renderAll();
    if (stick) this.scrollToBottom();
    else this.scroller.scrollTop = top;
    return true;
  }

  nodeOf(id) {
    return this.list.querySelector(`li[data-id="${id}"]`);
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
    this.list.setAttribute("aria-live", "off");
    this.list.setAttribute("aria-busy", "true");
    const nodes = [];
    let prev = null;
    for (const m of this.messages) {
      nodes.push(...this.itemsFor(m, prev));
      prev = m;
    }
    this.list.replaceChildren(...nodes);
    this.refreshReceipts();
    if (editorHadFocus) this.editing.form.focusEditor();
    this.list.removeAttribute("aria-busy");
    requestAnimationFrame(() => this.list.setAttribute("aria-live", "polite"));
  }

  continues(prev, m) {
    return Boolean(prev) && dayKey(prev.created_at) === dayKey(m.created_at) && prev.sender === m.sender
      && withinMinutes(prev.created_at, m.created_at, RUN_MINUTES);
  }

  itemsFor(m, prev) {
    const items = [];
    if (!prev || dayKey(prev.created_at) !== dayKey(m.created_at)) items.push(daySeparator(m.created_at));
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
      const slot = this.list.querySelector(`li[data-id="${m.id}"] [data-receipt-slot]`);
      if (!slot) return;
      const next = this.messages[i + 1];
      const showSeen = !next || !isMe(next.sender);
      const { key, node } = receiptMark(m, chat, { showSeen, onSeen: (button, names) => this.toggleSeen(m.id, button, names) });
      if (slot.dataset.key === key) return;
      slot.dataset.key = key;
      slot.replaceChildren(...(node ? [" · ", node] : []));
    });
  }

  /** The names behind "Seen by N", under the message (a tap shows what a hover would). */
  toggleSeen(id, button, names) {
    const details = this.list.querySelector(`li[data-id="${id}"] [data-seen-names]`);
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
    return el(
      "li",
      {
        class: `group/message relative flex ${mine ? "justify-end" : "justify-start"} ${continues ? "mt-0.5" : "mt-3"}${this.flashing === m.id ? " message-flash" : ""}`,
        dataset: { id: m.id, sender: m.sender, ...(mentionsMe ? { mentionsMe: "" } : {}), ...(editing ? { editing: "" } : {}) },
      },
      el(
        "div",
        { class: `relative flex min-w-0 max-w-[85%] flex-col sm:max-w-[70%] ${mine ? "items-end" : "items-start"}` },
        showSender ? el("span", { class: "mb-0.5 px-1 text-xs font-semibold text-gray-600", dir: "auto", text: m.sender }) : null,
        editing
          ? this.editing.form
          : text
            ? el(
                "div",
                { class: `${bubble} max-w-full whitespace-pre-wrap break-words px-3.5 py-2 shadow-sm [overflow-wrap:anywhere] [@media(pointer:coarse)]:select-none` },
                mine ? null : el("span", { class: "sr-only", dir: "auto", text: `${m.sender}: ` }),
                el("span", { class: "block", dir: "auto", "data-message-body": true }, ...render(tree, style)),
              )
            : null,
        files && !text && !mine ? el("span", { class: "sr-only", dir: "auto", text: `${m.sender}: ` }) : null,
        files ? el("div", { class: `${text || editing ? "mt-1" : ""} max-w-full` }, files) : null,
        reactionRow(m, { onToggle: this.actions.toggle, disabled: !can.react }),
        reactionNames(m),
        el(
          "span",
          { class: "mt-0.5 px-1 text-[11px] text-gray-500" },
          el("time", { datetime: m.created_at, title: fullDateTime(m.created_at), text: clock(m.created_at) }),
          m.edited_at ? el("span", { text: " · edited", title: fullDateTime(m.edited_at), "data-edited": true }) : null,
          // Not written by the sender: a staff member added it in their name.
          m.added_by
            ? el(
                "span",
                { class: "font-medium text-amber-700", "data-added-by": true },
                " · added by ",
                el("span", { dir: "auto", text: m.added_by }),
                " in the admin console",
              )
            : null,
          mine ? el("span", { "data-receipt-slot": true }) : null,
        ),
        mine ? el("p", { class: "px-1 text-[11px] text-gray-500", "data-seen-names": true, hidden: true }) : null,
        editing ? null : messageToolbar(m, mine, can, this.actions),
      ),
    );
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
    { class: "my-4 flex items-center gap-3 text-xs font-medium text-gray-500" },
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
    el("span", { class: "shrink-0 rounded-full bg-gray-100 px-3 py-0.5 text-gray-600", text: dayLabel(iso) }),
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
  );
}

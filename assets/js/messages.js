// The message list of the open chat: rendering, day separators, runs of messages
// from one sender, and scroll handling (anchored prepends, sticky bottom).

import { el, linkified } from "./dom.js";
import { clock, dayKey, dayLabel, fullDateTime, withinMinutes } from "./time.js";
import { isMe } from "./store.js";

const NEAR_BOTTOM_PX = 120;
const RUN_MINUTES = 5;

export class MessageList {
  constructor(scroller, list) {
    this.scroller = scroller;
    this.list = list;
    this.reset(null);
  }

  reset(chat) {
    this.chat = chat;
    this.messages = [];
    this.ids = new Set();
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

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  /** Merge messages in (deduped by id, kept in id order) and rebuild the list. */
  merge(messages, { keepAnchor = false } = {}) {
    const fresh = messages.filter((m) => !this.ids.has(m.id));
    if (!fresh.length) return 0;
    for (const m of fresh) this.ids.add(m.id);
    this.messages = this.messages.concat(fresh).sort((a, b) => a.id - b.id);
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    this.renderAll();
    if (keepAnchor) this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    return fresh.length;
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
    if (stick) this.scrollToBottom();
    return fresh.length;
  }

  renderAll() {
    // A rebuild is not news: keep screen readers from announcing the whole history.
    this.list.setAttribute("aria-live", "off");
    this.list.setAttribute("aria-busy", "true");
    const nodes = [];
    let prev = null;
    for (const m of this.messages) {
      nodes.push(...this.itemsFor(m, prev));
      prev = m;
    }
    this.list.replaceChildren(...nodes);
    this.list.removeAttribute("aria-busy");
    requestAnimationFrame(() => this.list.setAttribute("aria-live", "polite"));
  }

  itemsFor(m, prev) {
    const items = [];
    const newDay = !prev || dayKey(prev.created_at) !== dayKey(m.created_at);
    if (newDay) items.push(daySeparator(m.created_at));
    const continues = !newDay && prev.sender === m.sender && withinMinutes(prev.created_at, m.created_at, RUN_MINUTES);
    items.push(this.messageItem(m, continues));
    return items;
  }

  messageItem(m, continues) {
    const mine = isMe(m.sender);
    const showSender = !mine && !continues && this.chat && this.chat.kind === "group";
    const bubble = mine
      ? "rounded-2xl rounded-br-md bg-indigo-600 text-white"
      : "rounded-2xl rounded-bl-md border border-gray-200 bg-white text-gray-900";
    const linkClass = mine
      ? "underline decoration-white/60 underline-offset-2 hover:decoration-white"
      : "text-indigo-700 underline decoration-indigo-300 underline-offset-2 hover:decoration-indigo-700";
    return el(
      "li",
      { class: `flex ${mine ? "justify-end" : "justify-start"} ${continues ? "mt-0.5" : "mt-3"}`, dataset: { id: m.id, sender: m.sender } },
      el(
        "div",
        { class: `flex min-w-0 max-w-[85%] flex-col sm:max-w-[70%] ${mine ? "items-end" : "items-start"}` },
        showSender ? el("span", { class: "mb-0.5 px-1 text-xs font-semibold text-gray-600", dir: "auto", text: m.sender }) : null,
        el(
          "div",
          { class: `${bubble} max-w-full whitespace-pre-wrap break-words px-3.5 py-2 shadow-sm [overflow-wrap:anywhere]` },
          mine ? null : el("span", { class: "sr-only", dir: "auto", text: `${m.sender}: ` }),
          el("span", { class: "block", dir: "auto", "data-message-body": true }, ...linkified(m.body, linkClass)),
        ),
        el(
          "span",
          { class: "mt-0.5 px-1 text-[11px] text-gray-400" },
          el("time", { datetime: m.created_at, title: fullDateTime(m.created_at), text: clock(m.created_at) }),
          m.edited_at ? el("span", { text: " · edited", title: fullDateTime(m.edited_at) }) : null,
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
        ),
      ),
    );
  }
}

function daySeparator(iso) {
  return el(
    "li",
    { class: "my-4 flex items-center gap-3 text-xs font-medium text-gray-500" },
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
    el("span", { class: "shrink-0 rounded-full bg-gray-100 px-3 py-0.5", text: dayLabel(iso) }),
    el("span", { class: "h-px flex-1 bg-gray-200", "aria-hidden": "true" }),
  );
}

// The message composer: Enter sends, Shift+Enter adds a line (or, when the person chose
// so, `enterSends()` false: Enter adds a line and Ctrl/Cmd+Enter sends), the box grows to six
// lines (by its rows attribute, so no inline styles), and a counter near the limit.
// `onKey(e)` sees each key first (the mention list takes arrows and Enter while open)
// and answers true when it handled it; `onInput(text)` hears each change a person made.
// `files` tells what is attached: ids() the finished uploads, busy() whether any is still
// uploading. A message may be only files; it waits for uploads to finish.

import { el, show, setText } from "./dom.js";

export const MAX_LENGTH = 4000;
const COUNTER_FROM = MAX_LENGTH - 500;
const MAX_ROWS = 6;

const length = (text) => [...text].length; // characters, as the server counts them

const NO_FILES = { ids: () => [], busy: () => false };

export function setupComposer({
  form, input, button, counter, error, onSend, onKey = () => false, onInput = () => {}, files = NO_FILES,
  enterSends = () => true,
}) {
  let sending = false;

  function autosize() {
    input.rows = 1;
    const cs = getComputedStyle(input);
    const line = parseFloat(cs.lineHeight) || 24;
    const padding = parseFloat(cs.paddingTop) + parseFloat(cs.paddingBottom);
    const lines = Math.round((input.scrollHeight - padding) / line);
    input.rows = Math.max(1, Math.min(MAX_ROWS, lines));
  }

  function updateCounter() {
    const n = length(input.value.trim());
    const over = n > MAX_LENGTH;
    show(counter, n >= COUNTER_FROM);
    counter.classList.toggle("text-red-600", over);
    counter.classList.toggle("text-gray-500", !over);
    setText(counter, over ? `${n - MAX_LENGTH} characters too long` : `${MAX_LENGTH - n} characters left`);
    button.disabled = sending || over || files.busy() || (n === 0 && files.ids().length === 0);
  }

  /** `retry`: the send failed on the way (the server away); a button sends it again. */
  function showError(message, { retry = false } = {}) {
    const again = retry
      ? el("button", { type: "button", class: "ml-2 font-semibold text-red-700 underline underline-offset-2", "data-retry": true, on: { click: submit } }, "Retry")
      : null;
    error.replaceChildren(...(message ? [message] : []), ...(again ? [again] : []));
    show(error, Boolean(message));
  }

  async function submit() {
    if (sending) return;
    const body = input.value.trim();
    if (files.busy()) {
      showError("Wait for the files to finish uploading, or cancel them.");
      return;
    }
    const ids = files.ids();
    if (!body && !ids.length) {
      input.focus();
      return;
    }
    if (length(body) > MAX_LENGTH) {
      showError(`Messages can be at most ${MAX_LENGTH} characters.`);
      return;
    }
    sending = true;
    input.readOnly = true;
    input.setAttribute("aria-busy", "true");
    updateCounter();
    showError("");
    try {
      await onSend(body, ids);
      input.value = "";
      onInput("");
    } catch (err) {
      // Keep what was typed so nothing is lost; say why it failed.
      showError(err && err.message ? err.message : "Your message could not be sent. Please try again.", { retry: Boolean(err && err.retry) });
    } finally {
      sending = false;
      input.readOnly = false;
      input.removeAttribute("aria-busy");
      autosize();
      updateCounter();
      input.focus();
    }
  }

  input.addEventListener("keydown", (e) => {
    if (onKey(e)) return;
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.altKey) return;
    if (enterSends() || e.ctrlKey || e.metaKey) {
      e.preventDefault();
      submit();
    }
  });
  input.addEventListener("input", () => {
    autosize();
    updateCounter();
    if (!error.hidden) showError("");
    onInput(input.value);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });

  updateCounter();

  return {
    focus() {
      input.focus({ preventScroll: true });
    },
    get value() {
      return input.value;
    },
    /** Swap in another chat's draft. */
    reset(text = "") {
      input.value = text;
      showError("");
      autosize();
      updateCounter();
    },
    /** Replace the text as if typed (a picked mention), the caret at `caret`. */
    replace(text, caret) {
      input.value = text;
      input.setSelectionRange(caret, caret);
      autosize();
      updateCounter();
      onInput(text);
    },
    /** Something attached changed: Send may now be possible, or not. */
    refresh: updateCounter,
    input,
    showError,
  };
}

// Editing a message in place: the bubble becomes a text box holding the raw text;
// Enter saves (Shift+Enter adds a line), Escape cancels.

import { el } from "./dom.js";
import { MAX_LENGTH } from "./composer.js";

const MAX_ROWS = 8;
const length = (text) => [...text].length;

/**
 * The editor for message `m`: a form node with `focus()`. `save(body)` resolves when
 * stored (it throws an Error with a message to show); `cancel()` ends editing.
 */
export function messageEditor(m, { save, cancel }) {
  const input = el("textarea", {
    class: "input min-h-[2.625rem] resize-none leading-6",
    dir: "auto",
    rows: "1",
    "aria-label": "Edit message",
    "data-edit-input": true,
  });
  input.value = m.body;
  const error = el("p", { class: "text-sm text-red-600", role: "alert", hidden: true });
  const saveButton = el("button", { type: "submit", class: "btn btn-primary px-3 py-1.5" }, "Save");
  const form = el(
    "form",
    { class: "w-full min-w-[16rem] space-y-1.5 rounded-2xl border border-indigo-200 bg-white p-2 shadow-sm", "data-editor": true },
    input,
    error,
    el(
      "div",
      { class: "flex items-center justify-end gap-2" },
      el("span", { class: "mr-auto hidden text-xs text-gray-500 sm:inline" }, "Escape to cancel · Enter to save"),
      el("button", { type: "button", class: "btn btn-secondary px-3 py-1.5", on: { click: cancel } }, "Cancel"),
      saveButton,
    ),
  );

  const autosize = () => {
    input.rows = Math.max(1, Math.min(MAX_ROWS, input.value.split("\n").length));
  };
  const showError = (message) => {
    error.textContent = message || "";
    error.hidden = !message;
  };

  let busy = false;
  async function submit() {
    if (busy) return;
    const body = input.value.trim();
    if (body === m.body.trim()) {
      cancel();
      return;
    }
    if (!body) {
      showError("A message can't be empty. To remove it, delete it instead.");
      return;
    }
    if (length(body) > MAX_LENGTH) {
      showError(`Messages can be at most ${MAX_LENGTH} characters.`);
      return;
    }
    busy = true;
    saveButton.disabled = true;
    input.readOnly = true;
    showError("");
    try {
      await save(body);
    } catch (err) {
      showError(err && err.message ? err.message : "The message could not be saved. Please try again.");
      input.focus();
    } finally {
      busy = false;
      saveButton.disabled = false;
      input.readOnly = false;
    }
  }

  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && !e.altKey) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      cancel();
    }
  });
  input.addEventListener("input", () => {
    autosize();
    if (!error.hidden) showError("");
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  autosize();

  form.focusEditor = () => {
    input.focus({ preventScroll: true });
    input.setSelectionRange(input.value.length, input.value.length);
  };
  return form;
}

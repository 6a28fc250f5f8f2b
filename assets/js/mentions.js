// Mention autocomplete in the composer: "@" and the start of a name list the chat's
// members (and `@all` in a group); arrow keys move, Enter or Tab picks, Escape closes,
// a click picks too. The list is a listbox the text box points into
// (aria-activedescendant), so focus never leaves the text box.

import { el, avatarColour, initial } from "./dom.js";
import { displayName } from "./store.js";

const MAX_SHOWN = 8;
// "@" at the start or after a space or bracket, then what may be a name so far.
const QUERY_RE = /(?:^|[\s([{])@([\p{L}\p{N}_.-]{0,32})$/u;

/** The names to offer for `query`: names that start with it first, then those containing it. */
export function candidates(members, query, { all = false } = {}) {
  const q = query.toLowerCase();
  const names = [...members];
  if (all) names.push("all");
  const starts = names.filter((n) => n.toLowerCase().startsWith(q));
  const contains = names.filter((n) => !n.toLowerCase().startsWith(q) && n.toLowerCase().includes(q));
  const byName = (a, b) => (a === "all") - (b === "all") || a.localeCompare(b);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, MAX_SHOWN);
}

/**
 * `members()` the usernames to offer (not the reader), `group()` whether `@all` applies;
 * `replace(text, caret)` puts the picked name into the composer.
 */
export function setupMentions({ input, list, members, group, replace }) {
  let options = [];
  let active = 0;
  let token = null; // {start, end}: the "@query" being completed

  function close() {
    options = [];
    token = null;
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    list.replaceChildren(
      ...options.map((name, i) =>
        el(
          "li",
          {
            id: `mention-option-${i}`,
            role: "option",
            "aria-selected": i === active ? "true" : "false",
            class: `flex cursor-pointer items-center gap-2 px-3 py-1.5 text-sm ${i === active ? "bg-indigo-50 text-indigo-900" : "text-gray-800 hover:bg-gray-50"}`,
            dataset: { username: name },
            // mousedown, not click: the text box keeps focus and its caret.
            on: {
              mousedown: (e) => {
                e.preventDefault();
                pick(i);
              },
            },
          },
          el("span", {
            class: `flex h-6 w-6 shrink-0 items-center justify-center rounded-full text-xs font-semibold ${avatarColour(name)}`,
            "aria-hidden": "true",
            dir: "auto",
            text: name === "all" ? "@" : initial(displayName(name)),
          }),
          el("span", { class: "min-w-0 truncate font-medium", dir: "auto", text: name }),
          name !== "all" && displayName(name) !== name ? el("span", { class: "min-w-0 truncate text-xs text-gray-500", dir: "auto", text: displayName(name) }) : null,
          name === "all" ? el("span", { class: "ml-auto shrink-0 text-xs text-gray-500" }, "Everyone in this group") : null,
        ),
      ),
    );
    list.hidden = options.length === 0;
    if (options.length) {
      input.setAttribute("aria-activedescendant", `mention-option-${active}`);
      list.children[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function pick(i) {
    const name = options[i];
    if (!name || !token) return;
    const text = input.value;
    const before = `${text.slice(0, token.start)}@${name} `;
    const after = text.slice(token.end).replace(/^ /, "");
    close();
    replace(before + after, before.length);
    input.focus();
  }

  /** After each change: is the caret just after an "@" and the start of a name? */
  function update() {
    const caret = input.selectionStart;
    if (caret === null || caret !== input.selectionEnd) return close();
    const m = QUERY_RE.exec(input.value.slice(0, caret));
    if (!m) return close();
    const found = candidates(members(), m[1], { all: group() });
    if (!found.length) return close();
    const start = caret - m[1].length - 1;
    if (!token || token.start !== start || found.join() !== options.join()) active = 0;
    token = { start, end: caret };
    options = found;
    return render();
  }

  /** Keys while the list is open; true when this handled the key. */
  function onKey(e) {
    if (list.hidden || !options.length || e.isComposing) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      render();
      return true;
    }
    if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      e.preventDefault();
      pick(active);
      return true;
    }
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
      return true;
    }
    return false;
  }

  // Closed by a click elsewhere, or focus moving on; not by the window losing focus.
  document.addEventListener("pointerdown", (e) => {
    if (!list.hidden && e.target !== input && !list.contains(e.target)) close();
  });
  input.addEventListener("focusout", (e) => {
    if (e.relatedTarget && !list.contains(e.relatedTarget)) close();
  });
  input.addEventListener("click", update);
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  return { update, onKey, close };
}

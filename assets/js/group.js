// The "New group" dialog: a title and a checkbox per person; creates the group
// with POST /api/chats and hands the new chat to onCreated.

import { post } from "./api.js";
import { el, byId, show, setText } from "./dom.js";
import { state, displayName } from "./store.js";

export function initGroupDialog({ onCreated }) {
  const dialog = byId("group-dialog");
  const form = byId("group-form");
  const title = byId("group-title");
  const list = byId("group-members");
  const empty = byId("group-members-empty");
  const error = byId("group-error");
  const submit = byId("group-submit");

  function showError(message) {
    setText(error, message || "");
    show(error, Boolean(message));
  }

  function people() {
    return [...state.users].sort((a, b) => a.username.localeCompare(b.username));
  }

  function open() {
    form.reset();
    showError("");
    title.removeAttribute("aria-invalid");
    const users = people();
    list.replaceChildren(
      ...users.map((u) =>
        el(
          "li",
          {},
          el(
            "label",
            { class: "flex cursor-pointer items-center gap-3 px-3 py-2 hover:bg-gray-50" },
            el("input", {
              type: "checkbox",
              name: "members",
              value: u.username,
              class: "h-4 w-4 rounded border-gray-300 accent-indigo-600 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500",
            }),
            el("span", { class: "min-w-0 flex-1 truncate", dir: "auto", text: displayName(u.username) !== u.username ? `${displayName(u.username)} (${u.username})` : u.username }),
            el("span", {
              class: `h-2.5 w-2.5 shrink-0 rounded-full ${u.online ? "bg-emerald-500" : "bg-gray-300"}`,
              title: u.online ? "Online" : "Offline",
            }),
          ),
        ),
      ),
    );
    show(list, users.length > 0);
    show(empty, users.length === 0);
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    title.focus();
  }

  function close() {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  byId("new-group").addEventListener("click", open);
  byId("group-cancel").addEventListener("click", close);
  // A click on the backdrop lands on the <dialog> itself.
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const name = title.value.trim();
    const members = [...list.querySelectorAll('input[name="members"]:checked')].map((i) => i.value);
    if (!name) {
      title.setAttribute("aria-invalid", "true");
      showError("Give the group a name.");
      title.focus();
      return;
    }
    if (!members.length) {
      showError("Pick at least one person.");
      return;
    }
    submit.disabled = true;
    showError("");
    try {
      const chat = await post("/api/chats", { title: name, members });
      close();
      onCreated(chat);
    } catch (err) {
      if (err.field === "title") title.setAttribute("aria-invalid", "true");
      showError(err.transient ? "Can't reach the server. Please try again." : err.message);
    } finally {
      submit.disabled = false;
    }
  });
}

// The "Invite people" dialog: makes an invite link with POST /api/invites and copies it.
// The server keeps only a hash of the code, so this answer is the one chance to copy it;
// where the clipboard is refused (plain HTTP on the LAN, say) the link stays selected in
// a read-only field for the person to copy by hand.

import { api } from "./api.js";
import { byId, show, setText } from "./dom.js";

export function initInviteDialog() {
  const button = byId("invite-people");
  const dialog = byId("invite-dialog");
  if (!button || !dialog) return;
  const form = byId("invite-form");
  const note = byId("invite-note");
  const days = byId("invite-days");
  const uses = byId("invite-uses");
  const result = byId("invite-result");
  const link = byId("invite-link");
  const copied = byId("invite-copied");
  const error = byId("invite-error");
  const submit = byId("invite-submit");

  function showError(message) {
    setText(error, message || "");
    show(error, Boolean(message));
  }

  function open() {
    form.reset();
    showError("");
    show(result, false);
    link.value = "";
    setText(copied, "");
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    note.focus();
  }

  function close() {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  button.addEventListener("click", open);
  byId("invite-cancel").addEventListener("click", close);
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) close();
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    showError("");
    const body = { expires_in_days: Number(days.value) };
    if (note.value.trim()) body.note = note.value.trim();
    if (uses.value.trim()) body.max_uses = Number(uses.value);
    submit.disabled = true;
    try {
      const made = await api("POST", "/api/invites", body);
      link.value = new URL(made.path, window.location.origin).href;
      show(result, true);
      link.focus();
      link.select();
      try {
        await navigator.clipboard.writeText(link.value);
        setText(copied, "Copied to the clipboard. It is shown only now.");
      } catch {
        setText(copied, "Copy the selected link now (Ctrl+C): it is shown only once.");
      }
    } catch (err) {
      showError(err.message || "The link could not be made.");
    } finally {
      submit.disabled = false;
    }
  });
}

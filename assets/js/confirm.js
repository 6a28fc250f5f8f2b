// One confirmation dialog for what cannot be undone (deleting a message, leaving a group,
// removing someone): resolves true only when the person confirms.

import { byId, setText } from "./dom.js";

let settle = null;

function finish(answer) {
  const resolve = settle;
  settle = null;
  const dialog = byId("confirm-dialog");
  if (dialog.open) dialog.close();
  if (resolve) resolve(answer);
}

let wired = false;
function wire() {
  if (wired) return;
  wired = true;
  const dialog = byId("confirm-dialog");
  byId("confirm-cancel").addEventListener("click", () => finish(false));
  byId("confirm-form").addEventListener("submit", (e) => {
    e.preventDefault();
    finish(true);
  });
  dialog.addEventListener("close", () => finish(false));
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) finish(false); // the backdrop
  });
}

/** Asks `question` (a heading), with `detail` under it; `action` names the button. */
export function confirmAction({ question, detail = "", action }) {
  wire();
  if (settle) finish(false);
  setText(byId("confirm-title"), question);
  setText(byId("confirm-detail"), detail);
  byId("confirm-detail").hidden = !detail;
  setText(byId("confirm-ok"), action);
  return new Promise((resolve) => {
    settle = resolve;
    byId("confirm-dialog").showModal();
    byId("confirm-cancel").focus();
  });
}

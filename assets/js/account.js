// The account page's avatar: a picked image is shown first, cut as the server will cut
// it (the middle square), drawn on a canvas (the CSP lets no blob: image in), then
// uploaded with PUT /api/me/avatar; Remove deletes it. The page reloads to show what the
// server made. The page's other forms are plain HTML forms.

import { api, uploadFile } from "./api.js";
import { wireCopyButtons } from "./copy.js";

wireCopyButtons();

const input = document.getElementById("avatar-file");
const preview = document.getElementById("avatar-preview");
const upload = document.getElementById("avatar-upload");
const remove = document.getElementById("avatar-remove");
const error = document.getElementById("avatar-error");

function say(message) {
  error.textContent = message || "";
  error.hidden = !message;
}

/** Draws the middle square of `file` on the preview; hidden if the browser cannot read it. */
async function showPreview(file) {
  preview.hidden = true;
  if (!file) return;
  try {
    const bitmap = await createImageBitmap(file);
    const side = Math.min(bitmap.width, bitmap.height);
    const context = preview.getContext("2d");
    context.clearRect(0, 0, preview.width, preview.height);
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, preview.width, preview.height);
    bitmap.close();
    preview.hidden = false;
  } catch {
    // Still sent if chosen: the server says why it refuses it.
  }
}

input.addEventListener("change", () => {
  say("");
  const file = input.files && input.files[0];
  upload.disabled = !file;
  showPreview(file);
});

upload.addEventListener("click", async () => {
  const file = input.files && input.files[0];
  if (!file) return;
  upload.disabled = true;
  try {
    await uploadFile("/api/me/avatar", file, { method: "PUT" }).done;
    window.location.reload();
  } catch (err) {
    say(err && err.message ? err.message : "The avatar could not be uploaded.");
    upload.disabled = false;
  }
});

if (remove) {
  remove.addEventListener("click", async () => {
    remove.disabled = true;
    try {
      await api("DELETE", "/api/me/avatar");
      window.location.reload();
    } catch (err) {
      say(err && err.message ? err.message : "The avatar could not be removed.");
      remove.disabled = false;
    }
  });
}

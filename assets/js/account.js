// The account page's avatar: a picked image is shown first, cut as the server will cut
// it (the middle square, by object-cover in a circle), then uploaded with PUT
// /api/me/avatar; Remove deletes it. The page reloads to show what the server made.
// The page's other forms are plain HTML forms.

import { api, uploadFile } from "./api.js";

const input = document.getElementById("avatar-file");
const preview = document.getElementById("avatar-preview");
const upload = document.getElementById("avatar-upload");
const remove = document.getElementById("avatar-remove");
const error = document.getElementById("avatar-error");
let previewUrl = null;

function say(message) {
  error.textContent = message || "";
  error.hidden = !message;
}

input.addEventListener("change", () => {
  say("");
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  const file = input.files && input.files[0];
  previewUrl = file ? URL.createObjectURL(file) : null;
  preview.hidden = !file;
  if (previewUrl) preview.src = previewUrl;
  upload.disabled = !file;
});

// A file the browser cannot show is still sent: the server says why it is refused.
preview.addEventListener("error", () => {
  preview.hidden = true;
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

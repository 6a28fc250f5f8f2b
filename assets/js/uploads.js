// Files for the next message: chosen with the attach button (on a phone the picker
// offers the camera and the gallery), dropped onto the chat or pasted into it. They
// upload one after another, each with a progress bar and a cancel button; finished ones
// wait as chips above the composer until the message is sent. One queue per chat, so
// switching chats keeps each chat's files (a reload does not: unsent uploads are lost,
// and the server removes them after a day).

import { uploadFile } from "./api.js";
import { byId, el, icon, isolate, show, ICONS } from "./dom.js";
import { fileKind, humanSize } from "./file_info.js";
import { UploadQueue, MAX_FILES, percent } from "./upload_queue.js";
import { fileTile } from "./attachments.js";
import { state } from "./store.js";

const queues = new Map(); // chat id -> UploadQueue
const aborts = new Map(); // uploading item -> abort()
let list;
let hooks = { changed: () => {}, showError: () => {}, canAttach: () => false, start: async () => null };

const ROW = "flex min-w-0 items-center gap-2 rounded-lg border px-2 py-1.5 text-sm";
const CLOSE =
  "flex h-8 w-8 shrink-0 items-center justify-center rounded-md text-gray-500 hover:bg-gray-200 hover:text-gray-900 " +
  "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500";
const BAR =
  "mt-1 block h-1.5 w-full appearance-none overflow-hidden rounded-full bg-gray-200 " +
  "[&::-webkit-progress-bar]:bg-gray-200 [&::-webkit-progress-value]:bg-indigo-600 [&::-webkit-progress-value]:transition-all " +
  "[&::-moz-progress-bar]:bg-indigo-600";

/**
 * `changed()` after any change (the composer re-checks its Send button), `showError(text)`,
 * `canAttach()` whether the open chat takes files now, `start()` makes the open
 * conversation's chat when it has none yet and answers its id (or null).
 */
export function initUploads(options) {
  hooks = { ...hooks, ...options };
  list = byId("upload-list");
  const input = byId("file-input");
  byId("attach-button").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = ""; // the same file can be chosen again
  });
  watchDrops(byId("chat-view"), byId("drop-overlay"));
  document.addEventListener("paste", onPaste);
}

function queueOf(chatId) {
  if (!queues.has(chatId)) queues.set(chatId, new UploadQueue());
  return queues.get(chatId);
}

/** The open chat's finished uploads, for the message being sent. */
export function readyIds() {
  return state.openChatId === null ? [] : queueOf(state.openChatId).readyIds();
}

/** Whether the open chat still has files on their way. */
export function uploading() {
  return state.openChatId !== null && queueOf(state.openChatId).busy;
}

/** A message in `chatId` took these attachments. */
export function sent(chatId, ids) {
  queueOf(chatId).sent(ids);
  if (chatId === state.openChatId) render();
}

/** Another chat opened (or none): show its files. */
export function showChat() {
  render();
}

/**
 * Adds files to the open chat's next message and starts uploading them. In a
 * conversation that has no chat yet, `start()` makes it first (files need a chat).
 */
export async function addFiles(files) {
  if (!files.length || !hooks.canAttach()) return;
  const chatId = state.openChatId === null ? await hooks.start() : state.openChatId;
  if (chatId === null || chatId !== state.openChatId) return;
  const queue = queueOf(chatId);
  // The server's limit, when the page says it: a file past it is refused before it is sent.
  const maxBytes = Number(byId("app").dataset.maxUploadBytes) || 0;
  const { refused } = queue.add(files, { maxBytes });
  pump(chatId, queue);
  hooks.showError(refused ? `A message can carry at most ${MAX_FILES} files: ${refused} ${refused === 1 ? "was" : "were"} left out.` : "");
  render();
}

/** Starts the chat's next upload, if none is on its way. */
function pump(chatId, queue) {
  const item = queue.next();
  if (item) start(chatId, queue, item);
}

function start(chatId, queue, item) {
  const visible = () => chatId === state.openChatId;
  const { done, abort } = uploadFile(`/api/chats/${chatId}/attachments`, item.file, {
    onProgress: (loaded) => {
      if (queue.progress(item.key, loaded) && visible()) showProgress(item);
    },
  });
  aborts.set(item, abort);
  done
    .then((attachment) => queue.finish(item.key, attachment))
    .catch((err) => {
      if (err.name !== "AbortError") queue.fail(item.key, err.message);
    })
    .finally(() => {
      aborts.delete(item);
      item.file = null;
      pump(chatId, queue);
      if (visible()) render();
      else hooks.changed();
    });
}

function cancel(item) {
  const abort = aborts.get(item);
  queueOf(state.openChatId).remove(item.key);
  if (abort) abort(); // its end starts the next one
  render();
}

function dismiss(item) {
  queueOf(state.openChatId).remove(item.key);
  render();
}

/**
 * The open chat's files above the composer. A focused button keeps its focus if it
 * stays; if it went (cancelled, removed), focus moves to the next file's button, or to
 * the attach button (not the text box: on a phone that would open the keyboard).
 */
function render() {
  const queue = state.openChatId === null ? null : queueOf(state.openChatId);
  const items = queue ? queue.items : [];
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.control : null;
  const at = focused ? [...list.querySelectorAll("[data-control]")].indexOf(document.activeElement) : -1;
  list.replaceChildren(...items.map(row));
  show(list, items.length > 0);
  if (focused) {
    const controls = [...list.querySelectorAll("[data-control]")];
    const again = controls.find((c) => c.dataset.control === focused) || controls[Math.min(at, controls.length - 1)];
    (again || byId("attach-button")).focus();
  }
  hooks.changed();
}

function showProgress(item) {
  const node = list.querySelector(`li[data-upload-key="${item.key}"][data-status=uploading]`);
  if (!node) return;
  const value = percent(item);
  node.querySelector("progress").value = value;
  node.querySelector("[data-upload-percent]").textContent = `${value}%`;
}

function row(item) {
  const kind = fileKind(item.attachment ? item.attachment.content_type : (item.file && item.file.type), item.name);
  const name = el("span", { class: "block truncate font-medium text-gray-800", dir: "auto", title: item.name, text: item.name });
  const button = (label, control, onClick) => el(
    "button",
    { type: "button", class: CLOSE, "aria-label": label, title: label, dataset: { control }, on: { click: () => onClick(item) } },
    icon(ICONS.close),
  );
  const data = { uploadKey: item.key, status: item.status };
  if (item.status === "uploading") {
    return el(
      "li",
      { class: `${ROW} w-full border-gray-200 bg-gray-50 sm:w-72`, dataset: data },
      fileTile(kind, "h-8 w-8"),
      el(
        "span",
        { class: "min-w-0 flex-1" },
        el(
          "span",
          { class: "flex items-baseline gap-2" },
          el("span", { class: "min-w-0 flex-1" }, name),
          el("span", { class: "shrink-0 text-xs tabular-nums text-gray-500", "aria-hidden": "true", "data-upload-percent": true, text: item.started ? `${percent(item)}%` : "Waiting" }),
        ),
        el("progress", { class: BAR, max: "100", value: String(percent(item)), "aria-label": `Uploading ${isolate(item.name)}`, "data-upload-progress": true }),
      ),
      button(`Cancel the upload of ${isolate(item.name)}`, `cancel-${item.key}`, cancel),
    );
  }
  if (item.status === "failed") {
    return el(
      "li",
      { class: `${ROW} w-full border-red-200 bg-red-50 sm:w-auto sm:max-w-md`, dataset: data },
      fileTile(kind, "h-8 w-8"),
      el(
        "span",
        { class: "min-w-0 flex-1" },
        name,
        el("span", { class: "block text-xs text-red-700", role: "alert", "data-upload-error": true }, `Not uploaded: ${item.error}`),
      ),
      button(`Dismiss ${isolate(item.name)}`, `dismiss-${item.key}`, dismiss),
    );
  }
  const a = item.attachment;
  return el(
    "li",
    { class: `${ROW} max-w-full border-gray-200 bg-white py-1 pl-1 shadow-sm`, dataset: { ...data, attachmentId: a.id } },
    a.thumbnail_url
      ? el("img", { src: a.thumbnail_url, alt: "", width: "32", height: "32", class: "h-8 w-8 shrink-0 rounded-md object-cover" })
      : fileTile(kind, "h-8 w-8"),
    el(
      "span",
      { class: "min-w-0 max-w-[12rem]" },
      name,
      el("span", { class: "block text-xs text-gray-500", text: humanSize(item.size) }),
    ),
    button(`Remove ${isolate(item.name)}`, `remove-${item.key}`, dismiss),
  );
}

const hasFiles = (e) => Boolean(e.dataTransfer) && [...e.dataTransfer.types].includes("Files");

/** Files dragged over the chat light it up; dropped, they are added. */
function watchDrops(zone, overlay) {
  let depth = 0; // dragenter/dragleave pairs, one per element crossed
  const highlight = (on) => {
    show(overlay, on);
    zone.toggleAttribute("data-dropping", on);
  };
  zone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e) || !hooks.canAttach()) return;
    e.preventDefault();
    depth += 1;
    highlight(true);
  });
  zone.addEventListener("dragover", (e) => {
    if (!hasFiles(e) || !hooks.canAttach()) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (depth === 0) highlight(false);
  });
  zone.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    highlight(false);
    addFiles([...e.dataTransfer.files]);
  });
  // A file dropped beside the chat is not opened in place of the app.
  window.addEventListener("dragover", (e) => {
    if (!hasFiles(e) || zone.contains(e.target)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "none";
  });
  window.addEventListener("drop", (e) => {
    if (hasFiles(e) && !zone.contains(e.target)) e.preventDefault();
  });
}

/**
 * A pasted image (a screenshot) or file is attached when pasted into the composer or
 * the page itself. Text that comes with it (a cell copied from a sheet) wins: it pastes.
 */
function onPaste(e) {
  const data = e.clipboardData;
  if (!data || !data.files || !data.files.length || !hooks.canAttach()) return;
  const target = e.target instanceof Element ? e.target : null;
  if (target && target.id !== "composer-input" && target.closest("input, textarea, select, [contenteditable], dialog")) return;
  if (data.getData("text/plain")) return;
  e.preventDefault();
  addFiles([...data.files]);
}

// The files on their way into one chat's next message: each uploading (waiting its turn,
// then with progress), done (holding the server's attachment) or failed (with the reason),
// in the order they were added. They go one at a time: the server numbers files as they
// arrive and a message lists them in that order, so it is the order they were added in.
// Pure state, no DOM or network: uploads.js drives it, and tests/js/upload_queue.test.js
// runs it under node.

import { humanSize } from "./file_info.js";

/** How many files one message may carry (the server's limit too). */
export const MAX_FILES = 10;

export class UploadQueue {
  constructor() {
    this.items = [];
    this.seq = 0;
  }

  /**
   * Adds files (anything with `name` and `size`). Each becomes an item: uploading, or
   * failed at once when it is empty or over `maxBytes` (0: no limit known). Past ten
   * files the rest are left out: answers {added, refused}, `added` the items to upload.
   */
  add(files, { maxBytes = 0 } = {}) {
    const added = [];
    let refused = 0;
    for (const file of files) {
      const item = {
        key: ++this.seq,
        name: file.name || "file",
        size: Number(file.size) || 0,
        status: "uploading",
        started: false, // on its way to the server (else waiting its turn)
        loaded: 0,
        error: null,
        attachment: null,
        file, // what to upload; dropped once it is done
      };
      const problem = tooMuch(item, maxBytes);
      if (problem) {
        item.status = "failed";
        item.error = problem;
      } else if (this.counted() >= MAX_FILES) {
        refused += 1;
        continue;
      }
      this.items.push(item);
      if (item.status === "uploading") added.push(item);
    }
    return { added, refused };
  }

  /** The next file to send, marked started; null while one is on its way, or none waits. */
  next() {
    if (this.items.some((i) => i.status === "uploading" && i.started)) return null;
    const item = this.items.find((i) => i.status === "uploading" && !i.started) || null;
    if (item) item.started = true;
    return item;
  }

  get(key) {
    return this.items.find((i) => i.key === key) || null;
  }

  /** Files that take one of the ten places: uploading or done. */
  counted() {
    return this.items.filter((i) => i.status !== "failed").length;
  }

  progress(key, loaded) {
    const item = this.get(key);
    if (!item || item.status !== "uploading") return null;
    item.loaded = Math.max(0, Math.min(item.size, Number(loaded) || 0));
    return item;
  }

  /** The server kept it: `attachment` is its answer ({id, name, size, ...}). */
  finish(key, attachment) {
    const item = this.get(key);
    if (!item || item.status !== "uploading") return null;
    item.status = "done";
    item.loaded = item.size;
    item.attachment = attachment;
    item.name = attachment.name || item.name;
    item.size = Number(attachment.size) || item.size;
    return item;
  }

  fail(key, message) {
    const item = this.get(key);
    if (!item || item.status !== "uploading") return null;
    item.status = "failed";
    item.error = message;
    return item;
  }

  /** Cancelled, removed or dismissed: the item leaves the queue. */
  remove(key) {
    const item = this.get(key);
    this.items = this.items.filter((i) => i.key !== key);
    return item;
  }

  /** Whether any file is still uploading (the message waits for it). */
  get busy() {
    return this.items.some((i) => i.status === "uploading");
  }

  /** The ids of the finished uploads, for the next message. */
  readyIds() {
    return this.items.filter((i) => i.status === "done").map((i) => i.attachment.id);
  }

  /** A message took these attachments: their chips go. */
  sent(ids) {
    const gone = new Set(ids);
    this.items = this.items.filter((i) => !(i.status === "done" && gone.has(i.attachment.id)));
  }

  get empty() {
    return this.items.length === 0;
  }
}

/** How far an upload is, 0 to 100. */
export function percent(item) {
  if (item.status === "done") return 100;
  if (!item.size) return 0;
  return Math.min(100, Math.floor((item.loaded / item.size) * 100));
}

function tooMuch(item, maxBytes) {
  if (item.size === 0) return "This file is empty.";
  if (maxBytes > 0 && item.size > maxBytes) {
    return `This file is ${humanSize(item.size)}; files can be at most ${humanSize(maxBytes)}.`;
  }
  return null;
}

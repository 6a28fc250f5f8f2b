// The files on their way into the next message (assets/js/upload_queue.js): progress,
// success, failure, cancelling, the ten-file limit and what a send takes.

import { test } from "node:test";
import assert from "node:assert/strict";

import { MAX_FILES, UploadQueue, percent } from "../../assets/js/upload_queue.js";

const file = (name, size = 1000) => ({ name, size });
const attachment = (id, name) => ({ id, name, size: 1000, content_type: "application/pdf", url: `/files/${id}/${name}` });

test("an added file uploads, shows its progress, then holds its attachment", () => {
  const q = new UploadQueue();
  const { added, refused } = q.add([file("a.pdf", 2000)]);
  assert.equal(refused, 0);
  assert.equal(added.length, 1);
  const [item] = added;
  assert.equal(item.status, "uploading");
  assert.equal(item.file.name, "a.pdf");
  assert.ok(q.busy);
  q.progress(item.key, 500);
  assert.equal(percent(item), 25);
  q.progress(item.key, 5000); // more than the file: capped
  assert.equal(percent(item), 100);
  q.finish(item.key, attachment(7, "a.pdf"));
  assert.equal(item.status, "done");
  assert.equal(q.busy, false);
  assert.deepEqual(q.readyIds(), [7]);
});

test("a refused upload keeps its reason and takes no place among the ten", () => {
  const q = new UploadQueue();
  const [item] = q.add([file("big.zip")]).added;
  q.fail(item.key, "The file is too large.");
  assert.equal(item.status, "failed");
  assert.equal(item.error, "The file is too large.");
  assert.equal(q.busy, false);
  assert.deepEqual(q.readyIds(), []);
  assert.equal(q.counted(), 0);
  // Late news about it changes nothing.
  assert.equal(q.finish(item.key, attachment(1, "big.zip")), null);
  assert.equal(q.progress(item.key, 10), null);
});

test("empty files and files over the limit fail at once, without uploading", () => {
  const q = new UploadQueue();
  const { added } = q.add([file("empty.txt", 0), file("huge.iso", 30_000_000), file("ok.png", 10)], {
    maxBytes: 25_000_000,
  });
  assert.deepEqual(added.map((i) => i.name), ["ok.png"]);
  const [empty, huge] = q.items;
  assert.equal(empty.status, "failed");
  assert.match(empty.error, /empty/);
  assert.equal(huge.status, "failed");
  assert.match(huge.error, /30 MB.*25 MB/);
});

test("a cancelled upload leaves the queue", () => {
  const q = new UploadQueue();
  const [a, b] = q.add([file("a"), file("b")]).added;
  assert.equal(q.remove(a.key), a);
  assert.deepEqual(q.items, [b]);
  assert.equal(q.remove(a.key), null);
  assert.equal(q.finish(a.key, attachment(1, "a")), null, "its late answer is ignored");
});

test("at most ten files wait for a message; the rest are counted as left out", () => {
  const q = new UploadQueue();
  const many = Array.from({ length: 12 }, (_, i) => file(`f${i}`));
  const { added, refused } = q.add(many);
  assert.equal(added.length, MAX_FILES);
  assert.equal(refused, 2);
  // A failed one frees its place.
  q.fail(added[0].key, "no");
  assert.equal(q.add([file("again")]).added.length, 1);
  assert.equal(q.add([file("one too many")]).refused, 1);
});

test("sending takes the finished files only; uploads still running stay", () => {
  const q = new UploadQueue();
  const [a, b, c] = q.add([file("a"), file("b"), file("c")]).added;
  q.finish(a.key, attachment(1, "a"));
  q.finish(b.key, attachment(2, "b"));
  assert.deepEqual(q.readyIds(), [1, 2]);
  q.sent([1, 2]);
  assert.deepEqual(q.items, [c]);
  assert.equal(q.empty, false);
  q.remove(c.key);
  assert.equal(q.empty, true);
});

test("keys are never reused within a queue", () => {
  const q = new UploadQueue();
  const [a] = q.add([file("a")]).added;
  q.remove(a.key);
  const [b] = q.add([file("b")]).added;
  assert.notEqual(a.key, b.key);
});

test("files go one at a time, in the order they were added", () => {
  const q = new UploadQueue();
  const [a, b, c] = q.add([file("a"), file("b"), file("c")]).added;
  assert.equal(q.next(), a);
  assert.equal(a.started, true);
  assert.equal(q.next(), null, "a is on its way");
  q.finish(a.key, attachment(1, "a"));
  assert.equal(q.next(), b);
  q.remove(b.key); // cancelled on its way
  assert.equal(q.next(), c);
  q.fail(c.key, "no");
  assert.equal(q.next(), null, "none left");
  assert.ok(!q.busy);
});

test("a file waiting its turn still counts as uploading", () => {
  const q = new UploadQueue();
  q.add([file("a"), file("b")]);
  q.next();
  assert.ok(q.busy);
  assert.deepEqual(q.items.map((i) => i.started), [true, false]);
});

// What the chat says about a file (assets/js/file_info.js): sizes in words, kinds,
// type labels, and images scaled to fit. Pure, so no browser is needed.

import { test } from "node:test";
import assert from "node:assert/strict";

import { fileKind, fitWithin, humanSize, typeLabel } from "../../assets/js/file_info.js";

test("sizes read as bytes, KB, MB and GB (decimal), one decimal under ten", () => {
  assert.equal(humanSize(0), "0 bytes");
  assert.equal(humanSize(1), "1 byte");
  assert.equal(humanSize(999), "999 bytes");
  assert.equal(humanSize(1000), "1 KB");
  assert.equal(humanSize(1500), "1.5 KB");
  assert.equal(humanSize(10_000), "10 KB");
  assert.equal(humanSize(300_000), "300 KB");
  assert.equal(humanSize(1_234_567), "1.2 MB");
  assert.equal(humanSize(25_000_000), "25 MB");
  assert.equal(humanSize(4.7e9), "4.7 GB");
});

test("a size just under the next unit rounds up into it, not to 1000", () => {
  assert.equal(humanSize(999_700), "1 MB");
  assert.equal(humanSize(999_999), "1 MB");
  assert.equal(humanSize(9_970), "10 KB");
});

test("nonsense sizes read as nothing", () => {
  assert.equal(humanSize(-1), "");
  assert.equal(humanSize(NaN), "");
  assert.equal(humanSize(undefined), "");
});

test("a file's kind comes from its type, else from its name", () => {
  assert.equal(fileKind("application/pdf", "x"), "pdf");
  assert.equal(fileKind("image/png", "notes.txt"), "image");
  assert.equal(fileKind("application/octet-stream", "backup.tar.gz"), "archive");
  assert.equal(fileKind("", "Budget.XLSX"), "sheet");
  assert.equal(fileKind("text/plain", "server.log"), "text");
  assert.equal(fileKind("application/octet-stream", "blob.bin"), "file");
  assert.equal(fileKind(null, null), "file");
});

test("the type label is the extension in capitals, if there is one", () => {
  assert.equal(typeLabel("report.final.pdf"), "PDF");
  assert.equal(typeLabel("photo.JPEG"), "JPEG");
  assert.equal(typeLabel("Makefile"), "");
  assert.equal(typeLabel(".bashrc"), "");
  assert.equal(typeLabel("weird.extension-too-long"), "");
});

test("images scale down to fit a box, ratio kept, never up", () => {
  assert.deepEqual(fitWithin(1920, 1080, 320, 240), { width: 320, height: 180 });
  assert.deepEqual(fitWithin(1080, 1920, 320, 240), { width: 135, height: 240 });
  assert.deepEqual(fitWithin(100, 50, 320, 240), { width: 100, height: 50 });
  assert.deepEqual(fitWithin(12000, 1, 320, 240), { width: 320, height: 1 });
  assert.equal(fitWithin(null, 50, 320, 240), null);
  assert.equal(fitWithin(0, 0, 320, 240), null);
});

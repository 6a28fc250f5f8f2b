// The message list's layout rules (assets/js/grouping.js): runs of one sender, the
// "new messages" line, and the bounded window.

import { test } from "node:test";
import assert from "node:assert/strict";

const { continues, firstUnread, trimPlan, readerEnd, MAX_RENDERED } = await import("../../assets/js/grouping.js");
const { clockFormat } = await import("../../assets/js/time.js");

const at = (minutes) => new Date(Date.UTC(2026, 4, 12, 12, 0) + minutes * 60_000).toISOString();
const msg = (id, sender, minutes) => ({ id, sender, created_at: at(minutes) });

test("a sender's messages within five minutes of the one before are one run", () => {
  assert.equal(continues(msg(1, "bob", 0), msg(2, "bob", 4)), true);
  assert.equal(continues(msg(1, "bob", 0), msg(2, "bob", 5)), true, "five minutes is still the run");
  assert.equal(continues(msg(1, "bob", 0), msg(2, "bob", 6)), false, "a pause starts a new run");
  assert.equal(continues(msg(1, "bob", 0), msg(2, "alice", 1)), false, "another sender starts a new run");
  assert.equal(continues(null, msg(2, "bob", 1)), false, "the first message starts one");
});

test("nine messages in a row from one sender make one run (one time shown)", () => {
  const nine = Array.from({ length: 9 }, (_, i) => msg(i + 1, "bob", i));
  const starts = nine.filter((m, i) => !continues(nine[i - 1] || null, m));
  assert.deepEqual(starts.map((m) => m.id), [1]);
});

test("the new-messages line goes above the first of the unread messages from others", () => {
  const page = [msg(1, "bob", 0), msg(2, "me", 1), msg(3, "bob", 2), msg(4, "me", 3), msg(5, "bob", 4)];
  const mine = (name) => name === "me";
  assert.equal(firstUnread(page, 2, mine), 3);
  assert.equal(firstUnread(page, 1, mine), 5);
  assert.equal(firstUnread(page, 3, mine), 1);
  assert.equal(firstUnread(page, 0, mine), null, "nothing unread: no line");
  assert.equal(firstUnread(page, 4, mine), null, "read up to before this page: the line is not on it");
});

test("the window drops what is over its bound from the end away from the reader", () => {
  assert.deepEqual(trimPlan(MAX_RENDERED, "top"), { top: 0, bottom: 0 });
  assert.deepEqual(trimPlan(MAX_RENDERED + 50, "top"), { top: 0, bottom: 50 }, "reading older: the newest go");
  assert.deepEqual(trimPlan(MAX_RENDERED + 50, "bottom"), { top: 50, bottom: 0 }, "at the latest: the oldest go");
  assert.deepEqual(trimPlan(120, "bottom", 100), { top: 20, bottom: 0 });
});

test("paging to the top of 2,000 messages keeps the window at its bound", () => {
  let count = 50;
  let dropped = 0;
  for (let page = 0; page < 39; page += 1) {
    count += 50;
    const cut = trimPlan(count, "top");
    count -= cut.top + cut.bottom;
    dropped += cut.bottom;
    assert.ok(count <= MAX_RENDERED);
  }
  assert.equal(count, MAX_RENDERED);
  assert.equal(dropped, 2000 - MAX_RENDERED);
});

test("which end the reader is at", () => {
  assert.equal(readerEnd({ scrollTop: 0, scrollHeight: 5000, clientHeight: 600 }), "top");
  assert.equal(readerEnd({ scrollTop: 4400, scrollHeight: 5000, clientHeight: 600 }), "bottom");
});

test("times have no leading zero on a 12-hour clock, and keep the locale's on a 24-hour one", () => {
  const evening = new Date(2026, 4, 12, 19, 23);
  const morning = new Date(2026, 4, 12, 7, 5);
  assert.equal(clockFormat("en-US").format(evening).replace(/\s/g, " "), "7:23 PM");
  assert.equal(clockFormat("en-US").format(morning).replace(/\s/g, " "), "7:05 AM");
  assert.equal(clockFormat("en-GB").format(evening), "19:23");
  assert.equal(clockFormat("en-GB").format(morning), "07:05");
});

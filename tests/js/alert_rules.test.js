// What notifies (assets/js/alert_rules.js): only a hidden tab, never one's own messages,
// as far as the chat's level asks; and the unread title and favicon badge.

import { test } from "node:test";
import assert from "node:assert/strict";

const { shouldAlert, unreadTitle, badgeText, notificationText } = await import("../../assets/js/alert_rules.js");

const from = (sender, mentions = []) => ({ sender, mentions });
const alert = (message, notify, { hidden = true, kind = "direct" } = {}) =>
  shouldAlert({ message, chat: { kind, notify }, me: "Alice", hidden });

test("a visible tab never alerts: the reader sees the message", () => {
  assert.equal(alert(from("bob", ["alice"]), "all", { hidden: false }), false);
});

test("the reader's own messages never alert, whatever the case of their name", () => {
  assert.equal(alert(from("alice"), "all"), false);
  assert.equal(alert(from("ALICE", ["alice"]), "all"), false);
});

test("all: every message, in direct chats and groups", () => {
  assert.equal(alert(from("bob"), "all"), true);
  assert.equal(alert(from("bob"), "all", { kind: "group" }), true);
  assert.equal(alert(from("bob"), undefined), true, "a chat object without a level is `all`");
});

test("mentions: only messages that mention the reader (@all lists every member)", () => {
  assert.equal(alert(from("bob"), "mentions"), false);
  assert.equal(alert(from("bob", ["carol"]), "mentions", { kind: "group" }), false);
  assert.equal(alert(from("bob", ["carol", "alice"]), "mentions", { kind: "group" }), true);
});

test("none: nothing, mentions included", () => {
  assert.equal(alert(from("bob", ["alice"]), "none"), false);
});

test("no chat (not in the list yet), no alert", () => {
  assert.equal(shouldAlert({ message: from("bob"), chat: null, me: "alice", hidden: true }), false);
});

test("the title carries the unread total, and nothing at 0", () => {
  assert.equal(unreadTitle(0), "Kanect");
  assert.equal(unreadTitle(3), "(3) Kanect");
  assert.equal(unreadTitle(120), "(120) Kanect");
});

test("the badge shows the count, 99+ beyond, nothing at 0", () => {
  assert.deepEqual([0, 1, 42, 99, 100].map(badgeText), ["", "1", "42", "99", "99+"]);
});

test("a notification names the sender, and the group after them", () => {
  assert.deepEqual(notificationText({ sender: "Bob", chatTitle: "Bob", kind: "direct", body: "hi" }), { title: "Bob", body: "hi" });
  assert.equal(notificationText({ sender: "Bob", chatTitle: "Design", kind: "group", body: "hi" }).title, "Bob in Design");
});

test("the body is one line, shortened on a character boundary", () => {
  const { body } = notificationText({ sender: "b", chatTitle: "b", kind: "direct", body: `line one\n\n${"é".repeat(300)}` });
  assert.ok(body.startsWith("line one é"));
  assert.equal([...body].length, 140);
  assert.ok(body.endsWith("…"));
});

test("a message of only files says so", () => {
  assert.equal(notificationText({ sender: "b", chatTitle: "b", kind: "direct", body: "", attachments: 2 }).body, "Sent 2 files");
  assert.equal(notificationText({ sender: "b", chatTitle: "b", kind: "direct", body: " ", attachments: 1 }).body, "Sent a file");
});

// The sidebar's list of conversations (assets/js/conversations.js). `node --test tests/js/`.

import { test } from "node:test";
import assert from "node:assert/strict";

import { ordered, nextUnread } from "../../assets/js/conversations.js";

const said = { id: 1, body: "hi" };
const chat = (id, fields = {}) => ({ id, kind: "group", archived: false, unread: 0, mentions: 0, last_message: said, ...fields });

test("unread first, each part in activity order; archived apart", () => {
  const chats = [chat(1), chat(2, { unread: 3 }), chat(3), chat(4, { mentions: 1 }), chat(5, { archived: true, unread: 1 })];
  assert.deepEqual(ordered(chats).map((c) => c.id), [2, 4, 1, 3]);
  assert.deepEqual(ordered(chats, { archived: true }).map((c) => c.id), [5]);
});

test("a direct chat nobody wrote in is left out unless it is open; an empty group stays", () => {
  const chats = [chat(1, { kind: "direct", last_message: null }), chat(2, { last_message: null }), chat(3, { kind: "direct" })];
  assert.deepEqual(ordered(chats).map((c) => c.id), [2, 3]);
  assert.deepEqual(ordered(chats, { openChatId: 1 }).map((c) => c.id), [1, 2, 3]);
  assert.deepEqual(ordered(chats, { drafted: (id) => id === 1 }).map((c) => c.id), [1, 2, 3], "a draft keeps it");
});

test("the next unread goes on from the open chat, round the end, skipping read ones", () => {
  const list = [chat(1, { unread: 1 }), chat(2), chat(3, { unread: 2 }), chat(4)];
  assert.equal(nextUnread(list, 1).id, 3);
  assert.equal(nextUnread(list, 3).id, 1);
  assert.equal(nextUnread(list, 2).id, 3);
  assert.equal(nextUnread(list, null).id, 1, "nothing open: the first unread");
  assert.equal(nextUnread(list, 3, -1).id, 1, "backwards");
  assert.equal(nextUnread([chat(1, { unread: 1 }), chat(2)], 1), null, "only the open one is unread");
  assert.equal(nextUnread([], null), null);
});

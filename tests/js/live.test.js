// What the long poll brings, applied to the page's store (assets/js/events.js), and the
// words and marks built from it: `node --test tests/js/`, no browser. The open chat's
// view is a recording stand-in.

import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";

globalThis.document = { visibilityState: "hidden" };

const { state, setChats, getChat, typingIn, TYPING_MS } = await import("../../assets/js/store.js");
const { applyUpdate, initEvents } = await import("../../assets/js/events.js");
const { typingText } = await import("../../assets/js/typing.js");
const { directStatus, seenBy } = await import("../../assets/js/receipts.js");
const { candidates } = await import("../../assets/js/mentions.js");
const { whoReacted } = await import("../../assets/js/reactions.js");

let calls;
const view = {
  isShown: () => false,
  upsert: (ms) => calls.push(["upsert", ms.map((m) => m.id)]),
  remove: (id) => calls.push(["remove", id]),
  changed: (chat) => calls.push(["changed", chat.id]),
  gone: (chat) => calls.push(["gone", chat && chat.id]),
  receiptsChanged: () => calls.push(["receipts"]),
  typingChanged: () => calls.push(["typing"]),
};
let refreshed;

const message = (id, fields = {}) => ({
  id, chat_id: 1, sender: "bob", body: `m${id}`, created_at: "2026-01-01T10:00:00Z",
  edited_at: null, reactions: [], mentions: [], attachments: [], ...fields,
});
const chat = (id, fields = {}) => ({
  id, kind: "group", title: `g${id}`, status: "open", archived: false,
  members: ["alice", "bob", "carol"], last_message: null, unread: 0, mentions: 0, receipts: [], ...fields,
});

beforeEach(() => {
  calls = [];
  refreshed = { chats: 0, users: 0 };
  state.me = { id: 1, username: "alice", role: "member" };
  state.openChatId = null;
  state.users = [];
  state.typing.clear();
  setChats([chat(1), chat(2)]);
  initEvents({ view, refreshChats: () => (refreshed.chats += 1), refreshUsers: () => (refreshed.users += 1) });
});

test("a new message counts once as unread, however often it comes", () => {
  const event = { seq: 1, type: "message", chat_id: 1, message: message(10, { mentions: ["alice"] }) };
  applyUpdate({ events: [event] });
  applyUpdate({ events: [event] });
  assert.equal(getChat(1).unread, 1);
  assert.equal(getChat(1).mentions, 1);
  assert.equal(getChat(1).last_message.id, 10);
  assert.equal(state.chats[0].id, 1, "news moves the chat to the top");
});

test("one's own message is not unread; the open chat's view gets it", () => {
  state.openChatId = 1;
  applyUpdate({ events: [{ seq: 1, type: "message", chat_id: 1, message: message(11, { sender: "alice" }) }] });
  assert.equal(getChat(1).unread, 0);
  assert.deepEqual(calls.filter(([what]) => what !== "typing"), [["upsert", [11]]]);
});

test("an edit replaces the preview and the open chat's copy; a reaction too", () => {
  state.openChatId = 1;
  applyUpdate({ events: [{ seq: 1, type: "message", chat_id: 1, message: message(12) }] });
  applyUpdate({ events: [{ seq: 2, type: "message_edited", chat_id: 1, message: message(12, { body: "new" }) }] });
  assert.equal(getChat(1).last_message.body, "new");
  const reacted = message(12, { body: "new", reactions: [{ emoji: "👍", users: ["carol"] }] });
  applyUpdate({ events: [{ seq: 3, type: "reaction", chat_id: 1, message: reacted }] });
  assert.deepEqual(getChat(1).last_message.reactions, reacted.reactions);
  assert.deepEqual(calls.filter(([what]) => what !== "typing"), [["upsert", [12]], ["upsert", [12]], ["upsert", [12]]]);
});

test("a deleted message leaves the open chat, and the list asks what to show instead", () => {
  state.openChatId = 1;
  applyUpdate({ events: [{ seq: 1, type: "message", chat_id: 1, message: message(13) }] });
  applyUpdate({ events: [{ seq: 2, type: "message_deleted", chat_id: 1, message_id: 13 }] });
  assert.deepEqual(calls.filter(([what]) => what !== "typing").at(-1), ["remove", 13]);
  assert.equal(refreshed.chats, 1);
});

test("a chat event upserts the chat; one we did not know goes to the top", () => {
  applyUpdate({ events: [{ seq: 1, type: "chat", chat_id: 3, chat: chat(3, { title: "New" }) }] });
  assert.equal(state.chats[0].title, "New");
  state.openChatId = 2;
  applyUpdate({ events: [{ seq: 2, type: "chat", chat_id: 2, chat: chat(2, { title: "Renamed" }) }] });
  assert.equal(getChat(2).title, "Renamed");
  assert.deepEqual(calls.filter(([what]) => what !== "typing"), [["changed", 2]]);
});

test("chat_removed drops the chat and closes it when open", () => {
  state.openChatId = 2;
  applyUpdate({ events: [{ seq: 1, type: "chat_removed", chat_id: 2 }] });
  assert.equal(getChat(2), null);
  assert.deepEqual(calls.filter(([what]) => what !== "typing"), [["gone", 2]]);
});

test("a message of an unknown chat asks for the list again", () => {
  applyUpdate({ events: [{ seq: 1, type: "message", chat_id: 9, message: message(14, { chat_id: 9 }) }] });
  assert.equal(refreshed.chats, 1);
});

test("receipts replace the member's entry; the reader's own are ignored", () => {
  applyUpdate({ receipts: [{ chat_id: 1, username: "bob", read_up_to: 5, delivered_up_to: 7 }] });
  applyUpdate({ receipts: [{ chat_id: 1, username: "bob", read_up_to: 7, delivered_up_to: 7 }, { chat_id: 1, username: "alice", read_up_to: 9, delivered_up_to: 9 }] });
  assert.deepEqual(getChat(1).receipts, [{ username: "bob", read_up_to: 7, delivered_up_to: 7 }]);
  assert.deepEqual(calls.filter(([what]) => what === "receipts"), [["receipts"], ["receipts"]]);
});

test("typing is the state each answer gives: it holds six seconds, goes when left out or by a message", () => {
  applyUpdate({ typing: [{ chat_id: 1, username: "bob" }, { chat_id: 1, username: "alice" }] });
  assert.deepEqual(typingIn(1), ["bob"], "never the reader");
  assert.deepEqual(typingIn(1, Date.now() + TYPING_MS + 1), [], "silence expires it");
  applyUpdate({ typing: [{ chat_id: 1, username: "bob" }, { chat_id: 1, username: "carol" }] });
  applyUpdate({ typing: [{ chat_id: 1, username: "carol" }, { chat_id: 1, username: "bob" }] });
  assert.deepEqual(typingIn(1), ["bob", "carol"], "in the order they started");
  applyUpdate({ typing: [{ chat_id: 1, username: "carol" }] });
  assert.deepEqual(typingIn(1), ["carol"], "bob stopped");
  applyUpdate({ typing: [{ chat_id: 1, username: "carol" }], events: [{ seq: 1, type: "message", chat_id: 1, message: message(15, { sender: "carol" }) }] });
  assert.deepEqual(typingIn(1), []);
});

test("presence updates known people; someone new asks for the list", () => {
  state.users = [{ id: 2, username: "bob", online: false, last_seen: null }];
  applyUpdate({ presence: [{ user_id: 2, username: "bob", online: true, last_seen: "x" }, { user_id: 7, username: "zed", online: true }] });
  assert.equal(state.users[0].online, true);
  assert.equal(refreshed.users, 1);
});

test("typing in words", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["alice"]), "\u2068alice\u2069 is typing…");
  assert.equal(typingText(["alice", "bob"]), "\u2068alice\u2069 and \u2068bob\u2069 are typing…");
  assert.equal(typingText(["a", "b", "c"]), "Several people are typing…");
});

test("a direct chat's status: sent, delivered, read", () => {
  const receipts = [{ username: "bob", read_up_to: 5, delivered_up_to: 8 }];
  assert.equal(directStatus(9, receipts), "sent");
  assert.equal(directStatus(8, receipts), "delivered");
  assert.equal(directStatus(5, receipts), "read");
  assert.equal(directStatus(1, []), "sent");
  assert.deepEqual(seenBy(5, [...receipts, { username: "carol", read_up_to: 4, delivered_up_to: 4 }]), ["bob"]);
});

test("mention candidates: prefix first, then containing; @all last, only in groups", () => {
  assert.deepEqual(candidates(["bob", "carol", "Abby"], "b", { all: true }), ["bob", "Abby"]);
  assert.deepEqual(candidates(["bob", "carol"], "", { all: true }), ["bob", "carol", "all"]);
  assert.deepEqual(candidates(["bob"], "a"), []);
  assert.deepEqual(candidates(["bob"], "a", { all: true }), ["all"]);
});

test("who reacted, in words", () => {
  state.me = { id: 1, username: "alice", role: "member" };
  assert.equal(whoReacted(["bob"]), "\u2068bob\u2069");
  assert.equal(whoReacted(["bob", "alice"]), "\u2068bob\u2069 and you");
  assert.equal(whoReacted(["bob", "carol", "alice"]), "\u2068bob\u2069, \u2068carol\u2069 and you");
});

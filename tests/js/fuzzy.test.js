// The quick switcher's matching (assets/js/fuzzy.js). `node --test tests/js/`.

import { test } from "node:test";
import assert from "node:assert/strict";

import { fuzzyScore, rank } from "../../assets/js/fuzzy.js";

test("letters typed in order match, case and accents folded; out of order they do not", () => {
  assert.notEqual(fuzzyScore("bo", "bob"), null);
  assert.notEqual(fuzzyScore("dr", "Design review"), null);
  assert.notEqual(fuzzyScore("ZOE", "zoé"), null);
  assert.notEqual(fuzzyScore("design rev", "Design review"), null, "spaces typed are ignored");
  assert.equal(fuzzyScore("ob", "bo"), null);
  assert.equal(fuzzyScore("bobx", "bob"), null);
  assert.equal(fuzzyScore("", "bob"), null);
});

test("a prefix beats letters scattered through a longer name", () => {
  assert.ok(fuzzyScore("bob", "bob") > fuzzyScore("bob", "Big old bonfire"));
  assert.ok(fuzzyScore("dev", "devops") > fuzzyScore("dev", "Design everything"));
  assert.ok(fuzzyScore("ca", "carol") > fuzzyScore("ca", "Marketing campaign"));
});

test("word starts count: initials find a group", () => {
  assert.ok(fuzzyScore("dr", "Design review") > fuzzyScore("dr", "Hydrant"));
});

test("rank keeps the best of each item's names, best first, ties in the items' order", () => {
  const chats = [
    { id: 1, names: ["Lunch", "alice", "dave"] },
    { id: 2, names: ["bob"] },
    { id: 3, names: ["Design review", "bob", "carol"] },
    { id: 4, names: ["Board games"] },
  ];
  const ids = (q, limit) => rank(q, chats, (c) => c.names, limit).map((c) => c.id);
  assert.deepEqual(ids("bob"), [2, 3]);
  assert.deepEqual(ids("bo"), [2, 3, 4]);
  assert.deepEqual(ids("bo", 2), [2, 3]);
  assert.deepEqual(ids("zzz"), []);
});

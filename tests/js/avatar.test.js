// Initials avatars (assets/js/dom.js): the same colour and initials as the server draws
// (src/profile/mod.rs, whose tests pin the same values), so a person looks alike on every
// page. And the store's display names (assets/js/store.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { avatarColour, initial } from "../../assets/js/dom.js";
import { state, learnProfiles, displayName, chatTitle, senderName } from "../../assets/js/store.js";

test("a person's colour is a hash of their lower-case name, as the server's", () => {
  // "alice" hashes to 92903040, index 0 of the palette on both sides.
  assert.equal(avatarColour("alice"), "bg-rose-700 text-white");
  assert.equal(avatarColour("ALICE"), avatarColour("alice"));
  assert.equal(avatarColour(""), "bg-rose-700 text-white");
});

test("initials take the first and last words, as the server's", () => {
  assert.equal(initial("Ada Lovelace"), "AL");
  assert.equal(initial("ada"), "A");
  assert.equal(initial("Jean Paul Sartre"), "JS");
  assert.equal(initial("  "), "?");
  assert.equal(initial("émile zola"), "ÉZ");
});

test("display names come from what the server last said, else the username", () => {
  state.me = { id: 1, username: "me", role: "member" };
  learnProfiles([{ username: "Alice", display_name: "Ada", avatar_url: null }]);
  assert.equal(displayName("alice"), "Ada");
  assert.equal(displayName("bob"), "bob");
  assert.equal(chatTitle({ kind: "direct", members: ["me", "alice"] }), "Ada");
  assert.equal(chatTitle({ kind: "group", title: null, members: ["me", "alice", "bob"] }), "Ada, bob");
  assert.equal(senderName({ sender: "carol", sender_display_name: "Carol C" }), "Carol C");
  assert.equal(learnProfiles([{ username: "alice", display_name: "Ada", avatar_url: null }]), false, "nothing new");
  assert.equal(learnProfiles([{ username: "alice", display_name: "Ada L", avatar_url: "/avatars/2/x" }]), true);
});

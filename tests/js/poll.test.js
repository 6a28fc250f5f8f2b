// The long-poll loop (assets/js/poll.js) against a stand-in `fetch`: where it starts,
// what it passes back, and what it does on a lost connection and an expired cursor.

import { test } from "node:test";
import assert from "node:assert/strict";

const { startPolling, currentCursor } = await import("../../assets/js/poll.js");

/** A fetch that answers from `script` in turn (status and body), recording each URL. */
function standIn(script) {
  const urls = [];
  globalThis.fetch = async (url) => {
    urls.push(url);
    const next = script.shift();
    if (!next) return new Promise(() => {}); // the last poll hangs, as a held poll does
    if (next === "offline") throw new TypeError("Failed to fetch");
    return { status: next.status, ok: next.status < 300, text: async () => JSON.stringify(next.body) };
  };
  return urls;
}

const answer = (body) => ({ status: 200, body: { events: [], presence: [], typing: [], receipts: [], ...body } });
const until = async (check) => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
};

test("a page starts from the stream's cursor now, and names its tab", async () => {
  const urls = standIn([answer({ cursor: 41 })]);
  assert.equal(await currentCursor(), 41);
  assert.match(urls[0], /^\/api\/updates\?tab=\d+$/);
});

test("each answer's cursor goes back as `after`; news reaches onUpdate", async () => {
  const event = { seq: 42, type: "chat_removed", chat_id: 3 };
  const urls = standIn([answer({ events: [event], cursor: 42 })]);
  const updates = [];
  const poller = startPolling({ cursor: 41, wait: 25, onUpdate: (d) => updates.push(d), onStatus() {}, onReconnect() {}, onExpired() {} });
  await until(() => urls.length === 2);
  poller.stop();
  assert.match(urls[0], /^\/api\/updates\?after=41&wait=25&tab=\d+$/);
  assert.match(urls[1], /after=42&/);
  assert.deepEqual(updates.map((d) => d.events), [[event]]);
});

test("an answer that only says nobody is typing any more is news", async () => {
  const urls = standIn([answer({ typing: [{ chat_id: 1, username: "bob" }], cursor: 1 }), answer({ cursor: 1 })]);
  const updates = [];
  const poller = startPolling({ cursor: 1, wait: 25, onUpdate: (d) => updates.push(d.typing), onStatus() {}, onReconnect() {}, onExpired() {} });
  await until(() => urls.length === 3);
  poller.stop();
  assert.deepEqual(updates, [[{ chat_id: 1, username: "bob" }], []]);
});

test("after a lost connection the poll comes back and asks for the lists again", async () => {
  const urls = standIn(["offline", answer({ cursor: 5 })]);
  const status = [];
  let reconnects = 0;
  const poller = startPolling({ cursor: 5, wait: 25, onUpdate() {}, onStatus: (ok) => status.push(ok), onReconnect: () => (reconnects += 1), onExpired() {} });
  await until(() => urls.length === 3);
  poller.stop();
  assert.deepEqual(status, [false, true]);
  assert.equal(reconnects, 1);
  assert.match(urls[1], /&wait=0&/, "the first try after a failure is answered at once, not held");
  assert.match(urls[2], /&wait=25&/, "then polls are held again");
});

test("an expired cursor (410) ends the loop and starts the page over", async () => {
  const urls = standIn([{ status: 410, body: { error: { code: "cursor_expired", message: "Start again." } } }, answer({ cursor: 9 })]);
  let expired = 0;
  startPolling({ cursor: 1, wait: 25, onUpdate() {}, onStatus() {}, onReconnect() {}, onExpired: () => (expired += 1) });
  await until(() => expired === 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(urls.length, 1, "no poll after the 410");
});

/** A stand-in for the window's online and offline events. */
const network = () => new EventTarget();

test("going offline shows at once and drops the held poll; coming back online retries at once", async () => {
  const urls = [];
  const signals = [];
  let up = true;
  globalThis.fetch = (url, init) => {
    urls.push(url);
    signals.push(init.signal);
    if (!up) return Promise.reject(new TypeError("Failed to fetch"));
    // A held poll: it answers only when aborted.
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const net = network();
  const status = [];
  const poller = startPolling({ cursor: 1, wait: 25, onUpdate() {}, onStatus: (ok) => status.push(ok), onReconnect() {}, onExpired() {}, network: net });
  await until(() => urls.length === 1);
  up = false;
  net.dispatchEvent(new Event("offline"));
  assert.equal(status[0], false, "reported offline at once");
  assert.equal(signals[0].aborted, true, "the held poll was dropped");
  await until(() => urls.length >= 2);
  // Back: the answer comes at once and clears the badge.
  globalThis.fetch = async (url) => {
    urls.push(url);
    if (urls.length > 50) return new Promise(() => {});
    return { status: 200, ok: true, text: async () => JSON.stringify({ events: [], presence: [], typing: [], receipts: [], cursor: 1 }) };
  };
  const before = Date.now();
  net.dispatchEvent(new Event("online"));
  await until(() => status.includes(true));
  poller.stop();
  assert.ok(Date.now() - before < 300, `cleared ${Date.now() - before} ms after coming back online`);
});

test("while the server is away, retries come at least every 1.5 s", async () => {
  const times = [];
  globalThis.fetch = async () => {
    times.push(Date.now());
    throw new TypeError("Failed to fetch");
  };
  const poller = startPolling({ cursor: 1, wait: 25, onUpdate() {}, onStatus() {}, onReconnect() {}, onExpired() {}, network: network() });
  for (let i = 0; i < 500 && times.length < 6; i += 1) await new Promise((r) => setTimeout(r, 10));
  poller.stop();
  assert.ok(times.length >= 5, `only ${times.length} tries in 5 s`);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(gaps.every((g) => g <= 1600), `gaps ${gaps}`);
});

test("a poll that outlives wait plus the margin is dropped and counts as lost", async () => {
  let calls = 0;
  globalThis.fetch = (url, init) => {
    calls += 1;
    return new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
  };
  const status = [];
  const { STALL_MARGIN_S } = await import("../../assets/js/poll.js");
  const started = Date.now();
  // wait 0: the margin alone; the test waits it out.
  const poller = startPolling({ cursor: 1, wait: 0, onUpdate() {}, onStatus: (ok) => status.push(ok), onReconnect() {}, onExpired() {}, network: network() });
  for (let i = 0; i < 800 && !status.length; i += 1) await new Promise((r) => setTimeout(r, 10));
  poller.stop();
  assert.deepEqual(status.slice(0, 1), [false]);
  const took = Date.now() - started;
  assert.ok(took >= STALL_MARGIN_S * 1000 - 50 && took < STALL_MARGIN_S * 1000 + 1000, `took ${took} ms`);
  assert.ok(calls >= 1);
});

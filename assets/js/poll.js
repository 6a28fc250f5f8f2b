// The long-poll loop: exactly one GET /api/updates in flight per tab. The server holds
// the request until there is news or `wait` seconds pass; we pass its cursor back, so
// every event of our chats arrives exactly once and in order (SPEC "Live events").
// Connection state is reported as soon as it is known: a poll that fails, one that outlives
// `wait` plus a margin (a stalled connection), or the browser going offline shows the
// badge at once; retries come quickly (backoff.js), so the first good answer clears it
// within a couple of seconds of the server or the network coming back.

import { get } from "./api.js";
import { retryDelay } from "./backoff.js";

// How long past `wait` a poll may stay unanswered before it is taken for a dead connection.
export const STALL_MARGIN_S = 5;

// Tabs of one browser share a session; this names ours, so each tab gets every change of
// the fleeting parts (receipts, typing) and not only the one that asked first.
const TAB = Math.floor(Math.random() * 2 ** 31);

/** The stream's cursor now (`/api/updates` without `after` answers at once). */
export async function currentCursor() {
  const data = await get(`/api/updates?tab=${TAB}`);
  return data && typeof data.cursor === "number" ? data.cursor : 0;
}

/**
 * startPolling({cursor, wait, onUpdate, onStatus, onReconnect, onExpired, network}) -> {stop()}
 * onUpdate(data) gets each answer with news ({events, presence, typing, receipts});
 * onStatus(ok) reports connectivity; onReconnect() runs when a poll succeeds after
 * failures (what the ephemeral parts missed must be re-read); onExpired() when the
 * server no longer has our cursor (410): the page must start over. `network` is what
 * fires the browser's `online` and `offline` events (the window; a stand-in in tests).
 */
export function startPolling({
  cursor, wait, onUpdate, onStatus, onReconnect, onExpired,
  network = typeof window === "undefined" ? null : window,
}) {
  let after = cursor || 0;
  let stopped = false;
  let failures = 0;
  let controller = null;
  let lastTyping = "[]";
  let wake = null; // ends the pause between retries early

  function pause(ms) {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  }

  // Offline: say so now, and drop the poll in flight (it may hang until its timeout).
  const offline = () => {
    onStatus(false);
    if (controller) controller.abort();
  };
  // Back online: try at once rather than at the end of the pause.
  const online = () => {
    if (wake) wake();
  };
  if (network) {
    network.addEventListener("offline", offline);
    network.addEventListener("online", online);
  }

  async function once(hold) {
    controller = new AbortController();
    // A stalled connection would otherwise hang the loop for good.
    const timer = setTimeout(() => controller.abort(), (hold + STALL_MARGIN_S) * 1000);
    const started = Date.now();
    try {
      return await get(`/api/updates?after=${encodeURIComponent(after)}&wait=${encodeURIComponent(hold)}&tab=${TAB}`, {
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
      controller = null;
      once.elapsed = Date.now() - started;
    }
  }

  async function loop() {
    while (!stopped) {
      try {
        // After a failure, ask with no wait: a server that is back answers at once (a held
        // poll would keep the badge up until its news or its `wait`).
        const probe = failures > 0;
        const data = (await once(probe ? 0 : wait)) || {};
        if (stopped) return;
        if (probe) onReconnect();
        failures = 0;
        onStatus(true);
        if (typeof data.cursor === "number") after = data.cursor;
        // `typing` is a state, not a delta: news when it changed (to nobody, too), and
        // worth applying while anyone is in it (it says they still are).
        const typing = JSON.stringify(data.typing || []);
        const fresh = typing !== lastTyping || ["events", "presence", "receipts"].some((k) => (data[k] || []).length > 0);
        lastTyping = typing;
        if (fresh || typing !== "[]") onUpdate(data);
        // Guard against a server that answers at once with nothing new: never spin.
        else if (!probe && once.elapsed < 500) await pause(1000);
      } catch (err) {
        if (stopped) return;
        if (err && err.status === 401) return; // api.js is already on its way to /login
        if (err && err.status === 410) {
          stopped = true;
          onExpired();
          return;
        }
        failures += 1;
        if (!(err && (err.name === "ApiError" || err.name === "AbortError"))) console.error(err);
        const transient = !err || err.name === "AbortError" || err.transient;
        onStatus(!transient);
        await pause(retryDelay(failures));
      }
    }
  }

  loop();

  return {
    stop() {
      stopped = true;
      if (network) {
        network.removeEventListener("offline", offline);
        network.removeEventListener("online", online);
      }
      if (controller) controller.abort();
      if (wake) wake();
    },
    get cursor() {
      return after;
    },
  };
}

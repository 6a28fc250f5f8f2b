// The long-poll loop: exactly one GET /api/updates in flight per tab. The server holds
// the request until there is news or `wait` seconds pass; we pass its cursor back, so
// every event of our chats arrives exactly once and in order (SPEC "Live events").

import { get } from "./api.js";

const MAX_BACKOFF_MS = 30_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Tabs of one browser share a session; this names ours, so each tab gets every change of
// the fleeting parts (receipts, typing) and not only the one that asked first.
const TAB = Math.floor(Math.random() * 2 ** 31);

/** The stream's cursor now (`/api/updates` without `after` answers at once). */
export async function currentCursor() {
  const data = await get(`/api/updates?tab=${TAB}`);
  return data && typeof data.cursor === "number" ? data.cursor : 0;
}

/**
 * startPolling({cursor, wait, onUpdate, onStatus, onReconnect, onExpired}) -> {stop()}
 * onUpdate(data) gets each answer with news ({events, presence, typing, receipts});
 * onStatus(ok) reports connectivity; onReconnect() runs when a poll succeeds after
 * failures (what the ephemeral parts missed must be re-read); onExpired() when the
 * server no longer has our cursor (410): the page must start over.
 */
export function startPolling({ cursor, wait, onUpdate, onStatus, onReconnect, onExpired }) {
  let after = cursor || 0;
  let stopped = false;
  let failures = 0;
  let controller = null;
  let lastTyping = "[]";

  async function once() {
    controller = new AbortController();
    // A stalled connection would otherwise hang the loop for good.
    const timer = setTimeout(() => controller.abort(), (wait + 20) * 1000);
    const started = Date.now();
    try {
      return await get(`/api/updates?after=${encodeURIComponent(after)}&wait=${encodeURIComponent(wait)}&tab=${TAB}`, {
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
        const data = (await once()) || {};
        if (failures > 0) onReconnect();
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
        else if (once.elapsed < 500) await sleep(1000);
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
        await sleep(Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1)));
      }
    }
  }

  loop();

  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
    },
    get cursor() {
      return after;
    },
  };
}

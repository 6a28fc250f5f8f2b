// The long-poll loop: exactly one GET /api/updates in flight per tab. The server holds
// the request until there is news or `wait` seconds pass; we pass its cursor back.

import { get } from "./api.js";

const MAX_BACKOFF_MS = 30_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * startPolling({cursor, wait, onUpdate, onStatus}) -> {stop()}
 * onUpdate(data) gets {messages, presence, cursor}; onStatus(ok) reports connectivity.
 */
export function startPolling({ cursor, wait, onUpdate, onStatus }) {
  let after = cursor || 0;
  let stopped = false;
  let failures = 0;
  let controller = null;

  async function once() {
    controller = new AbortController();
    // A stalled connection would otherwise hang the loop for good.
    const timer = setTimeout(() => controller.abort(), (wait + 20) * 1000);
    const started = Date.now();
    try {
      return await get(`/api/updates?after=${encodeURIComponent(after)}&wait=${encodeURIComponent(wait)}`, {
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
        failures = 0;
        onStatus(true);
        if (typeof data.cursor === "number") after = data.cursor;
        const news = (data.messages && data.messages.length) || (data.presence && data.presence.length);
        if (news) onUpdate(data);
        // Guard against a server that answers an empty poll at once: never spin.
        else if (once.elapsed < 500) await sleep(1000);
      } catch (err) {
        if (stopped) return;
        if (err && err.status === 401) return; // api.js is already on its way to /login
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

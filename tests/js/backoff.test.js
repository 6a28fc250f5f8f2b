// Retry delays after failures (assets/js/backoff.js): quick at first, capped low, so a
// server that comes back is found within a couple of seconds.

import { test } from "node:test";
import assert from "node:assert/strict";

const { retryDelay, RETRY_CAP_MS } = await import("../../assets/js/backoff.js");

test("delays double from a quarter second and stop at the cap", () => {
  const none = () => 0; // no jitter
  assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => retryDelay(n, { random: none })), [250, 500, 1000, 1500, 1500, 1500]);
});

test("never more than the cap, never under 80% of the step (jitter)", () => {
  for (let n = 1; n < 30; n += 1) {
    const most = retryDelay(n, { random: () => 0 });
    const least = retryDelay(n, { random: () => 0.999 });
    assert.ok(most <= RETRY_CAP_MS);
    assert.ok(least >= most * 0.8 - 1);
  }
  assert.ok(RETRY_CAP_MS < 2000, "a server back is found within 2 s");
});

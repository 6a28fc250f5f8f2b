// How long to wait before trying the server again after `failures` failures in a row.
// Short and capped: a lost connection is noticed at once and a server that comes back is
// found within a couple of seconds (the badge clears on the first good answer), while a
// server that stays away gets at most one request per tab every RETRY_CAP_MS.

export const RETRY_FIRST_MS = 250;
export const RETRY_CAP_MS = 1500;

/** 250, 500, 1000, 1500, 1500, ... ms, with up to 20% jitter so tabs do not retry in step. */
export function retryDelay(failures, { first = RETRY_FIRST_MS, cap = RETRY_CAP_MS, random = Math.random } = {}) {
  const n = Math.max(1, failures);
  const base = Math.min(cap, first * 2 ** (n - 1));
  return Math.round(base * (1 - 0.2 * random()));
}

// Message search without the page: what a query is worth sending, the request's path, the
// part of a long body to show around its first match, and a debounced asker that drops
// stale answers. No DOM here, so tests/js/search.test.js runs it under `node --test`.

export const DEBOUNCE_MS = 150;
export const MAX_QUERY = 200; // characters, as the server counts them (SPEC "Search")
export const PAGE = 20;

/**
 * Why `q` is not worth asking the server (which would answer 422), or null when it is:
 * "empty", "punctuation" (no letter or digit anywhere), "long" (over 200 characters).
 */
export function queryProblem(q) {
  const text = String(q || "").trim();
  if (!text) return "empty";
  if ([...text].length > MAX_QUERY) return "long";
  if (!/[\p{L}\p{N}]/u.test(text)) return "punctuation";
  return null;
}

/** GET /api/search for `q`, the page after message `before` (the last answer's `next`). */
export function searchPath(q, { before = null, limit = PAGE } = {}) {
  const params = new URLSearchParams({ q: String(q).trim(), limit: String(limit) });
  if (before !== null && before !== undefined) params.set("before", String(before));
  return `/api/search?${params}`;
}

/**
 * The server's `parts` as spans to show on one line: whitespace runs (line breaks too)
 * folded to one space, empty parts dropped, and a long body cut to about `max` characters
 * starting a little before its first match, with "…" where text was left out. A span
 * is `{text, match}`; joined they are what the reader sees.
 */
export function snippet(parts, { max = 160, lead = 40 } = {}) {
  const spans = [];
  for (const part of parts || []) {
    const text = String(part.text || "").replace(/\s+/g, " ");
    if (!text) continue;
    const match = Boolean(part.match);
    const last = spans[spans.length - 1];
    if (last && last.match === match) last.text += text;
    else spans.push({ text, match });
  }
  if (spans.length) {
    spans[0].text = spans[0].text.replace(/^ /, "");
    spans[spans.length - 1].text = spans[spans.length - 1].text.replace(/ $/, "");
  }
  const whole = spans.reduce((n, s) => n + [...s.text].length, 0);
  if (whole <= max) return spans.filter((s) => s.text);

  // Where the first match starts, counted in characters (not UTF-16 units).
  let offset = 0;
  let first = 0;
  for (const s of spans) {
    if (s.match) {
      first = offset;
      break;
    }
    offset += [...s.text].length;
  }
  const start = Math.max(0, Math.min(first - lead, whole - max));
  return cut(spans, start, start + max, whole);
}

/** The characters [from, to) of `spans`, with "…" on each side that was cut. */
function cut(spans, from, to, whole) {
  const out = [];
  let at = 0;
  for (const s of spans) {
    const chars = [...s.text];
    const a = Math.max(from, at);
    const b = Math.min(to, at + chars.length);
    if (a < b) out.push({ "text": chars.slice(a - at, b - at).join(""), match: s.match });
    at += chars.length;
  }
  if (from > 0) out.unshift({ text: "…", match: false });
  if (to < whole) out.push({ text: "…", match: false });
  return out;
}

/**
 * Asks for the latest query only. `ask(key)` waits for `delay` ms without another ask,
 * then runs `run(key, signal)`; `now(key)` runs at once (the next page). Each ask or now
 * aborts the request before it, and an answer (or failure) reaches `onAnswer(key,
 * value)` / `onError(key, err)` only if nothing newer was asked since: a slow answer to
 * "ca" never replaces the one to "cat". `cancel()` drops whatever is pending.
 */
export function latestOnly(run, { delay = DEBOUNCE_MS, onAnswer, onError, timers = globalThis } = {}) {
  let seq = 0;
  let timer = null;
  let controller = null;

  function stop() {
    if (timer !== null) timers.clearTimeout(timer);
    timer = null;
    if (controller) controller.abort();
    controller = null;
  }

  async function start(key, mine) {
    timer = null;
    const own = new AbortController();
    controller = own;
    try {
      const value = await run(key, own.signal);
      if (mine === seq) onAnswer(key, value);
    } catch (err) {
      if (mine === seq && !own.signal.aborted) onError(key, err);
    } finally {
      if (controller === own) controller = null;
    }
  }

  return {
    ask(key) {
      stop();
      seq += 1;
      const mine = seq;
      timer = timers.setTimeout(() => start(key, mine), delay);
    },
    now(key) {
      stop();
      seq += 1;
      return start(key, seq);
    },
    cancel() {
      stop();
      seq += 1;
    },
    /** A request is waiting for its delay or for its answer. */
    get pending() {
      return timer !== null || controller !== null;
    },
  };
}

// Message search without the page (assets/js/search_query.js): which queries are worth
// sending, the request's path, the part of a body shown around its match, and the asker
// that waits for a pause in the typing and drops stale answers. `node --test tests/js/`.

import { test } from "node:test";
import assert from "node:assert/strict";

import { latestOnly, queryProblem, searchPath, snippet, DEBOUNCE_MS } from "../../assets/js/search_query.js";

test("empty, punctuation-only and over-long queries are not sent (the server would answer 422)", () => {
  assert.equal(queryProblem(""), "empty");
  assert.equal(queryProblem("   \n"), "empty");
  assert.equal(queryProblem(`"*(-:)"`), "punctuation");
  assert.equal(queryProblem("!!! ???"), "punctuation");
  assert.equal(queryProblem("a".repeat(201)), "long");
  assert.equal(queryProblem("é".repeat(200)), null, "characters are counted, not bytes");
  assert.equal(queryProblem("NEAR(cat"), null, "FTS syntax is text for the server to handle");
  assert.equal(queryProblem("日本"), null);
  assert.equal(queryProblem("42"), null);
});

test("the path carries the trimmed query, encoded, and the page to continue from", () => {
  assert.equal(searchPath("  cats & dogs "), "/api/search?q=cats+%26+dogs&limit=20");
  assert.equal(searchPath('"a b"', { before: 41 }), "/api/search?q=%22a+b%22&limit=20&before=41");
  assert.equal(searchPath("x", { before: null, limit: 5 }), "/api/search?q=x&limit=5");
});

const parts = (...pairs) => pairs.map(([text, match]) => ({ text, match }));

test("a short body is shown whole, on one line, its parts in order", () => {
  const shown = snippet(parts(["Meet at the ", false], ["Zeppelin", true], ["\nhangar  at\tnine ", false]));
  assert.deepEqual(shown, parts(["Meet at the ", false], ["Zeppelin", true], [" hangar at nine", false]));
});

test("empty parts go and neighbours of one kind join", () => {
  const shown = snippet(parts(["", false], ["cat", true], ["", false], ["s", true], [" here", false]));
  assert.deepEqual(shown, parts(["cats", true], [" here", false]));
  assert.deepEqual(snippet([]), []);
});

test("a long body is cut around its first match, with an ellipsis where text was left out", () => {
  const before = "word ".repeat(60); // 300 characters
  const after = " tail".repeat(60);
  const shown = snippet(parts([before, false], ["needle", true], [after, false]), { max: 100, lead: 20 });
  const text = shown.map((s) => s.text).join("");
  assert.equal(shown[0].text, "…");
  assert.equal(shown[shown.length - 1].text, "…");
  assert.deepEqual(shown.filter((s) => s.match), parts(["needle", true]));
  assert.ok(text.indexOf("needle") >= 18 && text.indexOf("needle") <= 22, text);
  assert.equal([...text].length, 102, "100 characters and two ellipses");
});

test("a match near the end keeps the window full; one at the start needs no leading ellipsis", () => {
  const long = "x".repeat(300);
  const late = snippet(parts([long, false], ["end", true]), { max: 50 });
  assert.deepEqual(late[late.length - 1], { text: "end", match: true });
  assert.equal(late[0].text, "…");
  const early = snippet(parts(["start", true], [long, false]), { max: 50 });
  assert.deepEqual(early[0], { text: "start", match: true });
  assert.equal(early[early.length - 1].text, "…");
});

test("cutting never splits a character outside the BMP", () => {
  const shown = snippet(parts(["😀".repeat(100), false], ["hit", true]), { max: 20, lead: 5 });
  for (const s of shown) assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(s.text), "no lone surrogate");
});

/** Stand-in timers: `advance(ms)` fires what is due. */
function clock() {
  let now = 0;
  let timers = [];
  let nextId = 1;
  return {
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.push({ id, at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      timers = timers.filter((t) => t.id !== id);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

/** A run() whose answers the test releases by hand, in any order; `deaf` ignores aborts. */
function requests({ deaf = false } = {}) {
  const made = [];
  const run = (key, signal) => new Promise((resolve, reject) => {
    made.push({ key, signal, resolve, reject });
    if (!deaf) signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
  });
  return { made, run };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("typing asks once, after a pause, for what was typed last", async () => {
  const timers = clock();
  const { made, run } = requests();
  const answers = [];
  const asker = latestOnly(run, { timers, onAnswer: (k, v) => answers.push([k, v]), onError: assert.fail });
  asker.ask("c");
  timers.advance(DEBOUNCE_MS - 1);
  asker.ask("ca");
  timers.advance(DEBOUNCE_MS - 1);
  asker.ask("cat");
  assert.equal(made.length, 0, "nothing yet: still typing");
  assert.ok(asker.pending);
  timers.advance(DEBOUNCE_MS);
  assert.deepEqual(made.map((r) => r.key), ["cat"]);
  made[0].resolve(["r1"]);
  await settle();
  assert.deepEqual(answers, [["cat", ["r1"]]]);
  assert.ok(!asker.pending);
});

test("a newer query aborts the older request, and a late answer to it is dropped", async () => {
  const timers = clock();
  const { made, run } = requests({ deaf: true });
  const answers = [];
  const errors = [];
  const asker = latestOnly(run, { timers, onAnswer: (k) => answers.push(k), onError: (k, e) => errors.push([k, e]) });
  asker.ask("ca");
  timers.advance(DEBOUNCE_MS);
  asker.ask("cat");
  assert.ok(made[0].signal.aborted, "the request for the old query is cancelled");
  timers.advance(DEBOUNCE_MS);
  made[1].resolve("new");
  made[0].resolve("old, too late"); // as if the abort came after the answer was on its way
  await settle();
  assert.deepEqual(answers, ["cat"]);
  assert.deepEqual(errors, []);
});

test("an aborted request is no error to show", async () => {
  const timers = clock();
  const { run } = requests();
  const errors = [];
  const asker = latestOnly(run, { timers, onAnswer: () => {}, onError: (k) => errors.push(k) });
  asker.ask("ca");
  timers.advance(DEBOUNCE_MS);
  asker.cancel();
  await settle();
  assert.deepEqual(errors, []);
});

test("a stale failure is dropped too; a current one is reported", async () => {
  const timers = clock();
  const { made, run } = requests();
  const errors = [];
  const asker = latestOnly(run, { timers, onAnswer: () => {}, onError: (k) => errors.push(k) });
  asker.now({ q: "dog", before: 9 });
  asker.ask("dogs");
  timers.advance(DEBOUNCE_MS);
  made[1].reject(new Error("server down"));
  await settle();
  assert.deepEqual(errors, ["dogs"]);
});

test("now() skips the pause (the next page); cancel() drops what is pending", async () => {
  const timers = clock();
  const { made, run } = requests();
  const answers = [];
  const asker = latestOnly(run, { timers, onAnswer: (k) => answers.push(k), onError: assert.fail });
  asker.now("page 2");
  assert.equal(made.length, 1);
  asker.cancel();
  assert.ok(made[0].signal.aborted);
  asker.ask("typed");
  asker.cancel();
  timers.advance(DEBOUNCE_MS * 2);
  assert.equal(made.length, 1, "a cancelled ask never runs");
  await settle();
  assert.deepEqual(answers, []);
});

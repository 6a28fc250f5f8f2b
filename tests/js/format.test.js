// The message formatter (assets/js/format.js): `node --test tests/js/`, no framework.
// parse() is pure, so these run without a browser; render() is proved in the browser
// suite (tests/browser/formatting.rs).

import { test } from "node:test";
import assert from "node:assert/strict";

import { parse, plainText } from "../../assets/js/format.js";

const text = (t) => ({ type: "text", value: t });
const br = { type: "br" };

test("plain text is one text node, kept exactly", () => {
  assert.deepEqual(parse("hello there"), [text("hello there")]);
  assert.deepEqual(parse(""), []);
  assert.deepEqual(parse("  two  spaces  "), [text("  two  spaces  ")]);
});

test("markup and HTML stay literal text", () => {
  const hostile = `<img src=x onerror="alert(1)"><script>alert(1)</script>&amp;`;
  assert.deepEqual(parse(hostile), [text(hostile)]);
});

test("line breaks become br nodes, empty lines included", () => {
  assert.deepEqual(parse("a\nb\r\n\nc"), [text("a"), br, text("b"), br, br, text("c")]);
});

test("bold, italic in both spellings, strike and code", () => {
  assert.deepEqual(parse("**b** *i* _j_ ~~s~~ `c`"), [
    { type: "bold", children: [text("b")] },
    text(" "),
    { type: "italic", children: [text("i")] },
    text(" "),
    { type: "italic", children: [text("j")] },
    text(" "),
    { type: "strike", children: [text("s")] },
    text(" "),
    { type: "code", value: "c" },
  ]);
});

test("formatting nests", () => {
  assert.deepEqual(parse("**bold _and italic_**"), [
    { type: "bold", children: [text("bold "), { type: "italic", children: [text("and italic")] }] },
  ]);
});

test("code is literal inside: no formatting, no links", () => {
  assert.deepEqual(parse("`**not bold** https://x.test`"), [{ type: "code", value: "**not bold** https://x.test" }]);
});

test("delimiters inside words, around spaces or unclosed stay literal", () => {
  for (const literal of ["snake_case_name", "` `", "2*3*4", "* not italic *", "**unclosed", "a ~~ b", "``", "****", "__"]) {
    assert.deepEqual(parse(literal), [text(literal)], literal);
  }
  assert.deepEqual(parse("`x` and `"), [{ type: "code", value: "x" }, text(" and `")]);
});

test("a single star does not close on a double one", () => {
  assert.deepEqual(parse("*a**"), [text("*a**")]);
});

test("formatting does not cross lines", () => {
  assert.deepEqual(parse("**a\nb**"), [text("**a"), br, text("b**")]);
});

test("http and https URLs are links, trailing punctuation left out", () => {
  assert.deepEqual(parse("see https://example.com/a_b_c?q=1, then (http://x.test/y)."), [
    text("see "),
    { type: "link", href: "https://example.com/a_b_c?q=1", value: "https://example.com/a_b_c?q=1" },
    text(", then ("),
    { type: "link", href: "http://x.test/y", value: "http://x.test/y" },
    text(")."),
  ]);
});

test("other schemes and glued URLs are not links", () => {
  for (const literal of ["javascript:alert(1)", "ftp://x.test", "xhttps://x.test", "https://", "data:text/html,<b>"]) {
    assert.deepEqual(parse(literal), [text(literal)], literal);
  }
});

test("an underscore in a link closes no italic", () => {
  assert.deepEqual(parse("_see https://x.test/a_b_"), [
    { type: "italic", children: [text("see "), { type: "link", href: "https://x.test/a_b", value: "https://x.test/a_b" }] },
  ]);
});

test("fenced code blocks keep their lines literally; a language tag is dropped", () => {
  assert.deepEqual(parse("look:\n```js\nconst a = **1**;\n  <b>x</b>\n```\ndone"), [
    text("look:"),
    { type: "codeblock", value: "const a = **1**;\n  <b>x</b>" },
    text("done"),
  ]);
  assert.deepEqual(parse("```one line```"), [{ type: "codeblock", value: "one line" }]);
  assert.deepEqual(parse("```\nfirst\nlast```"), [{ type: "codeblock", value: "first\nlast" }]);
});

test("an unclosed fence is literal text", () => {
  assert.deepEqual(parse("```\nstill text"), [text("```"), br, text("still text")]);
});

test("consecutive quote lines are one quote, formatted inside", () => {
  assert.deepEqual(parse("> first **line**\n> second\nreply"), [
    { type: "quote", children: [text("first "), { type: "bold", children: [text("line")] }, br, text("second")] },
    text("reply"),
  ]);
  assert.deepEqual(parse(">not a quote"), [text(">not a quote")]);
});

test("mentions of the people the message mentions, any case; others stay text", () => {
  const opts = { mentions: ["bob", "carol"], me: "carol" };
  assert.deepEqual(parse("@Bob and @carol, not @dave or me@bob", opts), [
    { type: "mention", value: "@Bob", name: "Bob", me: false },
    text(" and "),
    { type: "mention", value: "@carol", name: "carol", me: true },
    text(", not @dave or me@bob"),
  ]);
});

test("a mention at the end of a sentence leaves the full stop out", () => {
  assert.deepEqual(parse("thanks @bob.", { mentions: ["bob"] }), [
    text("thanks "),
    { type: "mention", value: "@bob", name: "bob", me: false },
    text("."),
  ]);
  assert.deepEqual(parse("hi @b.o.b", { mentions: ["b.o.b"] }), [
    text("hi "),
    { type: "mention", value: "@b.o.b", name: "b.o.b", me: false },
  ]);
});

test("@all mentions the reader in a group only", () => {
  const group = parse("@all stand-up", { mentions: ["carol"], me: "carol", all: true });
  assert.deepEqual(group[0], { type: "mention", value: "@all", name: "all", me: true });
  assert.deepEqual(parse("@all stand-up", { mentions: [], me: "carol" }), [text("@all stand-up")]);
});

test("formatting around a mention", () => {
  assert.deepEqual(parse("**@bob**", { mentions: ["bob"] }), [
    { type: "bold", children: [{ type: "mention", value: "@bob", name: "bob", me: false }] },
  ]);
});

test("a pathological body parses, and stays text", () => {
  const body = "*_~~**`".repeat(570).slice(0, 4000);
  assert.equal(plainText(parse(body)).length > 0, true);
  const stars = "*a".repeat(2000);
  assert.equal(plainText(parse(stars)), stars);
});

test("plainText drops the marks and keeps the words", () => {
  assert.equal(plainText(parse("**Ship** it _today_, see `make` > no\n> quoted")), "Ship it today, see make > no\nquoted");
});

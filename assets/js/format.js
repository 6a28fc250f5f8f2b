// Message formatting as SPEC "Messages, v2" lists it: **bold**, *italic* or _italic_,
// ~~strike~~, `code`, fenced code blocks, lines starting "> " as a quote, http(s) links
// and line breaks; mentions of the chat's members. Everything else stays literal.
//
// Two steps: parse() turns the raw text into a plain tree (no DOM, so `node --test`
// checks it: tests/js/format.test.js), and render() builds DOM nodes from the tree with
// createElement and text nodes only. The text of a tree node never becomes markup.

/** Inline formatting inside inline formatting, at most this deep: beyond, it is text. */
const MAX_DEPTH = 4;

const URL_RE = /^https?:\/\/[^\s<>"'`]+/i;
const TRAILING_PUNCT = /[.,;:!?)\]}'"*_~]+$/;
const NAME_RE = /^@([\p{L}\p{N}_.-]+)/u;
const WORD = /[\p{L}\p{N}]/u;
const DELIMITERS = ["**", "~~", "*", "_"];
const STYLE_OF = { "**": "bold", "~~": "strike", "*": "italic", _: "italic" };
const FENCE = "```";
const LANGUAGE = /^[\w+#.-]{1,20}$/;

/**
 * The tree of a message body: an array of nodes, each one of
 *   {type: "text", value}             literal text
 *   {type: "br"}                      a line break
 *   {type: "bold" | "italic" | "strike", children}
 *   {type: "code", value}             `inline code`
 *   {type: "codeblock", value}        a fenced block (its lines joined by "\n")
 *   {type: "quote", children}         consecutive "> " lines
 *   {type: "link", href, value}       an http(s) URL (`value` the text shown)
 *   {type: "mention", value, name, me} "@name" of someone the message mentions (`me`: the reader)
 * Options: `mentions` the usernames the message mentions (the API's `mentions`), `me` the
 * reader's username, `all` whether `@all` means something (a group).
 */
export function parse(text, { mentions = [], me = "", all = false } = {}) {
  const ctx = {
    mentioned: new Set(mentions.map((m) => String(m).toLowerCase())),
    me: String(me).toLowerCase(),
    all,
  };
  const lines = String(text).split(/\r\n|\n|\r/);
  const out = [];
  let paragraph = [];

  const flush = () => {
    if (!paragraph.length) return;
    paragraph.forEach((line, i) => {
      if (i) out.push({ type: "br" });
      out.push(...inline(line, ctx, 0));
    });
    paragraph = [];
  };

  for (let i = 0; i < lines.length; i += 1) {
    const fenced = codeBlock(lines, i);
    if (fenced) {
      flush();
      out.push({ type: "codeblock", value: fenced.value });
      i = fenced.end;
      continue;
    }
    if (isQuoteLine(lines[i])) {
      flush();
      const children = [];
      for (; i < lines.length && isQuoteLine(lines[i]); i += 1) {
        if (children.length) children.push({ type: "br" });
        children.push(...inline(lines[i].replace(/^> ?/, ""), ctx, 0));
      }
      i -= 1;
      out.push({ type: "quote", children });
      continue;
    }
    paragraph.push(lines[i]);
  }
  flush();
  return merged(out);
}

const isQuoteLine = (line) => line.startsWith("> ") || line === ">";

/**
 * A fenced block opening at line `start`: "```" (or "```lang") on a line, up to a line
 * that ends with "```". Also "```code```" on one line. Unclosed: not a block.
 */
function codeBlock(lines, start) {
  const first = lines[start];
  if (!first.startsWith(FENCE)) return null;
  const rest = first.slice(FENCE.length);
  if (rest.length > FENCE.length && rest.endsWith(FENCE)) {
    return { value: rest.slice(0, -FENCE.length), end: start };
  }
  const body = [];
  if (rest.trim() && !LANGUAGE.test(rest.trim())) body.push(rest);
  for (let i = start + 1; i < lines.length; i += 1) {
    const line = lines[i];
    if (line.trimEnd().endsWith(FENCE)) {
      const last = line.trimEnd().slice(0, -FENCE.length);
      if (last) body.push(last);
      return { value: body.join("\n"), end: i };
    }
    body.push(line);
  }
  return null;
}

/** Inline nodes of one line. */
function inline(s, ctx, depth) {
  const out = [];
  let literal = "";
  const push = (node) => {
    if (literal) out.push({ type: "text", value: literal });
    literal = "";
    out.push(node);
  };

  let i = 0;
  while (i < s.length) {
    const rest = s.slice(i);
    const code = codeSpan(rest);
    if (code) {
      push({ type: "code", value: code.value });
      i += code.length;
      continue;
    }
    const url = urlAt(s, i);
    if (url) {
      push({ type: "link", href: url, value: url });
      i += url.length;
      continue;
    }
    const mention = mentionAt(s, i, ctx);
    if (mention) {
      push(mention);
      i += mention.value.length;
      continue;
    }
    const styled = depth < MAX_DEPTH ? emphasisAt(s, i) : null;
    if (styled) {
      push({ type: STYLE_OF[styled.delimiter], children: inline(styled.inner, ctx, depth + 1) });
      i = styled.end;
      continue;
    }
    literal += s[i];
    i += 1;
  }
  if (literal) out.push({ type: "text", value: literal });
  return out;
}

/** `code` at the start of `rest`: non-empty, no backtick inside. */
function codeSpan(rest) {
  if (rest[0] !== "`" || rest.startsWith("``")) return null;
  const close = rest.indexOf("`", 1);
  if (close < 2 || !rest.slice(1, close).trim()) return null;
  return { value: rest.slice(1, close), length: close + 1 };
}

/** An http(s) URL starting at s[i] (not glued to a word before it), trailing punctuation left out. */
function urlAt(s, i) {
  if (s[i] !== "h" && s[i] !== "H") return null;
  if (i > 0 && WORD.test(s[i - 1])) return null;
  const m = URL_RE.exec(s.slice(i));
  if (!m) return null;
  const url = m[0].replace(TRAILING_PUNCT, "");
  return /^https?:\/\/./i.test(url) ? url : null;
}

/**
 * "@name" at s[i] when the message mentions that person (or "@all" in a group); the
 * longest such name, so "@bob." at the end of a sentence is "@bob" and a full stop.
 */
function mentionAt(s, i, ctx) {
  if (s[i] !== "@") return null;
  if (i > 0 && (WORD.test(s[i - 1]) || "_.-@".includes(s[i - 1]))) return null;
  const m = NAME_RE.exec(s.slice(i));
  if (!m) return null;
  for (let name = m[1]; name; name = name.slice(0, -1)) {
    const key = name.toLowerCase();
    const isAll = ctx.all && key === "all";
    if (isAll || ctx.mentioned.has(key)) {
      const me = isAll ? ctx.mentioned.has(ctx.me) : key === ctx.me;
      return { type: "mention", value: `@${name}`, name, me: Boolean(me) };
    }
    if (!/[_.-]$/.test(name)) return null;
  }
  return null;
}

/**
 * **bold**, ~~strike~~, *italic* or _italic_ opening at s[i]: the delimiter is not glued
 * to a word before it, the text inside neither begins nor ends with a space, and the
 * closing delimiter is not glued to a word after it. Code spans and links inside are
 * skipped over while looking for the close, so a `*` in them closes nothing.
 */
function emphasisAt(s, i) {
  const delimiter = DELIMITERS.find((d) => s.startsWith(d, i));
  if (!delimiter) return null;
  if (i > 0 && WORD.test(s[i - 1])) return null;
  const from = i + delimiter.length;
  if (from >= s.length || /\s/.test(s[from])) return null;
  for (let j = from; j < s.length; ) {
    const code = codeSpan(s.slice(j));
    if (code) {
      j += code.length;
      continue;
    }
    const url = urlAt(s, j);
    if (url) {
      j += url.length;
      continue;
    }
    if (j > from && s.startsWith(delimiter, j) && !/\s/.test(s[j - 1])) {
      const after = j + delimiter.length;
      // "*a**" is not italic "a*": a single delimiter does not close on a double one.
      const doubled = delimiter.length === 1 && (s[after] === delimiter || s[j - 1] === delimiter);
      if (!doubled && !(after < s.length && WORD.test(s[after]))) {
        return { delimiter, inner: s.slice(from, j), end: after };
      }
    }
    j += 1;
  }
  return null;
}

/** Adjacent text nodes as one. */
function merged(nodes) {
  const out = [];
  for (const node of nodes) {
    const prev = out[out.length - 1];
    if (node.type === "text" && prev && prev.type === "text") prev.value += node.value;
    else out.push(node);
  }
  return out;
}

const isBlock = (node) => node.type === "quote" || node.type === "codeblock";

/** The text a tree shows, without the formatting marks (a block on lines of its own). */
export function plainText(tree) {
  return tree
    .map((node, i) => {
      const before = i > 0 && (isBlock(node) || isBlock(tree[i - 1])) ? "\n" : "";
      return before + plainNode(node);
    })
    .join("");
}

function plainNode(node) {
  switch (node.type) {
    case "br":
      return "\n";
    case "bold":
    case "italic":
    case "strike":
    case "quote":
      return plainText(node.children);
    default:
      return node.value;
  }
}

const TAGS = { bold: "strong", italic: "em", strike: "s", quote: "blockquote" };

/**
 * DOM nodes for a tree. `classes` styles the elements per node type (link, code,
 * codeblock, quote, mention, mentionMe): the bubble decides its colours. A line break is
 * a "\n" text node: the body is shown with `white-space: pre-wrap`, so what is copied
 * keeps its lines. Blocks and links are their own bidi isolates (`dir="auto"`).
 */
export function render(tree, classes = {}) {
  return tree.map((node) => {
    switch (node.type) {
      case "text":
        return document.createTextNode(node.value);
      case "br":
        return document.createTextNode("\n");
      case "bold":
      case "italic":
      case "strike":
      case "quote": {
        const e = document.createElement(TAGS[node.type]);
        if (classes[node.type]) e.className = classes[node.type];
        if (node.type === "quote") e.setAttribute("dir", "auto");
        e.append(...render(node.children, classes));
        return e;
      }
      case "code":
        return textElement("code", node.value, classes.code);
      case "codeblock": {
        const pre = document.createElement("pre");
        if (classes.codeblock) pre.className = classes.codeblock;
        pre.setAttribute("dir", "auto");
        pre.append(textElement("code", node.value));
        return pre;
      }
      case "link": {
        const a = textElement("a", node.value, classes.link);
        a.setAttribute("href", node.href);
        a.setAttribute("target", "_blank");
        a.setAttribute("rel", "noopener noreferrer nofollow");
        a.setAttribute("dir", "auto");
        return a;
      }
      case "mention": {
        const span = textElement("span", node.value, node.me ? classes.mentionMe : classes.mention);
        span.setAttribute("dir", "auto");
        span.dataset.mention = node.name;
        if (node.me) span.dataset.mentionMe = "";
        return span;
      }
      default:
        return document.createTextNode("");
    }
  });
}

function textElement(tag, text, className) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  e.textContent = text;
  return e;
}

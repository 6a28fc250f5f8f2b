// A tiny element builder. Text goes in through textContent / text nodes only,
// never as HTML, so user data can't become markup.

/**
 * el("a", { class: "...", href: "/x", text: "hi", dataset: { id: 1 }, on: { click } }, child...)
 * Children may be nodes, strings (as text), arrays, or null/false (skipped).
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    switch (key) {
      case "class":
        node.className = value;
        break;
      case "text":
        node.textContent = String(value);
        break;
      case "dataset":
        for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
        break;
      case "on":
        for (const [type, fn] of Object.entries(value)) node.addEventListener(type, fn);
        break;
      case "hidden":
        node.hidden = Boolean(value);
        break;
      case "style":
      case "innerHTML":
        throw new Error(`el(): "${key}" is not allowed`);
      default:
        node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

export const byId = (id) => document.getElementById(id);

/** Show or hide with the `hidden` attribute (app.css makes it beat display utilities). */
export function show(node, visible) {
  if (node) node.hidden = !visible;
}

export function setText(node, text) {
  if (node) node.textContent = text;
}

/**
 * Text for a string that mixes in what people wrote (a tooltip, a list of names): each
 * piece between U+2068 FIRST STRONG ISOLATE and U+2069 POP DIRECTIONAL ISOLATE, so a
 * right-to-left name or an override inside it cannot reorder the rest. Elements get
 * `dir: "auto"` instead.
 */
export function isolate(text) {
  return `\u2068${text}\u2069`;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING_PUNCT = /[.,;:!?)\]}'"]+$/;

/** Text with http(s) links as <a> elements; everything else stays plain text. */
export function linkified(text, linkClass) {
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    let url = match[0];
    const trail = url.match(TRAILING_PUNCT);
    if (trail) url = url.slice(0, -trail[0].length);
    if (!url) continue;
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(el("a", { href: url, class: linkClass, target: "_blank", rel: "noopener noreferrer nofollow", dir: "auto", text: url }));
    last = match.index + url.length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

// Avatar colours, as full literal class strings so Tailwind keeps them.
const AVATAR_COLOURS = [
  "bg-rose-100 text-rose-700",
  "bg-amber-100 text-amber-800",
  "bg-emerald-100 text-emerald-700",
  "bg-sky-100 text-sky-700",
  "bg-violet-100 text-violet-700",
  "bg-indigo-100 text-indigo-700",
  "bg-teal-100 text-teal-700",
  "bg-fuchsia-100 text-fuchsia-700",
];

export function avatarColour(name) {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return AVATAR_COLOURS[h % AVATAR_COLOURS.length];
}

export function initial(name) {
  const first = [...(name || "?").trim()][0] || "?";
  return first.toUpperCase();
}

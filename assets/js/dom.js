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
/** The "bot" badge shown beside a bot account's name. */
export function botBadge() {
  return el("span", { class: "shrink-0 rounded bg-gray-100 px-1 py-px text-[10px] font-semibold uppercase tracking-wide text-gray-600 ring-1 ring-inset ring-gray-300", "data-bot-badge": true, text: "bot" });
}

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

const SVG = "http://www.w3.org/2000/svg";

/** A 20x20 stroke icon from path data (the app's own drawings, never user data). */
export function icon(paths, className = "h-4 w-4") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "1.6");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", className);
  for (const d of [].concat(paths)) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const ICONS = {
  check: "M4.5 10.5l3.5 3.5 7.5-8",
  checks: ["M1.5 10.5l3.5 3.5 7.5-8", "M9 14l7.5-8"],
  pencil: ["M13.5 3.5l3 3L7 16H4v-3z", "M11.5 5.5l3 3"],
  trash: ["M4 6h12", "M8 6V4h4v2", "M5.5 6l.8 10h7.4l.8-10", "M8.5 9v4.5", "M11.5 9v4.5"],
  smile: ["M17 10a7 7 0 1 1-7-7", "M7 11.5a3.5 3.5 0 0 0 6 0", "M7.5 8h.01", "M12.5 8h.01", "M15 2v5", "M12.5 4.5h5"],
  people: ["M7.5 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6z", "M2 17c0-3 2.5-5 5.5-5s5.5 2 5.5 5", "M13 3.5a3 3 0 0 1 0 5.5", "M15 12c1.8.6 3 2.3 3 5"],
  close: "M5 5l10 10M15 5L5 15",
  download: ["M10 3v10", "M6 9.5l4 4 4-4", "M4 16.5h12"],
};

// Avatar colours, as full literal class strings so Tailwind keeps them: the server's
// list (src/profile/mod.rs, PALETTE) in its order, each with white text at 4.5:1 or more.
const AVATAR_COLOURS = [
  "bg-rose-700 text-white",
  "bg-amber-700 text-white",
  "bg-emerald-700 text-white",
  "bg-sky-700 text-white",
  "bg-violet-600 text-white",
  "bg-indigo-600 text-white",
  "bg-teal-700 text-white",
  "bg-fuchsia-700 text-white",
];

export function avatarColour(name) {
  let h = 0;
  for (const ch of name.toLowerCase()) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return AVATAR_COLOURS[h % AVATAR_COLOURS.length];
}

/** Up to two initials: the first and last words' first letters (as the server's `initials`). */
export function initial(name) {
  const words = String(name || "").trim().split(/\s+/).filter(Boolean);
  const first = (w) => ([...(w || "")][0] || "").toUpperCase();
  const out = first(words[0]) + (words.length > 1 ? first(words[words.length - 1]) : "");
  return out || "?";
}

/**
 * A combobox's active option: `options[i]` selected and styled `active` (the others
 * `idle`, both after `base`), named by the input's aria-activedescendant and scrolled
 * into view; none when `i` is -1.
 */
export function markActive(input, options, i, { base, idle, active }) {
  options.forEach((option, n) => {
    option.setAttribute("aria-selected", n === i ? "true" : "false");
    option.className = `${base} ${n === i ? active : idle}`;
  });
  const option = i >= 0 ? options[i] : null;
  if (option) {
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

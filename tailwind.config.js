/** Tailwind v3 config for Kanect. Build with `npm run build:css`; the output
 * (assets/css/app.css) is committed because the Rust build never runs Node.
 *
 * Themes: the colours that change between light and dark are CSS custom properties,
 * set on <html data-theme> (the server renders the person's choice there, so nothing
 * flashes) and, for `system`, by prefers-color-scheme. Templates keep their ordinary
 * classes (bg-white, text-gray-900, ...); in dark, surfaces and tints darken and text
 * lightens. What does not change: saturated backgrounds (buttons, badges, avatars:
 * white text on them keeps its contrast in both) and white text. */
import { readdirSync, readFileSync } from "node:fs";
import colors from "tailwindcss/colors";

const HUES = ["red", "orange", "amber", "yellow", "lime", "green", "emerald", "teal", "cyan",
  "sky", "blue", "indigo", "violet", "purple", "fuchsia", "pink", "rose"];
const SHADES = ["50", "100", "200", "300", "400", "500", "600", "700", "800", "900", "950"];

const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(" ");
const ref = (name) => `rgb(var(--${name}) / <alpha-value>)`;

// Dark surfaces, one step apart; the light greys' dark stand-ins.
const DARK_GREYS = {
  white: "#151b28", 50: "#0d111b", 100: "#1f2633", 200: "#2e3746", 300: "#434d5e",
  400: "#6b7585", 500: "#8f98a8", 600: "#b4bcc8", 700: "#d5dae2",
};
// Text greys in dark: every one at least 4.5:1 on the darkest surface it sits on.
const DARK_TEXT_GREYS = {
  300: "#566173", 400: "#9aa3b2", 500: "#a3acba", 600: "#c3c9d3", 700: "#dde1e8",
  800: "#eceef2", 900: "#f5f6f8", 950: "#ffffff",
};
// Tints (backgrounds 50-300 of each hue) become deep shades; coloured text lightens.
const TINT_TO = { 50: "950", 100: "900", 200: "800", 300: "700" };
const TEXT_TO = { 500: "400", 600: "300", 700: "300", 800: "200", 900: "100", 950: "50" };

/** The colours the sources name, as `c-hue-shade` (a background, border, ring...) and
 * `t-hue-shade` (text): only their properties are written, which keeps the style sheet
 * small. `theme("colors.amber.100")` in input.css counts as a background. */
function used() {
  const files = ["templates", "assets/js"].flatMap((dir) =>
    readdirSync(dir, { recursive: true }).map((f) => `${dir}/${f}`).filter((f) => /\.(tera|js)$/.test(f)));
  files.push("assets/css/input.css");
  const found = new Set();
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(/([a-z]+)[-.]([a-z]+)[-.](\d{2,3})\b/g)) {
      const text = ["text", "placeholder", "decoration", "caret"].includes(m[1]);
      found.add(`${text ? "t" : "c"}-${m[2]}-${m[3]}`);
    }
  }
  return found;
}

/** Every custom property: [name, light value, dark value]. */
function properties() {
  const out = [["c-white", "#ffffff", DARK_GREYS.white]];
  for (const [shade, dark] of Object.entries(DARK_GREYS)) {
    if (shade !== "white") out.push([`c-gray-${shade}`, colors.gray[shade], dark]);
  }
  for (const [shade, dark] of Object.entries(DARK_TEXT_GREYS)) out.push([`t-gray-${shade}`, colors.gray[shade], dark]);
  const named = used();
  for (const hue of HUES) {
    for (const [shade, to] of Object.entries(TINT_TO)) {
      if (named.has(`c-${hue}-${shade}`)) out.push([`c-${hue}-${shade}`, colors[hue][shade], colors[hue][to]]);
    }
    for (const [shade, to] of Object.entries(TEXT_TO)) {
      if (named.has(`t-${hue}-${shade}`)) out.push([`t-${hue}-${shade}`, colors[hue][shade], colors[hue][to]]);
    }
  }
  return out;
}

/** A colour scale: the themed shades by reference, the others as they are. */
function scale(hue, themed, prefix) {
  return Object.fromEntries(SHADES.map((s) => [s, themed.includes(s) ? ref(`${prefix}-${hue}-${s}`) : colors[hue][s]]));
}

const background = {
  white: ref("c-white"),
  gray: scale("gray", Object.keys(DARK_GREYS).filter((s) => s !== "white"), "c"),
  ...Object.fromEntries(HUES.map((h) => [h, scale(h, Object.keys(TINT_TO), "c")])),
};
const text = {
  white: "#ffffff",
  gray: scale("gray", Object.keys(DARK_TEXT_GREYS), "t"),
  ...Object.fromEntries(HUES.map((h) => [h, scale(h, Object.keys(TEXT_TO), "t")])),
};

function themes({ addBase }) {
  const list = properties();
  const light = Object.fromEntries(list.map(([name, value]) => [`--${name}`, rgb(value)]));
  const dark = Object.fromEntries(list.map(([name, , value]) => [`--${name}`, rgb(value)]));
  addBase({
    ":root": light,
    ':root[data-theme="dark"]': { ...dark, colorScheme: "dark" },
    "@media (prefers-color-scheme: dark)": {
      ':root[data-theme="system"]': { ...dark, colorScheme: "dark" },
    },
  });
}

export default {
  content: ["./templates/**/*.tera", "./assets/js/**/*.js"],
  theme: {
    colors: {
      transparent: "transparent",
      current: "currentColor",
      black: colors.black,
      ...background,
    },
    textColor: ({ theme }) => ({ ...theme("colors"), ...text }),
    ringOffsetColor: ({ theme }) => ({ DEFAULT: ref("c-white"), ...theme("colors") }),
    // Placeholders are text.
    placeholderColor: ({ theme }) => ({ ...theme("colors"), ...text }),
    extend: {
      fontFamily: {
        sans: [
          "Inter",
          "ui-sans-serif",
          "system-ui",
          "-apple-system",
          "Segoe UI",
          "Roboto",
          "Helvetica Neue",
          "Arial",
          "sans-serif",
        ],
      },
      fontSize: {
        // The body size the brief asks for: readable 15px with a calm line height.
        base: ["0.9375rem", { lineHeight: "1.5rem" }],
      },
    },
  },
  plugins: [themes],
};

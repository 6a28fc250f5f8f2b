/** Tailwind v3 config for Kanect. Build with `npm run build:css`; the output
 * (assets/css/app.css) is committed because the Rust build never runs Node. */
export default {
  content: ["./templates/**/*.tera", "./assets/js/**/*.js"],
  theme: {
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
  plugins: [],
};

// A message's files as the chat shows them: images as thumbnails that open full size
// in the lightbox, everything else as a card with an icon, the name, the size and a
// download link. Names reach the page only as text nodes and attributes.

import { el, icon, isolate, ICONS } from "./dom.js";
import { fileKind, fitWithin, humanSize, typeLabel } from "./file_info.js";
import { openLightbox } from "./lightbox.js";

// A thumbnail's box: one image may be larger than several side by side.
const ONE_IMAGE = { width: 320, height: 240 };
const SEVERAL = { width: 180, height: 160 };

// Colours per kind, as full literal class strings so Tailwind keeps them.
const TILE = {
  pdf: "bg-red-100 text-red-700",
  image: "bg-sky-100 text-sky-700",
  audio: "bg-violet-100 text-violet-700",
  video: "bg-fuchsia-100 text-fuchsia-700",
  archive: "bg-amber-100 text-amber-800",
  sheet: "bg-emerald-100 text-emerald-700",
  doc: "bg-blue-100 text-blue-700",
  text: "bg-gray-200 text-gray-700",
  file: "bg-indigo-100 text-indigo-700",
};

const DOCUMENT = ["M5 2.5h6.5l4 4v11H5z", "M11.5 2.5v4h4"];
const FILE_ICONS = {
  image: ["M3 4.5h14v11H3z", "M3 13l4-4 3 3 2.5-2.5L17 14", "M13 7.5h.01"],
  audio: ["M8 14.5V4l8-1.5v10", "M8 14.5a2 2 0 1 1-4 0 2 2 0 0 1 4 0z", "M16 12.5a2 2 0 1 1-4 0 2 2 0 0 1 4 0z"],
  video: ["M2.5 5.5h10v9h-10z", "M12.5 8.5l5-3v9l-5-3"],
  archive: ["M4 2.5h12v15H4z", "M10 2.5v2", "M10 6v2", "M9 9.5h2v3H9z"],
  sheet: [...DOCUMENT, "M7.5 10h5", "M7.5 13h5", "M10 10v5"],
  text: [...DOCUMENT, "M7.5 10h5", "M7.5 13h3"],
};

/** An image the lightbox can show: the server made a thumbnail and knows its size. */
export const isImage = (a) => Boolean(a.thumbnail_url) && a.width > 0 && a.height > 0;

/** The coloured square with a file's icon (cards and upload chips). */
export function fileTile(kind, size = "h-10 w-10") {
  return el(
    "span",
    { class: `flex ${size} shrink-0 items-center justify-center rounded-lg ${TILE[kind] || TILE.file}`, "aria-hidden": "true" },
    icon(FILE_ICONS[kind] || DOCUMENT, "h-5 w-5"),
  );
}

/** The attachments of message `m` under its text, or null without any. */
export function attachmentsOf(m, { mine }) {
  const all = m.attachments || [];
  if (!all.length) return null;
  const images = all.filter(isImage);
  const files = all.filter((a) => !isImage(a));
  const box = images.length === 1 ? ONE_IMAGE : SEVERAL;
  return el(
    "div",
    { class: `flex max-w-full flex-col gap-1.5 ${mine ? "items-end" : "items-start"}`, "data-attachments": true },
    images.length
      ? el(
          "div",
          { class: `flex max-w-full flex-wrap items-start gap-1.5 ${mine ? "justify-end" : "justify-start"}` },
          ...images.map((a, i) => thumbnail(a, images, i, box)),
        )
      : null,
    ...files.map(fileCard),
  );
}

function thumbnail(a, gallery, index, box) {
  const size = fitWithin(a.width, a.height, box.width, box.height);
  return el(
    "button",
    {
      type: "button",
      class: "block max-w-full overflow-hidden rounded-xl border border-gray-200 bg-gray-100 shadow-sm hover:opacity-95 " +
        "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2",
      title: a.name,
      "aria-haspopup": "dialog",
      dataset: { attachmentId: a.id, thumbnail: "" },
      on: { click: (e) => openLightbox(gallery, index, e.currentTarget) },
    },
    el("img", {
      src: a.thumbnail_url,
      alt: a.name,
      width: size.width,
      height: size.height,
      loading: "lazy",
      decoding: "async",
      class: "block h-auto max-w-full",
    }),
  );
}

function fileCard(a) {
  const kind = fileKind(a.content_type, a.name);
  const label = typeLabel(a.name);
  return el(
    "a",
    {
      href: a.url,
      download: a.name,
      class: "group/file flex w-64 max-w-full items-center gap-3 rounded-xl border border-gray-200 bg-white px-3 py-2.5 " +
        "text-left text-gray-900 shadow-sm hover:border-indigo-300 hover:bg-indigo-50/50 " +
        "focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500",
      title: `Download ${isolate(a.name)}`,
      dataset: { attachmentId: a.id, fileCard: "" },
    },
    fileTile(kind),
    el(
      "span",
      { class: "min-w-0 flex-1" },
      el("span", { class: "sr-only" }, "Download "),
      el("span", { class: "block truncate text-sm font-medium", dir: "auto", text: a.name }),
      el("span", { class: "block text-xs text-gray-500", "data-file-size": true }, label ? `${label} · ` : "", humanSize(a.size)),
    ),
    icon(ICONS.download, "h-5 w-5 shrink-0 text-gray-400 group-hover/file:text-indigo-600"),
  );
}

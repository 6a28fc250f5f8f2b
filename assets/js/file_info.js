// What the chat says about a file without opening it: its size in words ("1.2 MB"),
// the kind of file (for its icon and colour), a short type label ("PDF") and an image's
// size scaled to fit a box. Pure, so tests/js/file_info.test.js runs it under node.

const UNITS = ["KB", "MB", "GB", "TB"];

/**
 * 0 -> "0 bytes", 1500 -> "1.5 KB", 1234567 -> "1.2 MB": decimal units (1 MB = 10^6
 * bytes, as `max_upload_mb` counts them), one decimal under 10.
 */
export function humanSize(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return "";
  if (n < 1000) return n === 1 ? "1 byte" : `${Math.round(n)} bytes`;
  let unit = 0;
  let value = n / 1000;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  let shown = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  if (shown >= 1000 && unit < UNITS.length - 1) {
    shown = 1; // 999.7 KB reads better as 1 MB
    unit += 1;
  }
  return `${shown} ${UNITS[unit]}`;
}

const KINDS = [
  ["image", /^image\//, /\.(png|jpe?g|gif|webp|avif|heic|bmp|svg|tiff?)$/],
  ["pdf", /^application\/pdf$/, /\.pdf$/],
  ["audio", /^audio\//, /\.(mp3|m4a|ogg|oga|opus|wav|flac|aac)$/],
  ["video", /^video\//, /\.(mp4|m4v|mov|webm|mkv|avi)$/],
  ["archive", /(zip|x-tar|gzip|x-7z|x-rar|x-bzip2|x-xz|zstd)/, /\.(zip|tar|tgz|gz|7z|rar|bz2|xz|zst)$/],
  ["sheet", /(spreadsheet|ms-excel|csv)/, /\.(xlsx?|ods|csv|tsv|numbers)$/],
  ["doc", /(wordprocessing|msword|opendocument\.text|rtf)/, /\.(docx?|odt|rtf|pages)$/],
  ["text", /^text\/|json|xml|yaml|toml|javascript/, /\.(txt|log|md|json|ya?ml|toml|xml|html?|js|ts|rs|py|sh|c|h|go|java|sql|ini|conf)$/],
];

/** The kind of a file from its type and name: image, pdf, audio, video, archive, sheet, doc, text or file. */
export function fileKind(contentType, name) {
  const type = String(contentType || "").toLowerCase();
  const lower = String(name || "").toLowerCase();
  for (const [kind, byType] of KINDS) if (byType.test(type)) return kind;
  for (const [kind, , byName] of KINDS) if (byName.test(lower)) return kind;
  return "file";
}

/** The name's extension as a short label ("report.final.PDF" -> "PDF"), or "" without one. */
export function typeLabel(name) {
  const m = /\.([A-Za-z0-9]{1,5})$/.exec(String(name || ""));
  return m && m.index > 0 ? m[1].toUpperCase() : "";
}

/**
 * `width` x `height` scaled down (never up) to fit `maxWidth` x `maxHeight`, ratio kept,
 * in whole pixels of at least 1; null when the dimensions are unknown.
 */
export function fitWithin(width, height, maxWidth, maxHeight) {
  const w = Number(width);
  const h = Number(height);
  if (!(w > 0) || !(h > 0)) return null;
  const scale = Math.min(1, maxWidth / w, maxHeight / h);
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

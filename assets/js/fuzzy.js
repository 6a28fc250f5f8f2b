// Fuzzy matching for the quick switcher: "bo" finds "bob" and "Board games", "dr"
// finds "Design review". The letters typed must appear in order; a match scores higher
// the earlier it starts, the more of it runs together and the more of it starts words.
// No DOM: tests/js/fuzzy.test.js runs it under node.

const fold = (text) => String(text).normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
const isWordStart = (text, i) => i === 0 || /[\s\-_.@,]/.test(text[i - 1]);

/** How well `query` matches `text`: null when it does not, else higher is better. */
export function fuzzyScore(query, text) {
  const q = [...fold(query).replace(/\s+/g, "")];
  const t = [...fold(text)];
  if (!q.length) return null;
  let score = 0;
  let from = 0;
  let previous = -2;
  for (const ch of q) {
    let at = -1;
    // A word start further on beats a letter in the middle of this word.
    for (let i = from; i < t.length; i += 1) {
      if (t[i] !== ch) continue;
      if (at < 0) at = i;
      if (i === previous + 1) {
        at = i;
        break;
      }
      if (isWordStart(t, i)) {
        at = i;
        break;
      }
    }
    if (at < 0) return null;
    score += 1;
    if (at === previous + 1) score += 3;
    if (isWordStart(t, at)) score += 2;
    previous = at;
    from = at + 1;
  }
  const start = t.indexOf(q[0]);
  return score * 10 - Math.min(start, 9) - t.length / 100;
}

/**
 * The best `limit` of `items` for `query`, best first; `texts(item)` gives the names it
 * may be found by (a chat's title and members), the best of which counts. Ties keep the
 * items' own order (most recent activity first).
 */
export function rank(query, items, texts, limit = 6) {
  const scored = [];
  items.forEach((item, i) => {
    let best = null;
    for (const text of texts(item)) {
      const s = text ? fuzzyScore(query, text) : null;
      if (s !== null && (best === null || s > best)) best = s;
    }
    if (best !== null) scored.push({ item, score: best, i });
  });
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.slice(0, limit).map((s) => s.item);
}

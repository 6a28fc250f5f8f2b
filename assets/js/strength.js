// The password meter's words for the server's verdict (POST /api/password/strength):
// zxcvbn scores on the server, so the meter and the form's field error always agree.

export const LEVELS = [
  { word: "Too weak", bar: "bg-red-500", text: "text-red-600" },
  { word: "Weak", bar: "bg-orange-500", text: "text-orange-600" },
  { word: "Fair", bar: "bg-amber-400", text: "text-amber-600" },
  { word: "Good", bar: "bg-lime-500", text: "text-lime-700" },
  { word: "Strong", bar: "bg-emerald-500", text: "text-emerald-700" },
];

// From "Good" up, a password needs no advice.
const ADVISED_BELOW = 3;

/** What the meter shows for a verdict: its level and up to three hints. A refused
 * password shows why, as the form's field error will; a fair one zxcvbn's advice. */
export function present(verdict) {
  const score = Math.max(0, Math.min(LEVELS.length - 1, Number(verdict?.score) || 0));
  const problems = verdict?.problems || [];
  const advice = score < ADVISED_BELOW ? [verdict?.warning, ...(verdict?.suggestions || [])] : [];
  const hints = (problems.length ? problems : advice).filter(Boolean);
  return { level: LEVELS[score], score, hints: hints.slice(0, 3) };
}

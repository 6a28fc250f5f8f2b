// Password strength heuristic (pure, no DOM). A guide only: the server applies the
// real policy (length >= 8, not all digits, not common, not like the username).

const COMMON = new Set([
  "123456", "password", "12345678", "qwerty", "123456789", "12345", "1234", "111111",
  "1234567", "dragon", "123123", "baseball", "abc123", "football", "monkey", "letmein",
  "696969", "shadow", "master", "666666", "qwertyuiop", "123321", "mustang", "1234567890",
  "michael", "654321", "superman", "1qaz2wsx", "7777777", "121212", "000000", "qazwsx",
  "123qwe", "killer", "trustno1", "jordan", "jennifer", "zxcvbnm", "asdfgh", "hunter",
  "buster", "soccer", "harley", "batman", "andrew", "tigger", "sunshine", "iloveyou",
  "2000", "charlie", "robert", "thomas", "hockey", "ranger", "daniel", "starwars",
  "klaster", "112233", "george", "computer", "michelle", "jessica", "pepper", "1111",
  "zxcvbn", "555555", "11111111", "131313", "freedom", "777777", "pass", "maggie",
  "159753", "aaaaaa", "ginger", "princess", "joshua", "cheese", "amanda", "summer",
  "love", "ashley", "nicole", "chelsea", "biteme", "matthew", "access", "yankees",
  "987654321", "dallas", "austin", "thunder", "taylor", "matrix", "welcome", "admin",
  "password1", "password123", "qwerty123", "welcome1", "changeme", "secret", "letmein1",
]);

export const LEVELS = [
  { word: "Too weak", bar: "bg-red-500", text: "text-red-600" },
  { word: "Weak", bar: "bg-orange-500", text: "text-orange-600" },
  { word: "Fair", bar: "bg-amber-400", text: "text-amber-600" },
  { word: "Good", bar: "bg-lime-500", text: "text-lime-700" },
  { word: "Strong", bar: "bg-emerald-500", text: "text-emerald-700" },
];
const SEQUENCES = [
  "abcdefghijklmnopqrstuvwxyz",
  "01234567890",
  "qwertyuiopasdfghjklzxcvbnm",
];

/** True when `pw` has a run of `n` characters ascending or descending along a sequence. */
function hasSequence(pw, n = 4) {
  const s = pw.toLowerCase();
  for (let i = 0; i + n <= s.length; i++) {
    const chunk = s.slice(i, i + n);
    const reversed = [...chunk].reverse().join("");
    if (SEQUENCES.some((seq) => seq.includes(chunk) || seq.includes(reversed))) return true;
  }
  return false;
}

/** Score a password from 0 (too weak) to 4 (strong), with hints to improve it. */
export function assess(pw, username = "") {
  const hints = [];
  const lower = pw.toLowerCase();
  const name = username.trim().toLowerCase();
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(pw)).length;

  let score = 0;
  if (pw.length >= 8) score += 1;
  if (pw.length >= 12) score += 1;
  if (pw.length >= 16) score += 1;
  if (classes >= 2) score += 1;
  if (classes >= 3) score += 1;

  let cap = 4;
  if (pw.length < 8) {
    hints.push("Use at least 8 characters.");
    cap = 0;
  }
  if (/^\d+$/.test(pw)) {
    hints.push("Don't use only digits.");
    cap = 0;
  }
  const stripped = lower.replace(/[^a-z0-9]/g, "");
  if (COMMON.has(lower) || COMMON.has(stripped) || COMMON.has(lower.replace(/\d+$/, ""))) {
    hints.push("This is a very common password.");
    cap = 0;
  }
  if (name.length >= 3 && (lower.includes(name) || name.includes(lower))) {
    hints.push("Don't include your username.");
    cap = Math.min(cap, 1);
  }
  if (/(.)\1\1/.test(pw)) {
    hints.push("Avoid repeated characters like “aaa”.");
    score -= 1;
  }
  if (hasSequence(pw)) {
    hints.push("Avoid sequences like “abcd” or “1234”.");
    score -= 1;
  }
  if (new Set(pw).size < Math.min(6, pw.length)) {
    score -= 1;
  }
  if (cap > 0 && classes < 3 && pw.length < 16) {
    hints.push("Mix upper and lower case, digits and symbols, or use a longer phrase.");
  }
  if (cap > 0 && pw.length < 12) {
    hints.push("Longer is stronger: try a few unrelated words.");
  }
  return { score: Math.max(0, Math.min(cap, score)), hints };
}

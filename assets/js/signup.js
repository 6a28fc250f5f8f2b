// Sign-up page: drives the password strength meter and the "passwords match" hint.
import { api } from "./api.js";
import { LEVELS, present } from "./strength.js";

// Ask the server once typing pauses, not on every key.
const SCORE_DELAY_MS = 150;

const EMPTY_BAR = "bg-gray-200";
const ALL_BARS = [EMPTY_BAR, ...LEVELS.map((l) => l.bar)];
const ALL_TEXTS = LEVELS.map((l) => l.text);

function setup() {
  const form = document.getElementById("signup-form");
  const pw1 = document.getElementById("id_password1");
  const pw2 = document.getElementById("id_password2");
  const user = document.getElementById("id_username");
  const meter = document.getElementById("password-meter");
  if (!form || !pw1 || !meter) return;
  const segments = [...meter.querySelectorAll("[data-meter-segment]")];
  const word = document.getElementById("password-strength-word");
  const hintList = document.getElementById("password-hints");
  const pw2Help = document.getElementById("password2-help");
  const pw2Default = pw2Help ? pw2Help.textContent : "";

  let timer = 0;
  let inFlight = null;

  function renderStrength() {
    const pw = pw1.value;
    meter.hidden = pw.length === 0;
    clearTimeout(timer);
    if (inFlight) inFlight.abort();
    if (!pw) return;
    timer = setTimeout(() => ask(pw), SCORE_DELAY_MS);
  }

  async function ask(pw) {
    const controller = new AbortController();
    inFlight = controller;
    let verdict;
    try {
      verdict = await api(
        "POST",
        "/api/password/strength",
        { password: pw, username: user ? user.value : "" },
        { signal: controller.signal },
      );
    } catch {
      // Aborted by newer typing, or the server is away: the form's own check still holds.
      return;
    }
    if (controller.signal.aborted || pw !== pw1.value) return;
    const { level, score, hints } = present(verdict);
    segments.forEach((seg, i) => {
      seg.classList.remove(...ALL_BARS);
      seg.classList.add(i <= score ? level.bar : EMPTY_BAR);
    });
    word.classList.remove(...ALL_TEXTS);
    word.classList.add(level.text);
    word.textContent = level.word;
    hintList.replaceChildren(
      ...hints.slice(0, 3).map((h) => {
        const li = document.createElement("li");
        li.textContent = h;
        return li;
      }),
    );
  }

  function renderMatch() {
    if (!pw2 || !pw2Help) return;
    pw2Help.classList.remove("text-emerald-700", "text-amber-600");
    if (!pw2.value) {
      pw2Help.textContent = pw2Default;
    } else if (pw2.value === pw1.value) {
      pw2Help.textContent = "Passwords match.";
      pw2Help.classList.add("text-emerald-700");
    } else {
      pw2Help.textContent = "Passwords don't match yet.";
      pw2Help.classList.add("text-amber-600");
    }
  }

  pw1.addEventListener("input", () => {
    renderStrength();
    renderMatch();
  });
  if (user) user.addEventListener("input", renderStrength);
  if (pw2) pw2.addEventListener("input", renderMatch);
  renderStrength();
}

setup();

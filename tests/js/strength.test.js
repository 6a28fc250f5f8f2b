import { test } from "node:test";
import assert from "node:assert/strict";
import { LEVELS, present } from "../../assets/js/strength.js";

test("a refused password shows the rules it breaks, as the form's error will", () => {
  const shown = present({
    score: 0,
    acceptable: false,
    warning: "This is a top-10 common password.",
    suggestions: ["Add another word or two."],
    problems: ["This password is too short. It must contain at least 8 characters."],
  });
  assert.equal(shown.level, LEVELS[0]);
  assert.deepEqual(shown.hints, [
    "This password is too short. It must contain at least 8 characters.",
  ]);
});

test("a fair password that is taken shows zxcvbn's warning and suggestions", () => {
  const shown = present({
    score: 2,
    acceptable: true,
    warning: "Straight rows of keys are easy to guess.",
    suggestions: ["Use a longer keyboard pattern.", "Add another word or two.", "More"],
    problems: [],
  });
  assert.equal(shown.level.word, "Fair");
  assert.deepEqual(shown.hints, [
    "Straight rows of keys are easy to guess.",
    "Use a longer keyboard pattern.",
    "Add another word or two.",
  ]);
});

test("an accepted password shows its level and no advice", () => {
  const shown = present({ score: 4, acceptable: true, warning: null, suggestions: ["x"], problems: [] });
  assert.equal(shown.level.word, "Strong");
  assert.deepEqual(shown.hints, []);
});

test("a verdict out of range or missing stays on the scale", () => {
  assert.equal(present({ score: 9 }).level.word, "Strong");
  assert.equal(present(null).level.word, "Too weak");
});

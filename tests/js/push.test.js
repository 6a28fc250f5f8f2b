// The VAPID key as push.js hands it to the browser (assets/js/push.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { fromBase64Url } from "../../assets/js/push.js";

test("the server's base64url key becomes the bytes pushManager.subscribe takes", () => {
  assert.deepEqual([...fromBase64Url("BAEC_-8")], [4, 1, 2, 255, 239]);
  assert.deepEqual([...fromBase64Url("AA")], [0]);
  const key = Buffer.alloc(65, 7);
  key[0] = 4;
  assert.deepEqual([...fromBase64Url(key.toString("base64url"))], [...key]);
});

// Web Push for this browser: the service worker (/sw.js) is registered on every chat page
// load (it asks the person nothing), and the browser subscribes, with the server's VAPID
// key, only once notifications are allowed, so a closed tab or an installed Kanect still
// hears of direct messages and mentions. Browsers without push simply skip all of it.

import { get, post } from "./api.js";

const supported = () =>
  "serviceWorker" in navigator && typeof window.PushManager === "function" && window.isSecureContext;

/** Registers the service worker; subscribes at once when notifications are already allowed. */
export async function initPush({ notifications }) {
  if (!("serviceWorker" in navigator)) return;
  try {
    await navigator.serviceWorker.register("/sw.js");
  } catch {
    return; // e.g. a private window that allows no workers: the page works without one
  }
  if (notifications && typeof Notification === "function" && Notification.permission === "granted") {
    await subscribePush();
  }
}

/** Subscribes this browser (again: the server keeps one row per endpoint). */
export async function subscribePush() {
  if (!supported()) return;
  try {
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    const { public_key: key } = await get("/api/push/key");
    if (subscription && !sameKey(subscription, key)) {
      await subscription.unsubscribe();
      subscription = null;
    }
    if (!subscription) {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: fromBase64Url(key),
      });
    }
    await post("/api/push/subscriptions", subscription.toJSON());
  } catch {
    // No push service reachable (or a browser that has none): the open tab still notifies.
  }
}

function sameKey(subscription, key) {
  const current = subscription.options && subscription.options.applicationServerKey;
  if (!current) return true;
  const a = new Uint8Array(current);
  const b = fromBase64Url(key);
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

export function fromBase64Url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

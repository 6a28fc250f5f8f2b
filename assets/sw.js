// Kanect's service worker, served at /sw.js so that its scope is the whole site.
// - The app shell: the chat page and the assets it loads are kept as they last came, so an
//   installed Kanect opens when the server is away; the page then shows "Reconnecting…"
//   until its polls get through. The network always goes first: a fresh page when there
//   is one. Only what was got with GET and answered 200 is kept; the API never is.
// - Web Push: `push` shows the notification the server sent (title, body, chat url),
//   `notificationclick` focuses a Kanect window (or opens one) on that chat.
// - Signing out forgets the kept page and this browser's push subscription.

const SHELL = "kanect-shell-v1";
const PAGES = new Set(["/"]);

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== SHELL) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

const isPage = (url) => PAGES.has(url.pathname) || url.pathname.startsWith("/chats/") || url.pathname.startsWith("/u/");

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(forget());
    return;
  }
  if (request.method !== "GET") return;
  if (request.mode === "navigate" && isPage(url)) {
    event.respondWith(pageOrShell(request));
  } else if (url.pathname.startsWith("/assets/")) {
    event.respondWith(networkThenKept(request, request));
  }
});

/** The page from the network (kept as the shell), else the kept shell. */
async function pageOrShell(request) {
  try {
    const response = await fetch(request);
    // A redirect (to /login) or an error is not the chat: keep the last good one.
    if (response.ok && !response.redirected) {
      const cache = await caches.open(SHELL);
      await cache.put("/", response.clone());
    }
    return response;
  } catch (err) {
    const kept = await caches.match("/");
    if (kept) return kept;
    throw err;
  }
}

async function networkThenKept(request, key) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(SHELL);
      await cache.put(key, response.clone());
    }
    return response;
  } catch (err) {
    const kept = await caches.match(key);
    if (kept) return kept;
    throw err;
  }
}

async function forget() {
  await caches.delete(SHELL);
  const subscription = await self.registration.pushManager.getSubscription();
  // The push service then answers the server 410 and it drops the subscription.
  if (subscription) await subscription.unsubscribe();
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = {};
  }
  const title = typeof data.title === "string" && data.title ? data.title : "Kanect";
  const options = {
    body: typeof data.body === "string" ? data.body : "",
    icon: "/assets/img/icon-192.png",
    data: { url: typeof data.url === "string" ? data.url : "/" },
  };
  // One per chat at a time, as the page's own notifications.
  if (data.chat_id) options.tag = `kanect-chat-${data.chat_id}`;
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (url.origin !== self.location.origin) url = new URL("/", self.location.origin);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((w) => new URL(w.url).origin === url.origin);
      if (open) {
        await open.focus();
        if ("navigate" in open) await open.navigate(url.href);
        return;
      }
      await self.clients.openWindow(url.href);
    })(),
  );
});

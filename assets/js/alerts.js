// Telling the reader about what arrives while they look elsewhere: the unread total in the
// title and on the favicon, a browser notification and an optional sound for what the
// chat's level asks (alert_rules.js decides), and the header's level control. The browser
// is asked for permission only from a click on "Enable notifications", never on load.

import { patch } from "./api.js";
import { byId, show, setText } from "./dom.js";
import { state, subscribe, getChat, upsertChat, totalUnread, chatTitle, senderName } from "./store.js";
import { shouldAlert, unreadTitle, badgeText, notificationText } from "./alert_rules.js";
import { initPush, subscribePush } from "./push.js";

let prefs = { notifications: true, sound: false };
let soundUrl = "";
let audio = null;
let openChat = () => {};
let iconLink = null;
let iconHref = "";
let iconImage = null; // the favicon, loaded once to draw badges on
let badgeShown = "";

const supported = () => typeof window.Notification === "function";

/** `notifications`, `sound`: the person's preferences; `onOpen(id)` opens a chat. */
export function initAlerts({ notifications, sound, sound_url: url, onOpen }) {
  prefs = { notifications, sound };
  soundUrl = url;
  openChat = onOpen;
  iconLink = document.querySelector('link[rel="icon"]');
  iconHref = iconLink ? iconLink.href : "";
  const enable = byId("enable-notifications");
  enable.addEventListener("click", askPermission);
  renderEnable();
  initPush({ notifications });
  const level = byId("notify-level");
  level.addEventListener("change", () => setLevel(level.value));
  subscribe(() => {
    renderUnread();
    renderLevel();
  });
}

function renderEnable() {
  show(byId("enable-notifications"), prefs.notifications && supported() && Notification.permission === "default");
}

async function askPermission() {
  if (!supported()) return;
  try {
    // A closed tab hears of messages too, through Web Push, once allowed. Not awaited: a
    // push service can take long to answer, and the page does not wait for it.
    if ((await Notification.requestPermission()) === "granted") subscribePush();
  } finally {
    renderEnable();
  }
}

/** A new message from the event stream (seen once: events.js passes only newer ones). */
export function alertFor(message) {
  const chat = getChat(message.chat_id);
  const hidden = document.visibilityState === "hidden";
  if (!shouldAlert({ message, chat, me: state.me.username, hidden })) return;
  if (prefs.sound) playSound();
  if (prefs.notifications && supported() && Notification.permission === "granted") showNotification(message, chat);
}

function showNotification(message, chat) {
  const { title, body } = notificationText({
    sender: senderName(message),
    chatTitle: chatTitle(chat),
    kind: chat.kind,
    body: message.body,
    attachments: (message.attachments || []).length,
  });
  let n;
  try {
    // One per chat at a time: a newer message replaces the older one's notification.
    n = new Notification(title, { body, tag: `kanect-chat-${chat.id}`, icon: iconHref || undefined });
  } catch {
    return; // e.g. a browser that allows notifications only from a service worker
  }
  n.addEventListener("click", () => {
    window.focus();
    openChat(chat.id);
    n.close();
  });
}

function playSound() {
  if (!soundUrl) return;
  if (!audio) audio = new Audio(soundUrl);
  audio.currentTime = 0;
  // A browser that has not seen a click on the page yet may refuse; the notification
  // still tells.
  audio.play().catch(() => {});
}

function renderUnread() {
  const unread = totalUnread();
  const title = unreadTitle(unread);
  if (document.title !== title) document.title = title;
  const text = badgeText(unread);
  if (text !== badgeShown) {
    badgeShown = text;
    drawBadge(text);
  }
}

/** The favicon with a red count in its corner, drawn on a canvas; the plain icon at 0. */
function drawBadge(text) {
  if (!iconLink || !iconHref) return;
  if (!text) {
    iconLink.href = iconHref;
    return;
  }
  if (!iconImage) {
    iconImage = new Image();
    iconImage.src = iconHref;
  }
  const draw = () => {
    if (badgeShown !== text) return; // a newer count is on its way
    const size = 64;
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    const g = canvas.getContext("2d");
    if (!g) return;
    g.drawImage(iconImage, 0, 0, size, size);
    const r = text.length > 2 ? 20 : 17;
    g.fillStyle = "#dc2626";
    g.beginPath();
    g.arc(size - r, r, r, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = "#ffffff";
    g.font = `bold ${text.length > 1 ? 22 : 28}px sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(text, size - r, r + 1);
    canvas.toBlob((blob) => {
      if (!blob || badgeShown !== text) return;
      const old = iconLink.href;
      iconLink.href = URL.createObjectURL(blob);
      if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    });
  };
  if (iconImage.complete && iconImage.naturalWidth) draw();
  else iconImage.addEventListener("load", draw, { once: true });
}

/** The header's select shows the open chat's level. */
function renderLevel() {
  const chat = getChat(state.openChatId);
  const select = byId("notify-level");
  if (!chat) return;
  const level = chat.notify || "all";
  if (select.value !== level && !select.disabled) select.value = level;
}

async function setLevel(level) {
  const chat = getChat(state.openChatId);
  if (!chat) return;
  const select = byId("notify-level");
  select.disabled = true;
  const error = byId("chat-error");
  try {
    upsertChat(await patch(`/api/chats/${chat.id}`, { notify: level }));
    show(error, false);
  } catch (err) {
    setText(error, err.message);
    show(error, true);
  } finally {
    select.disabled = false;
    renderLevel();
  }
}

// One fetch helper for the JSON API: session cookie, CSRF header, JSON in and out,
// and a typed error carrying the server's {"error": {code, message, field}}. Uploads go
// through XMLHttpRequest instead (uploadFile), the one way to hear how far they are.

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0 when the server could not be reached
    this.code = code;
    this.field = field;
  }

  /** Network trouble or a server fault: worth retrying quietly. */
  get transient() {
    return this.status === 0 || this.status >= 500;
  }
}

const FALLBACK_MESSAGES = {
  400: "The request was not understood.",
  403: "You are not allowed to do that.",
  404: "Not found, or you are not a member.",
  413: "That is too large.",
  422: "Please check what you entered.",
  429: "Too many requests. Please wait a moment and try again.",
};

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

export function loginUrl() {
  return `/login?next=${encodeURIComponent(window.location.pathname)}`;
}

let redirecting = false;

/** Leave for the sign-in page once, however many requests notice the expired session. */
function goToLogin() {
  if (redirecting) return;
  redirecting = true;
  window.location.assign(loginUrl());
}

// A request with no answer in this long (a stalled connection) fails as one that could not
// reach the server, so what waits on it (a send kept in the composer) can be tried again.
// The long poll passes its own signal, timed to its `wait`.
const REQUEST_TIMEOUT_MS = 30_000;

export async function api(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const timeout = signal ? null : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const init = { method, headers, credentials: "same-origin", signal: signal || timeout };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }

  let res;
  let text;
  try {
    res = await fetch(path, init);
    text = await res.text();
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    if (timeout && timeout.aborted) throw new ApiError(0, "timeout", "The server did not answer in time.");
    throw new ApiError(0, "network", "Can't reach the server.");
  }

  if (res.status === 401) {
    goToLogin();
    throw new ApiError(401, "unauthenticated", "Your session has ended. Please sign in again.");
  }

  const data = parseJson(text);
  if (!res.ok) throw failure(res.status, data);
  return data;
}

function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The ApiError for a refusal: the server's own words, or a fallback for the status. */
function failure(status, data) {
  const e = (data && data.error) || {};
  const fallback = FALLBACK_MESSAGES[status] || "Something went wrong. Please try again.";
  return new ApiError(status, e.code || `http_${status}`, e.message || fallback, e.field || null);
}

/**
 * Uploads `file` as the multipart part `file` to `path`, with the session cookie and
 * the CSRF header. `onProgress(loaded, total)` hears the bytes sent. Answers
 * {done, abort}: `done` resolves with the server's JSON, or rejects with an ApiError
 * (or an AbortError after `abort()`).
 */
export function uploadFile(path, file, { onProgress = () => {}, method = "POST" } = {}) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open(method, path);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener("load", () => {
      if (xhr.status === 401) {
        goToLogin();
        reject(new ApiError(401, "unauthenticated", "Your session has ended. Please sign in again."));
        return;
      }
      const data = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
      else reject(failure(xhr.status || 500, data));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload was cut off: can't reach the server.")));
    xhr.addEventListener("abort", () => reject(new DOMException("The upload was cancelled.", "AbortError")));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);

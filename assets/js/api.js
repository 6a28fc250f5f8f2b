// One fetch helper for the JSON API: session cookie, CSRF header, JSON in and out,
// and a typed error carrying the server's {"error": {code, message, field}}.

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

export async function api(method, path, body, { signal } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin", signal };
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
    throw new ApiError(0, "network", "Can't reach the server.");
  }

  if (res.status === 401) {
    goToLogin();
    throw new ApiError(401, "unauthenticated", "Your session has ended. Please sign in again.");
  }

  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const fallback = FALLBACK_MESSAGES[res.status] || "Something went wrong. Please try again.";
    throw new ApiError(res.status, e.code || `http_${res.status}`, e.message || fallback, e.field || null);
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body === undefined ? {} : body, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);

// The API client: the bearer token (memory + sessionStorage), JSON, problem+json errors, downloads.

import { messageFor } from "./messages.js";

const SESSION_KEY = "ledgerbank.session";
let session = null;
let notice = null; // why the last session ended, for the sign-in page
let expiryTimer = null;
const listeners = new Set();

export class ApiError extends Error {
  constructor(status, problem) {
    const code = problem.code || (status === 0 ? "network_error" : `http_${status}`);
    super(messageFor(code, status));
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = problem.detail || "";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.problem = problem;
  }
}

export function loadSession() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (stored && stored.token && stored.expiresAt > Date.now()) session = stored;
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    session = null;
  }
  if (session) setSession(session);
  return session;
}

export function getSession() {
  return session;
}

export function setSession(value) {
  session = value;
  clearTimeout(expiryTimer);
  if (value) {
    // The token stops working at expiresAt: sign out then, and say why.
    expiryTimer = setTimeout(() => endSession("Your session has expired. Please sign in again."), Math.max(0, value.expiresAt - Date.now()));
  }
  try {
    if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* private mode: the session lives in memory only */
  }
  for (const listener of listeners) listener(session);
}

export function endSession(why) {
  notice = why;
  setSession(null);
}

// The reason the previous session ended (once), for the sign-in page.
export function takeSessionNotice() {
  const found = notice;
  notice = null;
  return found;
}

export function onSessionChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function authHeaders() {
  return session ? { Authorization: `Bearer ${session.token}` } : {};
}

function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((item) => url.searchParams.append(name, item));
    else url.searchParams.set(name, value);
  }
  return url.pathname + url.search;
}

// A new key per money-moving submit; an identical body resent after a lost answer keeps its
// key, so a retry can never post twice.
const pendingKeys = new Map();
export function idempotencyKey(scope, body) {
  const fingerprint = `${scope}:${JSON.stringify(body)}`;
  if (!pendingKeys.has(fingerprint)) pendingKeys.set(fingerprint, crypto.randomUUID());
  return { key: pendingKeys.get(fingerprint), settle: () => pendingKeys.delete(fingerprint) };
}

async function send(method, path, { query, body, form, headers = {}, auth = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (auth) Object.assign(init.headers, authHeaders());
  if (form !== undefined) init.body = form;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(buildUrl(path, query), init);
  } catch {
    throw new ApiError(0, { code: "network_error" });
  }
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = {};
    }
    const error = new ApiError(response.status, problem || {});
    if (response.status === 401 && auth && session) endSession(error.message);
    throw error;
  }
  return response;
}

export async function request(method, path, options = {}) {
  const response = await send(method, path, options);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, query, options = {}) => request("GET", path, { ...options, query });
export const post = (path, body, options = {}) => request("POST", path, { ...options, body });
export const put = (path, body, options = {}) => request("PUT", path, { ...options, body });

// A money-moving POST with an Idempotency-Key.
export async function move(path, body) {
  const { key, settle } = idempotencyKey(path, body);
  try {
    const answer = await request("POST", path, { body, headers: { "Idempotency-Key": key } });
    settle();
    return answer;
  } catch (error) {
    if (error.code !== "network_error") settle();
    throw error;
  }
}

// Fetches a file with the bearer token and hands it to the browser as a download.
export async function download(method, path, { query, body, filename } = {}) {
  const response = await send(method, path, { query, body, headers: { Accept: "*/*" } });
  const blob = await response.blob();
  const disposition = response.headers.get("content-disposition") || "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  const name = (match && decodeURIComponent(match[1])) || filename || "download";
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, size: blob.size, type: blob.type };
}

export async function signIn(username, password, totp) {
  const body = totp ? { username, password, totp } : { username, password };
  const answer = await request("POST", "/auth/login", { body, auth: false });
  const expiresAt = Date.now() + (Number(answer.expires_in) || 1800) * 1000;
  if (answer.enrolment_required) {
    // Staff without a second factor: this token can only enrol one (views/enrol.js).
    setSession({ token: answer.access_token, role: answer.role, username, expiresAt, enrolOnly: true });
    return session;
  }
  return startSession(answer, username);
}

// A full session from a token answer (sign-in, password change, second factor enabled).
export async function startSession(answer, username) {
  const expiresAt = Date.now() + (Number(answer.expires_in) || 1800) * 1000;
  setSession({ token: answer.access_token, role: answer.role, username, expiresAt });
  try {
    const me = await get("/auth/me");
    setSession({ ...session, role: me.role, username: me.username, userId: me.id, fullName: me.full_name });
  } catch (error) {
    setSession(null);
    throw error;
  }
  return session;
}

export async function signOut() {
  // End the session on the server too (the token stops working), then forget it here.
  if (session) await fetch("/auth/logout", { method: "POST", headers: authHeaders() }).catch(() => {});
  setSession(null);
}

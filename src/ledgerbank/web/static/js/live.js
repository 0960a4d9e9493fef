// Live updates: reads the server-sent events of GET /events/stream with the bearer token
// (fetch streaming, so the token never appears in a URL) and reconnects when the stream ends.

import { authHeaders, endSession, getSession } from "./api.js";
import { messageFor } from "./messages.js";

const handlers = new Map(); // event type -> Set of callbacks
let controller = null;
let retryTimer = null;
let failures = 0;
let state = "closed";
let lastEventId = null; // resumes a reconnected stream right after the last event seen
const stateListeners = new Set();

function setState(next) {
  state = next;
  for (const listener of stateListeners) listener(state);
}

export function onLiveState(listener) {
  stateListeners.add(listener);
  listener(state);
  return () => stateListeners.delete(listener);
}

// Subscribes to one event type ("transaction", "alert"); returns the unsubscribe function.
export function on(type, callback) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(callback);
  return () => handlers.get(type)?.delete(callback);
}

function dispatch(type, data) {
  for (const callback of handlers.get(type) || []) {
    try {
      callback(data);
    } catch (error) {
      console.error(error);
    }
  }
}

function parseFrame(frame) {
  let type = "message";
  const data = [];
  let id = null;
  for (const line of frame.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (name === "event") type = value;
    else if (name === "data") data.push(value);
    else if (name === "id") id = value;
  }
  if (id !== null) lastEventId = id;
  if (!data.length) return;
  try {
    dispatch(type, JSON.parse(data.join("\n")));
  } catch (error) {
    console.error(error);
  }
}

async function connect() {
  if (!getSession()) return;
  controller = new AbortController();
  const mine = controller;
  if (state !== "open") setState("connecting"); // a routine reconnect stays "Live"
  try {
    const headers = { Accept: "text/event-stream", ...authHeaders() };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    const response = await fetch("/events/stream", { headers, signal: mine.signal, cache: "no-store" });
    if (response.status === 401) {
      endSession(messageFor("not_authenticated", 401)); // the token was revoked or expired
      return;
    }
    if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
    setState("open");
    failures = 0;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replaceAll("\r\n", "\n");
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) !== -1) {
        parseFrame(buffer.slice(0, boundary));
        buffer = buffer.slice(boundary + 2);
      }
    }
  } catch (error) {
    if (mine.signal.aborted) return;
    failures += 1;
  }
  if (mine !== controller || mine.signal.aborted) return;
  // The server ends each stream after a few seconds by design: reconnect at once, quietly;
  // after a failure, back off and say so.
  if (failures) setState("error");
  const delay = Math.min(30_000, failures ? 1000 * 2 ** failures : 250);
  retryTimer = setTimeout(connect, delay);
}

export function startLive() {
  stopLive();
  lastEventId = null;
  connect();
}

export function stopLive() {
  clearTimeout(retryTimer);
  if (controller) {
    const old = controller;
    controller = null;
    old.abort();
  }
  setState("closed");
}

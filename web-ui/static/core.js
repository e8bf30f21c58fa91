// Shared runtime: the session, the live event stream, messages and busy buttons.
import { get } from "./api.js";

export const state = {
  session: null,
  readers: [],
  serviceUp: true,
  /** The reader last chosen on any page; pages preselect it. */
  chosenReader: null,
  /** The station's vocabulary: { group: { code: word } } (GET labels). */
  labels: null,
};

/** Loads the vocabulary once per page load (after login: the route needs a session). */
export async function loadLabels() {
  if (!state.labels) state.labels = await get("labels");
  return state.labels;
}

/** Events: "readers" (list refreshed), "reader-event" (SSE reader), "job" (SSE job). */
export const bus = new EventTarget();

export function can(perm) {
  return Boolean(state.session && state.session.permissions.includes(perm));
}

const alertEl = () => document.getElementById("alert");
const noticeEl = () => document.getElementById("notice");

/** Shows the server's Chinese message (or any error) in the alert region. */
export function showError(err) {
  const msg = err && err.message ? err.message : String(err);
  const el = alertEl();
  // Re-setting the same text would not be announced again; clear first.
  el.textContent = "";
  window.setTimeout(() => {
    el.textContent = msg;
  }, 30);
  noticeEl().textContent = "";
}

export function showNotice(msg) {
  alertEl().textContent = "";
  noticeEl().textContent = msg;
}

export function clearMessages() {
  alertEl().textContent = "";
  noticeEl().textContent = "";
}

/**
 * Runs `fn` with `button` disabled and relabelled (「正在写卡…」); a failure shows
 * the server's message in the alert region and leaves every form field as it was.
 * Resolves to fn's result, or undefined when it failed.
 */
export async function busy(button, text, fn) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = text;
  clearMessages();
  noticeEl().dataset.kind = "progress";
  noticeEl().textContent = text;
  try {
    const result = await fn();
    if (noticeEl().textContent === text) noticeEl().textContent = "";
    return result;
  } catch (err) {
    showError(err);
    return undefined;
  } finally {
    delete noticeEl().dataset.kind;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = old;
    if (button.isConnected && (document.activeElement === document.body || !document.activeElement)) {
      button.focus();
    }
  }
}

let readersInFlight = null;
/** GET /readers and tell every listener; concurrent calls share one request. */
export function refreshReaders() {
  if (!can("read_readers")) return Promise.resolve(state.readers);
  if (readersInFlight) return readersInFlight;
  readersInFlight = get("readers")
    .then((r) => {
      state.readers = r.readers || [];
      state.serviceUp = r.service_up !== false;
      bus.dispatchEvent(new CustomEvent("readers"));
      return state.readers;
    })
    .finally(() => {
      readersInFlight = null;
    });
  return readersInFlight;
}

let source = null;
export function connectEvents() {
  disconnectEvents();
  if (!can("read_readers") || typeof EventSource === "undefined") return;
  const indicator = document.getElementById("sse-state");
  source = new EventSource("api/v1/events");
  source.addEventListener("open", () => {
    indicator.textContent = "实时状态：已连接";
    refreshReaders().catch(() => {});
  });
  source.addEventListener("error", () => {
    indicator.textContent = "实时状态：正在重新连接…";
  });
  source.addEventListener("reader", (e) => {
    let data = null;
    try {
      data = JSON.parse(e.data);
    } catch (_e) {
      return;
    }
    bus.dispatchEvent(new CustomEvent("reader-event", { detail: data }));
    refreshReaders().catch(() => {});
  });
  source.addEventListener("job", (e) => {
    let data = null;
    try {
      data = JSON.parse(e.data);
    } catch (_e) {
      return;
    }
    bus.dispatchEvent(new CustomEvent("job", { detail: data }));
  });
}

export function disconnectEvents() {
  if (source) source.close();
  source = null;
  const indicator = document.getElementById("sse-state");
  if (indicator) indicator.textContent = "";
}

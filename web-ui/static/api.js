// The only place that talks HTTP to ecardd (docs/API.md). Paths are relative to the
// page, so the UI works wherever the daemon serves it.

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `服务返回错误（HTTP ${status}）`);
    this.status = status;
    this.code = body && body.code ? body.code : `http_${status}`;
    this.body = body || {};
  }
}

/** Called with every 401 except the login's own, so the shell can return to 登录. */
let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

export function apiUrl(path) {
  return `api/v1/${path}`;
}

/**
 * One request. `body` is sent as JSON, or as is when it is FormData. Every request
 * that changes something carries `X-Requested-With: ecard`. Resolves to the parsed
 * JSON (null for 204); rejects with ApiError carrying the server's Chinese message.
 */
export async function api(method, path, body, { quietAuth = false } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    headers["X-Requested-With"] = "ecard";
  }
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(apiUrl(path), init);
  } catch (_e) {
    throw new ApiError(0, {
      code: "network",
      message: "无法连接本机服务 ecardd，请确认它正在运行后重试",
    });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (_e) {
      data = null;
    }
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quietAuth) onUnauthenticated(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body === undefined ? {} : body, opts);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

export const enc = encodeURIComponent;

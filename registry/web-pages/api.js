// The only place that talks HTTP to the registry's pages API (/web/v1, docs/REGISTRY.md).

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `服务返回错误（HTTP ${status}）`);
    this.status = status;
    this.code = body && body.code ? body.code : `http_${status}`;
  }
}

let onUnauthenticated = () => {};
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/** One request; every change carries `X-Requested-With: ecard`. */
export async function api(method, path, body, { quietAuth = false } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-Requested-With"] = "ecard";
  if (body instanceof Blob) {
    // A file (a proof material) goes as its bytes; the server decides its type.
    headers["Content-Type"] = "application/octet-stream";
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`v1/${path}`, init);
  } catch (_e) {
    throw new ApiError(0, { code: "network", message: "无法连接中心服务，请稍后重试" });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (_e) {
    data = null;
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && !quietAuth) onUnauthenticated(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body) => api("POST", path, body === undefined ? {} : body);
export const put = (path, body) => api("PUT", path, body);
export const del = (path) => api("DELETE", path);
/** A file's bytes as the body (`file` is a File or Blob). */
export const upload = (path, file) => api("POST", path, file);
export const enc = encodeURIComponent;

/** A query string from the non-empty fields of `obj`. */
export function query(obj) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

// fetch wrapper: same-origin cookies, the CSRF token on state-changing
// requests, and errors parsed from the OpenAI shape into ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || null;
    this.type = e.type || null;
    this.param = e.param || null;
    this.details = e.details || null;
    this.approval = e.approval || null;
    this.body = body;
  }
}

function csrfToken() {
  const m = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('tp_csrf='));
  return m ? decodeURIComponent(m.slice('tp_csrf='.length)) : '';
}

const listeners = new Set();
/** Called with the ApiError of any 401 (the session ended). */
export function onUnauthorized(f) { listeners.add(f); }

/** request('POST', '/v1/...', body?, {headers, signal}) → {status, body, headers} or throws ApiError. */
export async function request(method, path, body, opts = {}) {
  const headers = { accept: 'application/json', ...(opts.headers || {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfToken();
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal: opts.signal,
  });
  const text = await resp.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  if (!resp.ok) {
    const err = new ApiError(resp.status, parsed);
    if (resp.status === 401 && !opts.quiet) listeners.forEach((f) => f(err));
    throw err;
  }
  return { status: resp.status, body: parsed, headers: resp.headers };
}

export const api = {
  request,
  get: (path, opts) => request('GET', path, undefined, opts).then((r) => r.body),
  post: (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts).then((r) => r.body),
  put: (path, body, opts) => request('PUT', path, body, opts).then((r) => r.body),
  del: (path, opts) => request('DELETE', path, undefined, opts).then((r) => r.body),
  csrfToken,
  ApiError,
};
export default api;

// Small pieces the dashboard and integrations pages share: element building
// (text only through text nodes, never HTML) and JSON requests through the
// console's api module, with a same-origin fallback that follows the same
// contract (cookies, x-csrf-token on writes, OpenAI-shaped errors).

/** Builds an element; string children become text nodes. `on*` attributes take functions. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'checked' || k === 'value' || k === 'disabled') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function csrf() {
  const m = document.cookie.split(';').map((c) => c.trim()).find((c) => c.startsWith('tp_csrf='));
  return m ? decodeURIComponent(m.slice('tp_csrf='.length)) : '';
}

async function ownFetch(method, path, body) {
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!r.ok) {
    const e = (data && data.error) || {};
    const err = new Error(e.message || `HTTP ${r.status}`);
    Object.assign(err, { status: r.status, code: e.code || null, details: e.details || null, param: e.param || null });
    throw err;
  }
  return data;
}

/** A JSON request: resolves to the parsed body, rejects with {status, code, message, details}. */
export async function call(api, method, path, body) {
  if (api && method === 'GET' && typeof api.get === 'function') return api.get(path);
  if (api && method === 'POST' && typeof api.post === 'function') return api.post(path, body);
  return ownFetch(method, path, body);
}

/** A section with a heading; returns [section, body]. */
export function section(title, id) {
  const h = el('h2', { id: `${id}-title` }, title);
  const body = el('div', { class: 'section-body' });
  const s = el('section', { class: 'panel', 'aria-labelledby': `${id}-title`, id }, h, body);
  return [s, body];
}

/** Replaces the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

/** An error shown in place, with its code. */
export function errorBox(e) {
  return el('p', { class: 'error', role: 'alert' },
    e && e.code ? `${e.message} (${e.code})` : String((e && e.message) || e));
}

// Small pieces the dashboard and integrations pages share, over the
// console's own modules: elements from dom.js (text only through text nodes,
// never HTML) and JSON requests through api.js (cookies, x-csrf-token on
// writes, OpenAI-shaped errors as ApiError).

import { h, fill } from '../dom.js';

export { h as el, fill };

/** A JSON request through the console's api: resolves to the parsed body, rejects with ApiError. */
export function call(api, method, path, body) {
  return method === 'GET' ? api.get(path) : api.post(path, body);
}

/** A section with a heading; returns [section, body]. */
export function section(title, id) {
  const body = h('div', { class: 'section-body' });
  const s = h('section', { class: 'panel', 'aria-labelledby': `${id}-title`, id }, h('h2', { id: `${id}-title` }, title), body);
  return [s, body];
}

/** An error shown in place, with its code. */
export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' },
    e && e.code ? `${e.message} (${e.code})` : String((e && e.message) || e));
}

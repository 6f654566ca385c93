// Building elements. Text only ever goes in through textContent (text nodes),
// never innerHTML: whatever a tool, a description, a model or a log says is
// shown as text.

/** h('div', {class: 'x', onclick: f, 'aria-label': 'y'}, child, 'text', [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Removes every child of `el`, then appends `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
/** A fresh id for label/aria wiring. */
export function uid(prefix) {
  seq += 1;
  return `${prefix}-${seq}`;
}

/** Says `text` to screen readers (polite live region). */
export function announce(text) {
  const el = document.getElementById('announce');
  if (!el) return;
  el.textContent = '';
  // A new text node in a later task so repeated messages are read again.
  setTimeout(() => { el.textContent = text; }, 30);
}

/** A collapsible block of pretty-printed JSON (or plain text). */
export function jsonBlock(value, { summary = 'JSON', open = true } = {}) {
  let text;
  if (typeof value === 'string') {
    try { text = JSON.stringify(JSON.parse(value), null, 2); } catch { text = value; }
  } else {
    text = JSON.stringify(value, null, 2);
  }
  return h('details', { class: 'json', open }, h('summary', {}, summary), h('pre', { tabindex: '0' }, h('code', {}, text)));
}

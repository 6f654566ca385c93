// The command palette (Ctrl/Cmd-K): one combobox over actions and the
// registry's tool search, and nested steps (a tool's form, an approval, a
// list to choose from) with Esc or Backspace to go back.

import { h, fill, uid, announce } from './dom.js';
import { toolForm } from './form.js';

const actions = [];
/** Adds actions: [{id, title, group, keywords?, run(palette)}]; run may return a step to push. */
export function registerActions(list) {
  for (const a of list) {
    const at = actions.findIndex((x) => x.id === a.id);
    if (at >= 0) actions[at] = a; else actions.push(a);
  }
}

let api = null;
let root = null;     // backdrop
let dialog = null;
let titleEl = null;
let backBtn = null;
let input = null;
let listbox = null;
let view = null;
let opener = null;
const stack = [];    // steps: {title, kind: 'search'|'view', ...}
let results = [];
let active = -1;
let fetchCtl = null;
let queryFor = null;

function matches(a, q) {
  const text = `${a.title} ${a.group || ''} ${a.keywords || ''}`.toLowerCase();
  return q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => text.includes(w));
}

function top() { return stack[stack.length - 1]; }

function setActive(i) {
  const opts = listbox.querySelectorAll('[role=option]');
  if (!opts.length) { active = -1; input.removeAttribute('aria-activedescendant'); return; }
  active = (i + opts.length) % opts.length;
  opts.forEach((o, j) => o.setAttribute('aria-selected', j === active ? 'true' : 'false'));
  input.setAttribute('aria-activedescendant', opts[active].id);
  opts[active].scrollIntoView({ block: 'nearest' });
}

function renderList(items, note) {
  results = items;
  const lid = listbox.id;
  fill(listbox, items.map((it, i) => h('li', {
    role: 'option', id: `${lid}-o${i}`, 'aria-selected': 'false', class: 'option',
    onclick: () => choose(i), onmousemove: () => { if (active !== i) setActive(i); },
  }, h('span', { class: 'kind' }, it.kind), h('span', { class: 'title' }, it.title),
  it.subtitle ? h('span', { class: 'sub' }, it.subtitle) : null)));
  input.setAttribute('aria-expanded', items.length ? 'true' : 'false');
  // An empty listbox is left out of the page (it would have no options).
  listbox.hidden = !items.length;
  fill(view, note ? h('p', { class: 'muted', role: 'status' }, note) : null);
  setActive(0);
}

async function search() {
  const step = top();
  const q = input.value.trim();
  step.query = input.value;
  if (step.items) {
    const items = step.items.filter((it) => matches(it, q));
    renderList(items, items.length ? '' : 'Nothing matches.');
    return;
  }
  const acts = actions.filter((a) => !q || matches(a, q)).map((a) => ({ kind: a.group || 'Action', title: a.title, action: a }));
  if (!q) {
    renderList(acts, 'Type to search the tools.');
    return;
  }
  renderList(acts, 'Searching tools…');
  if (fetchCtl) fetchCtl.abort();
  fetchCtl = new AbortController();
  queryFor = q;
  try {
    const r = await api.get(`/v1/tools?q=${encodeURIComponent(q)}&limit=20`, { signal: fetchCtl.signal });
    if (queryFor !== q || top() !== step) return;
    const tools = (r.data || []).map((t) => ({ kind: 'Tool', title: t.name, subtitle: t.description || '', tool: t }));
    const keep = results[active];
    renderList([...tools, ...acts], tools.length || acts.length ? '' : 'No tool or action matches.');
    const again = keep ? results.findIndex((x) => x.title === keep.title && x.kind === keep.kind) : -1;
    if (again > 0) setActive(again);
    announce(`${tools.length} tools`);
  } catch (e) {
    if (e.name !== 'AbortError') fill(view, h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

/** A step showing custom content: {title, render(el) → {focus}?}. */
function showStep() {
  const step = top();
  titleEl.textContent = step.title;
  backBtn.hidden = stack.length < 2;
  if (step.kind === 'search') {
    input.hidden = false;
    input.value = step.query || '';
    input.setAttribute('aria-label', step.title);
    input.placeholder = step.placeholder || 'Search tools and actions';
    search();
    input.focus();
    input.select();
  } else {
    input.hidden = true;
    listbox.hidden = true;
    fill(listbox);
    input.setAttribute('aria-expanded', 'false');
    fill(view);
    const handle = step.render(view) || {};
    (handle.focus || (() => view.focus()))();
  }
}

/** Pushes a step: {title, render(el)} for content, or {title, items:[{kind,title,subtitle,run}]} to choose from. */
export function push(step) {
  if (step.items) step.kind = 'search';
  else step.kind = step.kind || 'view';
  stack.push(step);
  showStep();
}

/** Back one step; closes the palette at the first. */
export function pop() {
  if (stack.length > 1) {
    stack.pop();
    showStep();
  } else {
    close();
  }
}

function toolStep(tool) {
  return {
    title: tool.name,
    render(el) { return toolForm(el, tool, { api, push, pop }); },
  };
}

/** Opens the palette straight at a tool's form. */
export function openTool(tool) {
  open();
  push(toolStep(tool));
}

async function choose(i) {
  const it = results[i];
  if (!it) return;
  if (it.tool) { push(toolStep(it.tool)); return; }
  const run = it.action ? it.action.run : it.run;
  try {
    const next = await run(paletteHandle);
    if (next && typeof next === 'object') push(next);
    else if (next !== 'keep') close();
  } catch (e) {
    fill(view, h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

const paletteHandle = { push, pop, close: () => close(), get api() { return api; } };

function onKey(e) {
  const step = top();
  if (!step) return;
  if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    pop();
    return;
  }
  const inField = e.target.matches('input, textarea, select, [contenteditable]');
  if (e.key === 'Backspace' && stack.length > 1 && (step.kind === 'search' ? e.target === input && input.value === '' : !inField)) {
    e.preventDefault();
    pop();
    return;
  }
  if (step.kind !== 'search' || e.target !== input) return;
  if (e.key === 'ArrowDown') { e.preventDefault(); setActive(active + 1); }
  else if (e.key === 'ArrowUp') { e.preventDefault(); setActive(active - 1); }
  else if (e.key === 'Home' && e.ctrlKey) { e.preventDefault(); setActive(0); }
  else if (e.key === 'End' && e.ctrlKey) { e.preventDefault(); setActive(results.length - 1); }
  else if (e.key === 'Enter') { e.preventDefault(); if (active >= 0) choose(active); }
}

function build() {
  const tid = uid('palette-title');
  const lid = uid('palette-list');
  titleEl = h('h2', { id: tid, class: 'palette-title' });
  backBtn = h('button', { type: 'button', class: 'link back', onclick: () => pop() }, '← Back');
  input = h('input', {
    type: 'text', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': lid, autocomplete: 'off', spellcheck: 'false', class: 'palette-input',
  });
  input.addEventListener('input', () => search());
  listbox = h('ul', { role: 'listbox', id: lid, class: 'palette-list', 'aria-label': 'Results' });
  view = h('div', { class: 'palette-view', tabindex: '-1' });
  dialog = h('div', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': tid, class: 'palette' },
    h('div', { class: 'palette-head' }, backBtn, titleEl, h('button', { type: 'button', class: 'link', onclick: () => close() }, 'Close')),
    input, listbox, view);
  dialog.addEventListener('keydown', onKey);
  root = h('div', { class: 'palette-backdrop', hidden: true, onmousedown: (e) => { if (e.target === root) close(); } }, dialog);
  document.body.appendChild(root);
}

function setInert(on) {
  for (const el of document.body.children) if (el !== root && el.id !== 'announce') el.inert = on;
}

/** Opens the palette at its first step. */
export function open() {
  if (!root.hidden) {
    // Ctrl-K again: back to the search.
    stack.length = 1;
    showStep();
    return;
  }
  opener = document.activeElement;
  stack.length = 0;
  stack.push({ kind: 'search', title: 'Search tools and actions', query: '' });
  root.hidden = false;
  setInert(true);
  showStep();
}

/** Closes it and gives focus back. */
export function close() {
  if (root.hidden) return;
  root.hidden = true;
  setInert(false);
  stack.length = 0;
  if (fetchCtl) fetchCtl.abort();
  if (opener && opener.isConnected) opener.focus();
}

export function isOpen() { return root && !root.hidden; }

/** Wires Ctrl/Cmd-K on every page. */
export function initPalette(theApi) {
  api = theApi;
  build();
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      open();
    }
  });
}

// Boot: the sign-in gate, client-side routing by path, the palette's
// built-in actions and the dock.

import { api, onUnauthorized } from './api.js';
import { h, fill, announce, jsonBlock } from './dom.js';
import { initPalette, registerActions, open as openPalette } from './palette.js';
import { initDock, dock } from './dock.js';
import { registerMcpActions } from './mcp-servers.js';

const PAGES = {
  '/': { module: 'home', title: 'Home' },
  '/tools': { module: 'tools', title: 'Tools' },
  '/dashboard': { module: 'dashboard', title: 'Dashboard' },
  '/integrations': { module: 'integrations', title: 'Integrations' },
};

const main = document.getElementById('page');
const signin = document.getElementById('signin');
const header = document.getElementById('top');
const dockEl = document.getElementById('dock');
let me = null;
let started = false;

/** Shows the page at `path`; `anchor` (an element id) is scrolled to and focused once it renders. */
export async function navigate(path, anchor) {
  if (location.pathname !== path) history.pushState({}, '', path);
  await render();
  if (anchor) {
    // Pages may fill their sections after render() returns.
    for (let i = 0; i < 40 && !document.getElementById(anchor); i += 1) await new Promise((r) => setTimeout(r, 50));
    const el = document.getElementById(anchor);
    if (el) {
      if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
      el.scrollIntoView({ block: 'start' });
      el.focus({ preventScroll: true });
    }
  }
}

async function render() {
  const page = PAGES[location.pathname] || PAGES['/'];
  document.title = `${page.title} · toolplane console`;
  for (const a of header.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === location.pathname) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  fill(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const mod = await import(`./pages/${page.module}.js`);
    fill(main);
    await mod.render(main, api, { me, navigate });
  } catch (e) {
    fill(main, h('h1', {}, page.title), h('p', { class: 'error', role: 'alert' }, `This page failed to load: ${e.message}`));
  }
  main.focus({ preventScroll: true });
}

function showSignIn(message) {
  started = false;
  me = null;
  header.hidden = true;
  dockEl.hidden = true;
  document.title = 'Sign in · toolplane console';
  fill(main, signin);
  signin.hidden = false;
  const err = document.getElementById('signin-error');
  err.textContent = message || '';
  document.getElementById('signin-key').focus();
}

async function start(session) {
  me = session;
  fill(document.getElementById('who'), h('span', { class: 'sr-only' }, 'Signed in as '), session.principal);
  header.hidden = false;
  dockEl.hidden = false;
  signin.hidden = true;
  if (!started) {
    started = true;
    initDock(dockEl, api, session);
    registerMcpActions(api, registerActions, navigate);
  }
  await render();
}

document.getElementById('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = document.getElementById('signin-key');
  const err = document.getElementById('signin-error');
  err.textContent = '';
  if (!key.value.trim()) {
    err.textContent = 'Enter a gateway key.';
    key.setAttribute('aria-invalid', 'true');
    key.focus();
    return;
  }
  try {
    const s = await api.request('POST', '/console/session', { key: key.value.trim() }, { quiet: true });
    key.value = '';
    key.removeAttribute('aria-invalid');
    announce(`Signed in as ${s.body.principal}`);
    await start(s.body);
  } catch (ex) {
    err.textContent = ex.status === 401 ? 'That key is not valid for this server.' : ex.message;
    key.setAttribute('aria-invalid', 'true');
    key.focus();
    key.select();
  }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try { await api.del('/console/session', { quiet: true }); } catch { /* signed out anyway */ }
  dock()?.reset();
  showSignIn('You are signed out.');
});

document.getElementById('palette-open').addEventListener('click', () => openPalette());

document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin === location.origin && PAGES[url.pathname]) {
    e.preventDefault();
    navigate(url.pathname);
  }
});
window.addEventListener('popstate', () => { if (me) render(); });
onUnauthorized(() => showSignIn('Your session ended. Sign in again.'));

function go(path, title) {
  return { id: `go:${path}`, title: `Go to ${title}`, group: 'Page', keywords: 'open page navigate', run: () => { navigate(path); } };
}

registerActions([
  go('/', 'Home'), go('/tools', 'Tools'), go('/dashboard', 'Dashboard'), go('/integrations', 'Integrations'),
  ...[['providers', 'Providers'], ['openapi', 'OpenAPI descriptions'], ['github', 'GitHub'], ['mcp', 'MCP servers']].map(([id, title]) => ({
    id: `integration:${id}`, title: `Open integration: ${title}`, group: 'Integration', keywords: 'integrations connect',
    run: () => { navigate('/integrations', `int-${id}`); },
  })),
  {
    id: 'dock:model', title: 'Switch the dock’s model or route', group: 'Dock', keywords: 'expert route model auto',
    async run() {
      const r = await api.get('/v1/models');
      return {
        title: 'Model or route for the dock',
        placeholder: 'Filter models and routes',
        items: (r.data || []).map((m) => ({
          kind: m.toolplane && m.toolplane.kind === 'route' ? 'Route' : 'Expert',
          title: m.id,
          subtitle: m.toolplane && m.toolplane.model ? `${m.owned_by} · ${m.toolplane.model}` : 'router',
          run: () => { dock()?.setModel(m.id); announce(`The dock now uses ${m.id}`); },
        })),
      };
    },
  },
  { id: 'dock:new', title: 'New dock conversation', group: 'Dock', keywords: 'clear chat reset', run: () => dock()?.clear() },
  { id: 'dock:focus', title: 'Ask the dock', group: 'Dock', keywords: 'chat ai question', run: () => dock()?.focus() },
  {
    id: 'audit:verify', title: 'Verify the audit log', group: 'Audit', keywords: 'hash chain integrity check',
    async run() {
      let result;
      try { result = await api.post('/v1/audit/verify'); } catch (e) { result = { error: e.message }; }
      return {
        title: 'Audit log verification',
        render(el) {
          const ok = result && !result.error && (result.ok === true || result.verified === true);
          fill(el, h('p', { role: 'status', class: ok ? 'ok' : 'error' },
            result.error ? `Not verified: ${result.error}` : ok ? `The audit log verifies: ${result.summary || 'every frame and the hash chain are intact.'}` : `The audit log does not verify: ${result.summary || ''}`),
          jsonBlock(result, { summary: 'Report' }));
        },
      };
    },
  },
  { id: 'session:out', title: 'Sign out', group: 'Session', keywords: 'logout', run: () => document.getElementById('sign-out').click() },
]);

async function boot() {
  initPalette(api);
  document.getElementById('booting')?.remove();
  try {
    const s = await api.request('GET', '/console/session', undefined, { quiet: true });
    await start(s.body);
  } catch (e) {
    showSignIn(e.status === 401 ? '' : e.message);
  }
}

boot();

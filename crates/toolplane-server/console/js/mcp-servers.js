// The MCP servers of [[tools.mcp]] on the integrations page (state, last
// error, tools with their hints, a reconnect button) and one palette action
// per server. Names, descriptions and errors come from third-party servers:
// they go in as text (dom.js), never as HTML.

import { call, el, errorBox, fill, section } from './pages/kit.js';

const STATE_TEXT = { connected: 'Connected', connecting: 'Connecting', reconnecting: 'Reconnecting', failed: 'Failed' };
const STATE_CLASS = { connected: 'key-present', failed: 'key-missing', connecting: 'key-not_needed', reconnecting: 'key-not_needed' };

/** The element id of a server's block (the palette scrolls to it). */
export function serverAnchor(name) {
  return `int-mcp-${String(name).replace(/[^a-zA-Z0-9_-]/g, '-')}`;
}

function hints(a) {
  const out = [];
  if (a.read_only) out.push('read-only');
  if (a.destructive) out.push('destructive');
  if (a.idempotent) out.push('idempotent');
  if (a.open_world) out.push('open world');
  return out.join(', ') || '–';
}

function toolsTable(server) {
  if (!server.tools.length) return el('p', { class: 'muted' }, 'No tools listed.');
  return el('table', { class: 'data-table' },
    el('caption', {}, `Tools of ${server.name}${server.trust_annotations ? '' : ' (hints untrusted: calls ask unless a rule allows destructive tools)'}`),
    el('thead', {}, el('tr', {}, ...['Tool', 'Description', 'Hints'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, server.tools.map((t) => el('tr', { class: t.enabled ? '' : 'disabled' },
      el('th', { scope: 'row', class: 'mono' }, t.name),
      el('td', {}, t.annotations.title ? `${t.annotations.title}: ${t.description}` : t.description),
      el('td', {}, hints(t.annotations))))));
}

function serverBlock(api, server, reload) {
  const status = el('span', { class: 'test-result', role: 'status', 'aria-live': 'polite' });
  const button = el('button', { type: 'button', class: 'small', 'aria-label': `Reconnect ${server.name}` }, 'Reconnect');
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = 'Reconnecting…';
    try {
      const s = await call(api, 'POST', `/v1/integrations/mcp/${encodeURIComponent(server.name)}/reconnect`);
      await reload(server.name, `${STATE_TEXT[s.state] || s.state}${s.last_error ? `: ${s.last_error}` : ''}`);
    } catch (e) {
      button.disabled = false;
      fill(status, errorBox(e));
    }
  });
  const refreshes = server.refresh_count === 1 ? '1 refresh' : `${server.refresh_count} refreshes`;
  const skipped = server.skipped.length
    ? el('details', { class: 'warnings-box' }, el('summary', {}, `${server.skipped.length} not registered`),
      el('ul', { class: 'warnings' }, server.skipped.map((s) => el('li', {}, `${s.name}: ${s.reason}`))))
    : null;
  return el('article', { class: 'mcp-server', id: serverAnchor(server.name), 'data-state': server.state, 'aria-labelledby': `${serverAnchor(server.name)}-title` },
    el('h3', { id: `${serverAnchor(server.name)}-title` }, server.name,
      el('span', { class: `badge ${STATE_CLASS[server.state] || ''}` }, STATE_TEXT[server.state] || server.state)),
    el('p', { class: 'muted' },
      `${server.transport} · `, el('span', { class: 'mono' }, server.target),
      ` · ${server.tool_count} ${server.tool_count === 1 ? 'tool' : 'tools'} · ${refreshes}`,
      server.failed_attempts ? ` · ${server.failed_attempts} failed attempts` : ''),
    server.last_error ? el('p', { class: 'error' }, `Last error: ${server.last_error}`) : null,
    el('p', {}, button, ' ', status),
    skipped,
    toolsTable(server));
}

/** The integrations page's MCP section. */
export function mcpSection(api) {
  const [s, body] = section('MCP servers', 'int-mcp');
  async function load(focusName, message) {
    try {
      const m = await call(api, 'GET', '/v1/integrations/mcp');
      const parts = m.data.length
        ? m.data.map((x) => serverBlock(api, x, load))
        : [el('p', { class: 'muted' }, 'No MCP servers connected. Add [[tools.mcp]] entries to toolplane.toml to offer their tools.')];
      if (m.served) parts.push(el('p', {}, `This gateway serves its own tools over MCP at ${m.served}.`));
      fill(body, parts);
      registerServers(m.data);
      if (focusName) {
        const block = document.getElementById(serverAnchor(focusName));
        const status = block && block.querySelector('[role=status]');
        if (status && message) status.textContent = message;
        const button = block && block.querySelector('button');
        if (button) button.focus();
      }
    } catch (e) {
      fill(body, errorBox(e));
    }
  }
  load();
  return s;
}

let register = null;
let go = null;

function registerServers(servers) {
  if (!register || !go) return;
  register(servers.map((x) => ({
    id: `integration:mcp:${x.name}`,
    title: `Open integration: MCP server ${x.name}`,
    group: 'Integration',
    keywords: `integrations mcp ${x.state} ${x.tools.map((t) => t.remote_name).join(' ')}`,
    run: () => { go('/integrations', serverAnchor(x.name)); },
  })));
}

/** Adds one palette action per MCP server ("Open integration: MCP server NAME"). */
export async function registerMcpActions(api, registerActions, navigate) {
  register = registerActions;
  go = navigate;
  try {
    const m = await call(api, 'GET', '/v1/integrations/mcp');
    registerServers(m.data);
  } catch {
    // The palette keeps its other actions; the page shows the error.
  }
}

// The integrations page: providers (key present or missing, a test button,
// live figures), OpenAPI descriptions (add by file or path, tools and
// warnings, filters, single tools on and off), GitHub and MCP.
// Every text from a description or a server goes in as text, never as HTML.

import { fmt, fmtMs, fmtPct, fmtUsd } from '../charts.js';
import { call, el, errorBox, fill, section } from './kit.js';
import { mcpSection } from '../mcp-servers.js';

const KEY_TEXT = { present: 'Key present', missing: 'Key missing', not_needed: 'No key needed' };

function providersSection(api) {
  const [s, body] = section('Providers', 'int-providers');
  // The last test result per expert survives the reload that refreshes the figures.
  const results = new Map();
  async function load(focusId) {
    try {
      const r = await call(api, 'GET', '/v1/integrations/providers');
      let focus = null;
      const rows = r.data.map((p) => {
        const last = results.get(p.id);
        const result = el('span', { class: `test-result ${last ? last.cls : ''}`, role: 'status', 'aria-live': 'polite' },
          last ? last.text : '');
        const button = el('button', { type: 'button', class: 'small', 'aria-label': `Test connection to ${p.id}` }, 'Test connection');
        if (p.id === focusId) focus = button;
        button.addEventListener('click', async () => {
          button.disabled = true;
          result.textContent = 'Testing…';
          try {
            const t = await call(api, 'POST', `/v1/integrations/providers/${encodeURIComponent(p.id)}/test`);
            results.set(p.id, {
              cls: t.ok ? 'ok' : 'error',
              text: t.ok ? `OK in ${fmtMs(t.latency_ms)}: “${t.text}”`
                : `Failed in ${fmtMs(t.latency_ms)}: ${t.error.kind}: ${t.error.message}`,
            });
          } catch (e) {
            results.set(p.id, { cls: 'error', text: e.message });
          }
          await load(p.id);
        });
        const f = p.figures;
        return el('tr', {},
          el('th', { scope: 'row' }, p.id, p.scripted ? el('span', { class: 'badge' }, 'scripted, not a model') : null),
          el('td', {}, `${p.provider} / ${p.model}`),
          el('td', { class: 'mono' }, p.base_url || '–'),
          el('td', {}, el('span', { class: `badge key-${p.key}` }, KEY_TEXT[p.key] || p.key),
            p.key_env ? el('span', { class: 'muted mono' }, ` ${p.key_env}`) : null),
          el('td', {}, fmt(f.calls)),
          el('td', {}, fmtPct(f.success_rate)),
          el('td', {}, `${fmtMs(f.latency_p50_ms)} / ${fmtMs(f.latency_p95_ms)}`),
          el('td', {}, fmtUsd(f.cost_usd)),
          el('td', {}, button, result));
      });
      fill(body, el('table', { class: 'data-table' },
        el('caption', {}, 'Configured experts; keys are never shown. Figures since the server started.'),
        el('thead', {}, el('tr', {}, ...['Expert', 'Provider / model', 'Base URL', 'Key', 'Calls', 'Success', 'p50 / p95', 'Cost', 'Connection']
          .map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows)));
      if (focus) focus.focus();
    } catch (e) {
      fill(body, errorBox(e));
    }
  }
  load();
  return s;
}

function toolsTable(api, api_, onChange) {
  // api_: one loaded description. Filters by tag, method and path.
  const tags = [...new Set(api_.tools.flatMap((t) => t.tags))].sort();
  const methods = [...new Set(api_.tools.map((t) => t.method))].sort();
  const id = `f-${(api_.namespace || api_.source + (api_.location || '')).replace(/[^a-z0-9]/gi, '-')}`;
  const tag = el('select', { id: `${id}-tag` }, el('option', { value: '' }, 'any tag'), ...tags.map((t) => el('option', { value: t }, t)));
  const method = el('select', { id: `${id}-method` }, el('option', { value: '' }, 'any method'), ...methods.map((m) => el('option', { value: m }, m)));
  const path = el('input', { id: `${id}-path`, type: 'search', placeholder: '/path contains…', autocomplete: 'off' });
  const tbody = el('tbody');
  const count = el('span', { class: 'muted', 'aria-live': 'polite' });
  function draw() {
    const shown = api_.tools.filter((t) => (!tag.value || t.tags.includes(tag.value))
      && (!method.value || t.method === method.value)
      && (!path.value || t.path.toLowerCase().includes(path.value.toLowerCase())));
    count.textContent = `${shown.length} of ${api_.tools.length} tools`;
    fill(tbody, shown.map((t) => {
      const box = el('input', { type: 'checkbox', checked: t.enabled, 'aria-label': `Enable ${t.name}` });
      box.addEventListener('change', async () => {
        box.disabled = true;
        try {
          await call(api, 'POST', `/v1/integrations/tools/${encodeURIComponent(t.name)}`, { enabled: box.checked });
          t.enabled = box.checked;
          onChange && onChange();
        } catch (e) {
          box.checked = !box.checked;
          alertIn(tbody, e);
        } finally {
          box.disabled = false;
        }
      });
      return el('tr', { class: t.enabled ? '' : 'disabled' },
        el('td', {}, box),
        el('th', { scope: 'row', class: 'mono' }, t.name),
        el('td', {}, el('span', { class: `method m-${t.method.toLowerCase()}` }, t.method)),
        el('td', { class: 'mono' }, t.path),
        el('td', {}, t.tags.join(', ')),
        el('td', {}, t.summary,
          t.warnings.length ? el('ul', { class: 'warnings' }, t.warnings.map((w) => el('li', {}, `${w.pointer}: ${w.message}`))) : null));
    }));
  }
  for (const c of [tag, method]) c.addEventListener('change', draw);
  path.addEventListener('input', draw);
  draw();
  return el('div', { class: 'tools-table' },
    el('div', { class: 'filters' },
      el('label', { for: tag.id }, 'Tag'), tag,
      el('label', { for: method.id }, 'Method'), method,
      el('label', { for: path.id }, 'Path'), path, count),
    el('table', { class: 'data-table' },
      el('thead', {}, el('tr', {}, ...['On', 'Tool', 'Method', 'Path', 'Tags', 'Summary'].map((h) => el('th', { scope: 'col' }, h)))),
      tbody));
}

function alertIn(node, e) {
  const row = el('tr', {}, el('td', { colspan: '6' }, errorBox(e)));
  node.prepend(row);
}

function describe(api, a, open, reload) {
  const name = a.namespace ? `${a.title || a.namespace} (${a.namespace}.*)` : `${a.title || 'API'} (${a.source})`;
  const warnings = a.warnings.length
    ? el('details', { class: 'warnings-box' }, el('summary', {}, a.warnings.length === 1 ? '1 warning' : `${a.warnings.length} warnings`),
      el('ul', { class: 'warnings' }, a.warnings.map((w) => el('li', {}, `${w.pointer}: ${w.message}`))))
    : el('p', { class: 'muted' }, 'No document warnings.');
  const meta = el('p', { class: 'muted' },
    `${a.tool_count} tools · source ${a.source}${a.location ? ` ${a.location}` : ''}`
    + `${a.version ? ` · version ${a.version}` : ''}${a.base_url ? ` · ${a.base_url}` : ''}`
    + `${a.auth.length ? ` · credentials set for ${a.auth.join(', ')}` : ''}${a.added_by ? ` · added by ${a.added_by}` : ''}`);
  // A description added at run time can be removed here (kept across restarts until then).
  let remove = null;
  if (a.persisted && a.namespace) {
    const status = el('span', { role: 'status' });
    const button = el('button', { type: 'button', class: 'small', 'aria-label': `Remove ${a.namespace}` }, 'Remove');
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api.del(`/v1/integrations/openapi/${encodeURIComponent(a.namespace)}`);
        await reload();
      } catch (e) {
        button.disabled = false;
        fill(status, errorBox(e));
      }
    });
    remove = el('p', {}, button, status);
  }
  return el('details', { class: 'api', open: open || undefined, 'data-namespace': a.namespace || '' },
    el('summary', {}, name), meta, ...(remove ? [remove] : []), warnings, toolsTable(api, a));
}

function openapiSection(api) {
  const [s, body] = section('OpenAPI integrations', 'int-openapi');
  const list = el('div', { class: 'api-list' });
  const out = el('div', { class: 'add-result', role: 'status', 'aria-live': 'polite' });
  const file = el('input', { id: 'oa-file', type: 'file', accept: '.json,.yaml,.yml,application/json,application/yaml' });
  const path = el('input', { id: 'oa-path', type: 'text', autocomplete: 'off', placeholder: 'petstore.yaml' });
  const ns = el('input', { id: 'oa-namespace', type: 'text', autocomplete: 'off', pattern: '[a-z][a-z0-9_]{0,31}', placeholder: 'from the title' });
  const base = el('input', { id: 'oa-base', type: 'url', autocomplete: 'off', placeholder: 'https://api.example.com' });
  const scheme = el('input', { id: 'oa-scheme', type: 'text', autocomplete: 'off', placeholder: 'bearerAuth' });
  const secret = el('input', { id: 'oa-secret', type: 'password', autocomplete: 'new-password' });
  const replace = el('input', { id: 'oa-replace', type: 'checkbox' });
  let dir = null;

  async function load(openNs) {
    try {
      const r = await call(api, 'GET', '/v1/integrations/openapi');
      dir = r.openapi_dir;
      path.disabled = !dir;
      pathHint.textContent = dir ? `Files inside ${dir}.` : 'No [tools] openapi_dir is configured: upload a file instead.';
      fill(list, r.data.length ? r.data.map((a) => describe(api, a, a.namespace && a.namespace === openNs, () => load()))
        : el('p', { class: 'muted' }, 'No descriptions loaded.'));
    } catch (e) {
      fill(list, errorBox(e));
    }
  }

  async function add(ev) {
    ev.preventDefault();
    const req = {};
    if (ns.value.trim()) req.namespace = ns.value.trim();
    if (base.value.trim()) req.base_url = base.value.trim();
    if (scheme.value.trim() && secret.value) req.auth = { [scheme.value.trim()]: secret.value };
    if (replace.checked) req.replace = true;
    if (file.files && file.files[0]) req.spec = await file.files[0].text();
    else if (path.value.trim()) req.path = path.value.trim();
    else { fill(out, errorBox({ message: 'Choose a file or enter a path.' })); return; }
    fill(out, el('p', { class: 'muted' }, 'Converting…'));
    try {
      const a = await call(api, 'POST', '/v1/integrations/openapi', req);
      secret.value = '';
      const warn = a.warnings.length + a.tools.reduce((n, t) => n + t.warnings.length, 0);
      fill(out, el('p', { class: 'ok' },
        `Added ${a.tools.length} tools under ${a.namespace}.* with ${warn} ${warn === 1 ? 'warning' : 'warnings'}. Find them with Ctrl-K.`));
      form.reset();
      await load(a.namespace);
    } catch (e) {
      fill(out, errorBox(e));
    }
  }
  const pathHint = el('p', { class: 'muted hint' });
  const form = el('form', { class: 'add-form', onsubmit: add, 'aria-label': 'Add an OpenAPI description' },
    el('div', { class: 'field' }, el('label', { for: 'oa-file' }, 'Description file (JSON or YAML)'), file),
    el('div', { class: 'field' }, el('label', { for: 'oa-path' }, 'or a path on the server'), path, pathHint),
    el('div', { class: 'field' }, el('label', { for: 'oa-namespace' }, 'Namespace'), ns),
    el('div', { class: 'field' }, el('label', { for: 'oa-base' }, 'Base URL (optional)'), base),
    el('div', { class: 'field' }, el('label', { for: 'oa-scheme' }, 'Security scheme (optional)'), scheme),
    el('div', { class: 'field' }, el('label', { for: 'oa-secret' }, 'Credential (never shown again)'), secret),
    el('div', { class: 'field inline' }, replace, el('label', { for: 'oa-replace' }, 'Replace the same namespace')),
    el('button', { type: 'submit', id: 'oa-add' }, 'Add description'));
  body.append(form, out, list);
  load();
  return s;
}

function githubSection(api) {
  const [s, body] = section('GitHub', 'int-github');
  call(api, 'GET', '/v1/integrations/github').then((g) => {
    fill(body, g.configured
      ? el('p', {}, el('span', { class: 'badge key-present' }, 'Configured'),
        ` ${g.enabled_tools} of ${g.tools} tools enabled${g.read_only ? ' (read only)' : ''} · ${g.base_url} · token ${g.token_env}: `,
        el('span', { class: `badge key-${g.token_present ? 'present' : 'missing'}` }, g.token_present ? 'present' : 'missing'))
      : el('p', { class: 'muted' }, `Not configured: ${g.hint}.`));
  }).catch((e) => fill(body, errorBox(e)));
  return s;
}

export async function render(main, api) {
  fill(main, el('div', { class: 'page integrations' },
    el('header', { class: 'page-head' }, el('h1', { tabindex: '-1' }, 'Integrations')),
    providersSection(api), openapiSection(api), githubSection(api), mcpSection(api)));
}

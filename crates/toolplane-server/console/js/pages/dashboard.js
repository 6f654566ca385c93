// The dashboard: provider latency over time, cost, win rates, error kinds
// (GET /v1/dashboard?range=) and the audit log with filters and a verify
// button (GET /v1/audit, POST /v1/audit/verify).

import { barChart, fmt, fmtMs, fmtPct, fmtUsd, lineChart } from '../charts.js';
import { call, el, errorBox, fill, section } from './kit.js';

const RANGES = [['15m', '15 minutes'], ['1h', '1 hour'], ['6h', '6 hours'], ['24h', '24 hours']];

function tiles(d) {
  const t = d.totals || {};
  const tile = (label, value) => el('div', { class: 'tile' }, el('span', { class: 'tile-label' }, label),
    el('strong', { class: 'tile-value' }, value));
  return el('div', { class: 'tiles' },
    tile('Calls', fmt(t.calls ?? 0)),
    tile('Success rate', fmtPct(t.success_rate)),
    tile('Latency p95', fmtMs(t.latency_ms ? t.latency_ms.p95 : null)),
    tile('Cost', fmtUsd(t.cost_usd ?? 0)));
}

function latencyCharts(d) {
  if (!d.latency.length) {
    return [el('p', { class: 'muted' }, 'No calls in this range yet. Chat with a model or use the dock, then refresh.')];
  }
  return d.latency.map((p) => lineChart({
    title: `Latency of ${p.provider} (ms)`,
    yFormat: fmt,
    series: ['p50', 'p95', 'p99'].map((q) => ({ name: q, points: p.points.map((pt) => ({ x: pt.t, y: pt[q] })) })),
  }));
}

function costCharts(d) {
  const bars = (lines) => lines.map((l) => ({
    label: l.name, value: l.cost_usd,
    note: `${l.calls} calls${l.unpriced_calls ? `, ${l.unpriced_calls} unpriced` : ''}`,
  }));
  const out = [
    barChart({ title: 'Cost by provider (USD)', bars: bars(d.cost.by_provider), format: fmtUsd }),
    barChart({ title: 'Cost by model (USD)', bars: bars(d.cost.by_model), format: fmtUsd }),
    barChart({ title: 'Cost by task type (USD)', bars: bars(d.cost.by_task_type), format: fmtUsd }),
  ];
  if (d.cost.unpriced_calls) {
    out.push(el('p', { class: 'muted' },
      `${d.cost.unpriced_calls} calls had no price (${d.cost.unpriced_models.join(', ')}): their cost is unknown, not zero.`));
  }
  return out;
}

function winChart(d) {
  return barChart({
    title: 'Win rate by task type',
    bars: d.win_rates.map((w) => ({
      label: `${w.task_type} · ${w.provider}/${w.model}`, value: w.win_rate ?? 0,
      note: `${w.wins} of ${w.judged} judged`,
    })),
    format: fmtPct,
    max: 1,
    empty: 'No judged answers in this range (feedback records wins and losses).',
  });
}

function errorChart(d) {
  return barChart({
    title: 'Errors by kind',
    bars: d.errors.map((e) => ({ label: e.kind, value: e.count })),
    format: (v) => fmt(v),
    empty: 'No failed calls in this range.',
  });
}

function auditSection(api) {
  const [s, body] = section('Audit log', 'audit');
  const principal = el('input', { id: 'audit-principal', name: 'principal', type: 'text', autocomplete: 'off' });
  const tool = el('input', { id: 'audit-tool', name: 'tool', type: 'text', autocomplete: 'off' });
  const decision = el('select', { id: 'audit-decision', name: 'decision' },
    ...[['', 'any'], ['allow', 'allow'], ['ask', 'ask'], ['deny', 'deny'], ['approved', 'approved'], ['none', 'none']]
      .map(([v, t]) => el('option', { value: v }, t)));
  const results = el('div', { class: 'audit-results', 'aria-live': 'polite' });
  const verifyOut = el('div', { class: 'verify-result', role: 'status', 'aria-live': 'polite' });

  async function load() {
    const q = new URLSearchParams({ limit: '50' });
    if (principal.value.trim()) q.set('principal', principal.value.trim());
    if (tool.value.trim()) q.set('tool', tool.value.trim());
    if (decision.value) q.set('decision', decision.value);
    fill(results, el('p', { class: 'muted' }, 'Loading…'));
    try {
      const r = await call(api, 'GET', `/v1/audit?${q}`);
      const rows = r.data.slice().reverse().map(({ seq, record: x }) => el('tr', {},
        el('td', {}, String(seq)),
        el('td', {}, new Date(x.started_ms).toLocaleString()),
        el('td', {}, x.event),
        el('td', {}, x.principal),
        el('td', {}, x.tool || '–'),
        el('td', {}, x.decision || '–'),
        el('td', {}, x.status),
        el('td', {}, fmtMs(x.latency_us / 1000))));
      const t = el('table', { class: 'data-table' },
        el('caption', {}, `${r.total} matching records, newest first${r.total > r.data.length ? ` (showing ${r.data.length})` : ''}`),
        el('thead', {}, el('tr', {}, ...['Seq', 'Time', 'Event', 'Principal', 'Tool', 'Decision', 'Status', 'Latency']
          .map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows));
      fill(results, rows.length ? t : el('p', { class: 'muted' }, 'No records match.'));
    } catch (e) {
      fill(results, errorBox(e));
    }
  }

  async function verify() {
    fill(verifyOut, el('p', { class: 'muted' }, 'Verifying…'));
    try {
      const v = await call(api, 'POST', '/v1/audit/verify');
      const parts = [el('p', { class: v.ok ? 'ok' : 'error' }, v.ok ? 'Verified: the hash chain is intact.' : 'Verification FAILED.'),
        el('p', {}, v.summary)];
      if (v.failure) {
        parts.push(el('p', { class: 'error' },
          `At record ${v.failure.seq}, ${v.failure.segment} offset ${v.failure.offset}: ${v.failure.reason}`));
      }
      fill(verifyOut, parts);
    } catch (e) {
      fill(verifyOut, errorBox(e));
    }
  }

  const form = el('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); load(); } },
    el('label', { for: 'audit-principal' }, 'Principal'), principal,
    el('label', { for: 'audit-tool' }, 'Tool'), tool,
    el('label', { for: 'audit-decision' }, 'Decision'), decision,
    el('button', { type: 'submit' }, 'Filter'),
    el('button', { type: 'button', id: 'audit-verify', onclick: verify }, 'Verify audit log'));
  body.append(form, verifyOut, results);
  load();
  return { node: s, verify };
}

export async function render(main, api) {
  const params = new URLSearchParams(location.search);
  let range = RANGES.some(([r]) => r === params.get('range')) ? params.get('range') : '1h';
  const heading = el('h1', { tabindex: '-1' }, 'Dashboard');
  const picker = el('fieldset', { class: 'range-picker' }, el('legend', {}, 'Time range'),
    ...RANGES.map(([r, label]) => el('label', {},
      el('input', { type: 'radio', name: 'range', value: r, checked: r === range,
        onchange: () => { range = r; history.replaceState(null, '', `?range=${r}`); load(); } }),
      ` ${label}`)));
  const refresh = el('button', { type: 'button', onclick: () => load() }, 'Refresh');
  const status = el('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const [latS, latB] = section('Latency per provider', 'dash-latency');
  const [costS, costB] = section('Cost breakdown', 'dash-cost');
  const [winS, winB] = section('Win rate by task type', 'dash-wins');
  const [errS, errB] = section('Error kinds', 'dash-errors');
  const summary = el('div');
  const audit = auditSection(api);
  fill(main, el('div', { class: 'page dashboard' },
    el('header', { class: 'page-head' }, heading, el('div', { class: 'page-tools' }, picker, refresh)),
    status, summary, latS, el('div', { class: 'grid-2' }, costS, el('div', {}, winS, errS)), audit.node));

  async function load() {
    status.textContent = 'Loading…';
    try {
      const d = await call(api, 'GET', `/v1/dashboard?range=${range}`);
      fill(summary, tiles(d));
      fill(latB, latencyCharts(d));
      fill(costB, costCharts(d));
      fill(winB, winChart(d));
      fill(errB, errorChart(d));
      status.textContent = `Showing the last ${RANGES.find(([r]) => r === range)[1]}, in buckets of ${d.bucket_seconds / 60} min; ${d.totals.calls} calls.`;
    } catch (e) {
      status.textContent = '';
      fill(summary, errorBox(e));
    }
  }
  await load();
}

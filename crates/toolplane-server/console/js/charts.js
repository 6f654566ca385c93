// SVG line and bar charts for the dashboard and the integrations page.
// Every chart is a <figure>: an <svg role="img"> with an aria-label that
// says what it shows, and a <details> holding the same numbers as a table
// (the accessible alternative). All text goes in through textContent.

import { h as el } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function table(caption, head, rows) {
  const t = el('table', { class: 'chart-table' });
  t.append(el('caption', {}, caption));
  const thead = el('thead');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', { scope: 'col' }, h));
  thead.append(tr);
  const tbody = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c, i) => row.append(i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c)));
    tbody.append(row);
  }
  t.append(thead, tbody);
  return t;
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Formats a number with at most `digits` significant digits. */
export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(digits)).toString();
}

export const fmtMs = (v) => (v === null || v === undefined ? '–' : `${fmt(v)} ms`);
export const fmtUsd = (v) => (v === null || v === undefined ? '–' : `$${v < 0.01 && v > 0 ? v.toPrecision(2) : v.toFixed(2)}`);
export const fmtPct = (v) => (v === null || v === undefined ? '–' : `${fmt(v * 100)} %`);

function emptyFigure(title, message) {
  const f = el('figure', { class: 'chart chart-empty' });
  f.append(el('figcaption', {}, title), el('p', { class: 'muted' }, message));
  return f;
}

// Dash patterns and markers by series index: solid + filled circle, dashed +
// hollow square, dotted + hollow diamond (then the cycle repeats).
const LINE_STYLES = [
  { dash: null, marker: 'circle' },
  { dash: '7 4', marker: 'square' },
  { dash: '2 3', marker: 'diamond' },
];

function lineStyle(i) {
  return LINE_STYLES[i % LINE_STYLES.length];
}

function marker(shape, x, y) {
  const cx = x.toFixed(1), cy = y.toFixed(1);
  if (shape === 'square') {
    return svgEl('rect', { x: (x - 4.5).toFixed(1), y: (y - 4.5).toFixed(1), width: 9, height: 9, class: 'marker marker-hollow' });
  }
  if (shape === 'diamond') {
    const r = 7;
    return svgEl('path', { d: `M${cx},${(y - r).toFixed(1)}L${(x + r).toFixed(1)},${cy}L${cx},${(y + r).toFixed(1)}L${(x - r).toFixed(1)},${cy}Z`,
      class: 'marker marker-hollow' });
  }
  return svgEl('circle', { cx, cy, r: 2.75, class: 'marker marker-filled' });
}

/**
 * A line chart. `series`: [{name, points: [{x (ms since epoch), y (number|null)}]}].
 * Gaps (null) break the line. Returns a <figure>.
 */
export function lineChart({ title, series, yFormat = fmt, xFormat, empty = 'No data in this range.' }) {
  const all = series.flatMap((s) => s.points.filter((p) => p.y !== null && p.y !== undefined));
  if (all.length === 0) return emptyFigure(title, empty);
  const W = 560, H = 220, L = 56, R = 12, T = 12, B = 28;
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const yMax = niceMax(Math.max(...all.map((p) => p.y)));
  const sx = (x) => L + (x1 === x0 ? (W - L - R) / 2 : ((x - x0) / (x1 - x0)) * (W - L - R));
  const sy = (y) => T + (1 - y / yMax) * (H - T - B);
  const xf = xFormat || ((x) => new Date(x).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }));

  const peak = series
    .map((s) => {
      const ys = s.points.filter((p) => p.y !== null && p.y !== undefined).map((p) => p.y);
      return ys.length ? `${s.name} up to ${yFormat(Math.max(...ys))}` : `${s.name} no data`;
    })
    .join('; ');
  const svg = svgEl('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg',
    'aria-label': `${title}: ${peak}, from ${xf(x0)} to ${xf(x1)}.`,
  });
  const grid = svgEl('g', { class: 'chart-grid', 'aria-hidden': 'true' });
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    grid.append(svgEl('line', { x1: L, x2: W - R, y1: sy(y), y2: sy(y) }));
    grid.append(svgEl('text', { x: L - 6, y: sy(y) + 4, 'text-anchor': 'end', class: 'chart-axis' }, yFormat(y)));
  }
  grid.append(svgEl('text', { x: L, y: H - 8, class: 'chart-axis' }, xf(x0)));
  grid.append(svgEl('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'chart-axis' }, xf(x1)));
  svg.append(grid);
  // Each series has its own dash pattern and marker shape, not only its
  // colour; markers nest (filled circle < hollow square < hollow diamond)
  // and the later lines are broken, so equal values (p95 = p99) stay visible.
  series.forEach((s, i) => {
    const style = lineStyle(i);
    const g = svgEl('g', { class: `chart-series series-${i % 6}`, 'aria-hidden': 'true' });
    let d = '';
    let pen = false;
    const markers = [];
    for (const p of s.points) {
      if (p.y === null || p.y === undefined) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
      pen = true;
      markers.push(marker(style.marker, sx(p.x), sy(p.y)));
    }
    g.append(svgEl('path', { d, class: 'chart-line', 'stroke-dasharray': style.dash }), ...markers);
    svg.append(g);
  });

  const legend = el('ul', { class: 'chart-legend' });
  series.forEach((s, i) => {
    const style = lineStyle(i);
    const key = svgEl('svg', { viewBox: '0 0 28 12', width: 28, height: 12, 'aria-hidden': 'true', focusable: 'false',
      class: `chart-key chart-series series-${i % 6}` });
    key.append(svgEl('path', { d: 'M1,6L27,6', class: 'chart-line', 'stroke-dasharray': style.dash }),
      marker(style.marker, 14, 6));
    const li = el('li', {}, s.name);
    li.prepend(key);
    legend.append(li);
  });
  const xsSorted = [...new Set(xs)].sort((a, b) => a - b);
  const rows = xsSorted.map((x) => [xf(x), ...series.map((s) => {
    const p = s.points.find((q) => q.x === x);
    return p && p.y !== null && p.y !== undefined ? yFormat(p.y) : '–';
  })]);
  const details = el('details', { class: 'chart-data' }, el('summary', {}, 'Data table'),
    table(title, ['Time', ...series.map((s) => s.name)], rows));
  const f = el('figure', { class: 'chart' });
  f.append(el('figcaption', {}, title), svg, legend, details);
  return f;
}

/** A horizontal bar chart. `bars`: [{label, value, note?}]. Returns a <figure>. */
export function barChart({ title, bars, format = fmt, max, empty = 'Nothing to show in this range.' }) {
  if (!bars.length) return emptyFigure(title, empty);
  const rowH = 24, L = 150, R = 76, W = 420;
  const H = bars.length * rowH + 8;
  const top = max ?? niceMax(Math.max(...bars.map((b) => b.value)));
  const svg = svgEl('svg', {
    viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart-svg',
    'aria-label': `${title}: ${bars.map((b) => `${b.label} ${format(b.value)}`).join('; ')}.`,
  });
  bars.forEach((b, i) => {
    const y = 4 + i * rowH;
    const w = top > 0 ? Math.max(0, (b.value / top) * (W - L - R)) : 0;
    const g = svgEl('g', { class: `chart-bar series-${i % 6}`, 'aria-hidden': 'true' });
    const label = b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label;
    g.append(svgEl('text', { x: L - 8, y: y + 16, 'text-anchor': 'end', class: 'chart-axis' }, label));
    g.append(svgEl('rect', { x: L, y: y + 3, width: w.toFixed(1), height: rowH - 8, rx: 3 }));
    g.append(svgEl('text', { x: L + w + 6, y: y + 16, class: 'chart-value' }, format(b.value)));
    svg.append(g);
  });
  const details = el('details', { class: 'chart-data' }, el('summary', {}, 'Data table'),
    table(title, ['Name', 'Value', ...(bars.some((b) => b.note) ? ['Note'] : [])],
      bars.map((b) => [b.label, format(b.value), ...(bars.some((x) => x.note) ? [b.note || ''] : [])])));
  const f = el('figure', { class: 'chart' });
  f.append(el('figcaption', {}, title), svg, details);
  return f;
}

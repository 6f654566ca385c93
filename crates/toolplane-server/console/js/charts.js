// SVG line and bar charts for the dashboard and the integrations page.
// Every chart is a <figure>: an <svg role="img"> with an aria-label that
// says what it shows, and a <details> holding the same numbers as a table
// (the accessible alternative). All text goes in through textContent.

const SVG = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  if (text !== undefined) el.textContent = String(text);
  return el;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
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
  series.forEach((s, i) => {
    const g = svgEl('g', { class: `chart-series series-${i % 6}`, 'aria-hidden': 'true' });
    let d = '';
    let pen = false;
    for (const p of s.points) {
      if (p.y === null || p.y === undefined) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`;
      pen = true;
      g.append(svgEl('circle', { cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 2.5 }));
    }
    g.prepend(svgEl('path', { d, fill: 'none' }));
    svg.append(g);
  });

  const legend = el('ul', { class: 'chart-legend' });
  series.forEach((s, i) => legend.append(el('li', { class: `series-${i % 6}` }, s.name)));
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
  const rowH = 26, L = 190, R = 80, W = 560;
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
    const label = b.label.length > 28 ? `${b.label.slice(0, 27)}…` : b.label;
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

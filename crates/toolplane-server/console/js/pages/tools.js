// `/tools`: every tool, filtered as you type; "Run" opens its form in the palette.
import { h, fill } from '../dom.js';
import { openTool } from '../palette.js';

export async function render(main, api) {
  const filterId = 'tools-filter';
  const input = h('input', { id: filterId, type: 'search', autocomplete: 'off' });
  const count = h('p', { class: 'muted', role: 'status' });
  const list = h('ul', { class: 'tool-list' });
  main.append(h('h1', {}, 'Tools'),
    h('div', { class: 'field' }, h('label', { for: filterId }, 'Filter by name or description'), input), count, list);
  const r = await api.get('/v1/tools');
  const tools = r.data || [];
  const show = () => {
    const q = input.value.trim().toLowerCase();
    const hits = tools.filter((t) => !q || t.name.toLowerCase().includes(q) || (t.description || '').toLowerCase().includes(q));
    count.textContent = `${hits.length} of ${tools.length} tools`;
    fill(list, hits.slice(0, 200).map((t) => h('li', { class: 'tool' },
      h('div', {}, h('h2', {}, h('code', {}, t.name)), h('p', {}, t.description || 'No description.')),
      h('button', { type: 'button', onclick: () => openTool(t), 'aria-label': `Run ${t.name}` }, 'Run'))));
  };
  input.addEventListener('input', show);
  show();
}

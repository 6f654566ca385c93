// `/`: what this server offers and how to get around.
import { h } from '../dom.js';

export async function render(main, api, { me }) {
  main.appendChild(h('h1', {}, 'toolplane console'));
  const list = h('ul', { class: 'cards' });
  main.append(
    h('p', {}, 'Press ', h('kbd', {}, 'Ctrl'), ' ', h('kbd', {}, 'K'), ' (', h('kbd', {}, '⌘'), ' ', h('kbd', {}, 'K'),
      ' on a Mac) on any page to search the tools and run one, switch the dock’s model or open a page. The AI dock on the side answers with the server’s experts and its tools.'),
    list);
  const [models, tools] = await Promise.allSettled([api.get('/v1/models'), api.get('/v1/tools')]);
  const experts = models.status === 'fulfilled' ? models.value.data.filter((m) => m.toolplane && m.toolplane.kind === 'expert') : [];
  const n = tools.status === 'fulfilled' ? tools.value.data.length : null;
  list.append(
    h('li', { class: 'card' }, h('h2', {}, h('a', { href: '/tools' }, 'Tools')),
      h('p', {}, n === null ? 'The tools could not be listed.' : `${n} tools, searchable from the palette.`)),
    h('li', { class: 'card' }, h('h2', {}, 'Experts'),
      h('p', {}, experts.length ? experts.map((e) => e.id).join(', ') : 'none'),
      me && me.scripted_only ? h('p', { class: 'note' }, 'These are scripted stand-ins, not language models: set a provider key to use real ones.') : null),
    h('li', { class: 'card' }, h('h2', {}, h('a', { href: '/dashboard' }, 'Dashboard')), h('p', {}, 'Latency, cost and errors per provider; the audit log.')),
    h('li', { class: 'card' }, h('h2', {}, h('a', { href: '/integrations' }, 'Integrations')), h('p', {}, 'Providers, OpenAPI descriptions, GitHub and MCP.')));
}

// Placeholder until the dashboard lands (branch e2-pages replaces this file).
import { h } from '../dom.js';

export async function render(main) {
  main.append(h('h1', {}, 'Dashboard'), h('p', {}, 'The dashboard is not built yet.'));
}

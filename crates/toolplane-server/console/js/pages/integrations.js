// Placeholder until the integrations page lands (branch e2-pages replaces this file).
import { h } from '../dom.js';

export async function render(main) {
  main.append(h('h1', {}, 'Integrations'), h('p', {}, 'The integrations page is not built yet.'));
}

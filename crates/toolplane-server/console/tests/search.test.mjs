// The palette's tool search over GitHub's REST API (over a thousand tools):
// results as you type. Prints the time from an input event to the rendered
// results (fetch of GET /v1/tools?q= plus rendering) per query; asserts the
// results, not the time.
import { test, before, after } from 'node:test';
import { start, signIn, assert, GITHUB_URL, GITHUB_KEY } from './support.mjs';

// Without the corpus (scripts/fetch-corpora.sh) the harness starts no GitHub server.
const skip = !GITHUB_URL && 'no server with GitHub\'s description (run scripts/fetch-corpora.sh)';
let b;
before(async () => { if (!skip) { b = await start(); await signIn(b.page, GITHUB_URL, GITHUB_KEY); } });
after(async () => { await b?.browser.close(); });

const QUERIES = ['create issue', 'list pull requests', 'merge branch', 'repository secret', 'workflow runs',
  'star repository', 'gist comments', 'issue labels', 'release assets', 'commit status', 'team members', 'webhook deliveries'];

test('palette search over GitHub\'s tools answers as you type', { skip }, async () => {
  const { page } = b;
  const count = await page.evaluate(async () => (await (await fetch('/v1/tools')).json()).data.length);
  assert.ok(count > 1000, `${count} tools`);
  await page.keyboard.press('Control+k');
  await page.getByRole('dialog').getByRole('combobox').waitFor();
  const times = [];
  for (const round of [0, 1]) {
    for (const q of QUERIES) {
      const { ms, first } = await page.evaluate(async (query) => {
        const input = document.querySelector('.palette [role=combobox]');
        const list = document.querySelector('.palette [role=listbox]');
        const t0 = performance.now();
        input.value = query;
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((resolve) => {
          const check = () => (list.dataset.query === query ? resolve() : requestAnimationFrame(check));
          check();
        });
        return { ms: performance.now() - t0, first: list.querySelector('[role=option] .title')?.textContent };
      }, q);
      assert.ok(first, `${q}: no tool found`);
      if (round === 1) times.push(ms);
    }
  }
  times.sort((x, y) => x - y);
  const at = (p) => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
  console.log(`palette search over ${count} tools, ${times.length} queries (second round): median ${at(0.5)} ms, max ${at(1)} ms`);
  // Typing as a person would: every keystroke searches, the last answer wins.
  await page.getByRole('dialog').getByRole('combobox').fill('');
  await page.keyboard.type('create a pull request review');
  await page.getByRole('dialog').getByRole('option', { name: /pulls/ }).first().waitFor();
});

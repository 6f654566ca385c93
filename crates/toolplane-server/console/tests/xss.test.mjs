// Text from an OpenAPI description (summaries, descriptions, enum values) that
// holds <script> and <img onerror> renders as text: no element is made from it
// and no script runs.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assert, HOSTILE_URL, HOSTILE_KEY } from './support.mjs';

let b;
before(async () => { b = await start(); await signIn(b.page, HOSTILE_URL, HOSTILE_KEY); });
after(async () => { await b?.browser.close(); });

async function noMarkupRan(page) {
  const state = await page.evaluate(() => ({
    flag: globalThis.__xss ?? null,
    imgs: document.querySelectorAll('body img').length,
    scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
    bold: document.querySelectorAll('main b, .palette b').length,
    jsLinks: document.querySelectorAll('a[href^="javascript:"]').length,
  }));
  assert.deepEqual(state, { flag: null, imgs: 0, scripts: ['/console/js/app.js'], bold: 0, jsLinks: 0 });
}

test('hostile descriptions show as text on the tools page, in the palette and in the form', async () => {
  const { page } = b;
  await page.goto(HOSTILE_URL + '/tools');
  const tool = page.locator('.tool').filter({ hasText: 'hostileNotes' });
  await tool.waitFor();
  await tool.getByText('<script>window.__xss', { exact: false }).waitFor();
  await tool.getByText('<img src=x onerror=', { exact: false }).waitFor();
  await screenshot(page, 'xss-tools-page');
  await noMarkupRan(page);

  await page.keyboard.press('Control+k');
  await page.keyboard.type('notes');
  const option = page.getByRole('dialog').getByRole('option', { name: /hostileNotes/ });
  await option.waitFor();
  await option.getByText('<img src=x', { exact: false }).waitFor();
  await noMarkupRan(page);
  await page.keyboard.press('Enter');
  const form = page.getByRole('form', { name: 'Arguments of hostileNotes' });
  await form.waitFor();
  await page.locator('.tool-desc').getByText('<img src=x onerror=', { exact: false }).waitFor();
  await form.getByText('<script>window.__xss', { exact: false }).waitFor();
  const options = await form.locator('select option').allTextContents();
  assert.ok(options.some((o) => o.startsWith('<img src=x')), options.join(' | '));
  await screenshot(page, 'xss-form');
  await noMarkupRan(page);
});

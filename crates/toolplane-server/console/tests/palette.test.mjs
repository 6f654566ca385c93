// The command palette: Ctrl-K, type "task", arrows and Enter to createTask,
// an invalid value gets the executor's message next to its field, fixed, run,
// result shown; nested steps go back with Esc and Backspace.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert } from './support.mjs';

let b;
before(async () => { b = await start(); await signIn(b.page); });
after(async () => { await b?.browser.close(); });

const activeTitle = (page) => page.evaluate(() => {
  const input = document.querySelector('[role=combobox]');
  const id = input && input.getAttribute('aria-activedescendant');
  return id ? document.getElementById(id)?.querySelector('.title')?.textContent : null;
});

test('Ctrl-K, "task", Enter on createTask, an invalid value, the executor\'s message, fixed, run, result', async () => {
  const { page } = b;
  await page.goto(page.url().replace(/\/[^/]*$/, '/tools'));
  await page.getByRole('heading', { name: 'Tools' }).waitFor();
  await page.keyboard.press('Control+k');
  const combo = page.getByRole('dialog').getByRole('combobox');
  await combo.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('role')), 'combobox');
  assert.equal(await combo.getAttribute('aria-controls'), await page.getByRole('listbox').getAttribute('id'));
  await page.keyboard.type('task');
  await page.getByRole('dialog').getByRole('option', { name: /createTask/ }).waitFor();
  await screenshot(page, 'palette-search');
  await assertAccessible(page, 'the palette with results');

  // Arrow down to createTask (the order is BM25's), then Enter.
  const titles = await page.getByRole('dialog').getByRole('option').locator('.title').allTextContents();
  const at = titles.indexOf('createTask');
  assert.ok(at >= 0, titles.join(', '));
  assert.equal(await activeTitle(page), titles[0]);
  for (let i = 0; i < at; i += 1) await page.keyboard.press('ArrowDown');
  assert.equal(await activeTitle(page), 'createTask');
  await page.keyboard.press('Enter');

  const form = page.getByRole('form', { name: 'Arguments of createTask' });
  await form.waitFor();
  const title = form.getByLabel(/^title/);
  const project = form.getByLabel(/^project/);
  assert.equal(await title.getAttribute('aria-required'), 'true');
  await form.getByText('*').first().waitFor();
  // Required fields come first.
  const labels = await form.locator('label').allTextContents();
  assert.deepEqual(labels.slice(0, 2).map((l) => l.split(' ')[0]), ['project', 'title'], labels.join(' | '));
  await project.focus();
  await page.keyboard.type('Not A Slug!');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Write the console');
  await page.keyboard.press('Enter');

  // The executor's message, next to the field it names when the server says which.
  const projectError = page.locator('.field.invalid').filter({ has: project });
  const formError = page.locator('.form-error');
  await page.waitForFunction(() => document.querySelector('.field.invalid .field-error')?.textContent || document.querySelector('.form-error')?.textContent);
  const message = (await projectError.count()) ? await projectError.locator('.field-error').textContent() : await formError.textContent();
  assert.match(message, /does not match|pattern/, message);
  if (await projectError.count()) assert.equal(await project.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'palette-form-invalid');
  await assertAccessible(page, 'the tool form with an error');

  await project.fill('');
  await project.focus();
  await page.keyboard.type('console');
  await page.keyboard.press('Enter');
  const result = page.getByRole('region', { name: 'Result' });
  await result.waitFor();
  await result.getByText('HTTP 201').waitFor();
  const body = await result.locator('pre').first().textContent();
  assert.equal(JSON.parse(body).title, 'Write the console');
  assert.equal(await page.locator('.field.invalid').count(), 0);
  await screenshot(page, 'palette-form-result');

  // Esc goes back to the search with the query kept; Esc again closes.
  await page.keyboard.press('Escape');
  await combo.waitFor();
  assert.equal(await combo.inputValue(), 'task');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
});

test('nested steps: choose a route for the dock, Backspace goes back', async () => {
  const { page } = b;
  await page.keyboard.press('Control+k');
  await page.keyboard.type('switch model');
  await page.getByRole('dialog').getByRole('option', { name: /Switch the dock/ }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').getByRole('option', { name: /scripted-careful/ }).waitFor();
  await page.keyboard.press('Backspace');
  await page.getByRole('dialog').getByRole('option', { name: /Switch the dock/ }).waitFor();
  await page.keyboard.press('Enter');
  await page.keyboard.type('careful');
  await page.getByRole('dialog').getByRole('option', { name: /scripted-careful/ }).waitFor();
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor({ state: 'hidden' });
  assert.equal(await page.getByRole('complementary', { name: 'AI dock' }).getByLabel('Model or route').inputValue(), 'scripted-careful');
  // Back to the router for the other tests.
  await page.getByRole('complementary', { name: 'AI dock' }).getByLabel('Model or route').selectOption('auto');
});

test('the palette opens from every page', async () => {
  const { page } = b;
  for (const path of ['/', '/dashboard', '/integrations', '/tools']) {
    await page.goto(new URL(path, page.url()).href);
    await page.locator('#who').filter({ hasText: /\S/ }).waitFor();
    await page.keyboard.press('Control+k');
    await page.getByRole('dialog').getByRole('combobox').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
  }
});

// The JSON-Schema form with every kind of field: a required string and boolean,
// a number with a range, an enum, an array of patterned strings (Add/Remove),
// (added and removed at the end), a nested object with its own required field. An invalid array item gets the
// executor's message under that item; the fixed arguments pass validation and
// reach the tool (whose API is a closed port, so the call itself fails upstream).
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert, HOSTILE_URL, HOSTILE_KEY } from './support.mjs';

let b;
before(async () => { b = await start(); await signIn(b.page, HOSTILE_URL, HOSTILE_KEY); });
after(async () => { await b?.browser.close(); });

test('every kind of field, an error under an array item, then a valid call', async () => {
  const { page } = b;
  await page.keyboard.press('Control+k');
  await page.keyboard.type('create note');
  await page.getByRole('dialog').getByRole('option', { name: /createNote/ }).waitFor();
  const titles = await page.getByRole('dialog').getByRole('option').locator('.title').allTextContents();
  for (let i = 0; i < titles.indexOf('createNote'); i += 1) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  const form = page.getByRole('form', { name: 'Arguments of createNote' });
  await form.waitFor();

  // The kinds of field.
  assert.equal(await form.getByLabel(/^text/).getAttribute('aria-required'), 'true');
  await form.getByText('What the note says.').waitFor();
  assert.equal(await form.getByLabel(/^pinned/).getAttribute('type'), 'checkbox');
  assert.equal(await form.getByLabel(/^weight/).getAttribute('type'), 'number');
  await form.getByText('0 to 1').waitFor();
  assert.deepEqual(await form.getByLabel(/^kind/).locator('option').allTextContents(), ['— not set —', 'idea', 'todo']);
  const author = form.getByRole('group', { name: /author/ });
  assert.equal(await author.getByLabel(/^name/).getAttribute('aria-required'), 'true');

  await form.getByLabel(/^text/).fill('Remember the console');
  await form.getByLabel(/^pinned/).check();
  await form.getByLabel(/^weight/).fill('0.5');
  await form.getByLabel(/^kind/).selectOption('todo');
  const tags = form.getByRole('group', { name: /tags/ });
  await tags.getByRole('button', { name: /Add tags item/ }).click();
  await page.keyboard.type('good');
  await tags.getByRole('button', { name: /Add tags item/ }).click();
  await page.keyboard.type('Not Good');
  await tags.getByRole('button', { name: /Add tags item/ }).click();
  await tags.getByRole('button', { name: 'Remove last tags item' }).click();
  assert.equal(await tags.getByRole('textbox').count(), 2);
  await author.getByLabel(/^name/).fill('Ann');
  await form.getByRole('button', { name: 'Run' }).click();

  // The second item (pointer .../tags/1) carries the message and takes focus.
  const bad = tags.locator('.field.invalid');
  await bad.waitFor();
  assert.equal(await bad.locator('input').inputValue(), 'Not Good');
  assert.match(await bad.locator('.field-error').textContent(), /does not match/);
  assert.equal(await page.evaluate(() => document.activeElement?.value), 'Not Good');
  assert.equal(await tags.locator('.field.invalid').count(), 1);
  await screenshot(page, 'form-kinds-invalid');
  await assertAccessible(page, 'the form with every kind of field');

  await page.keyboard.press('Control+a');
  await page.keyboard.type('fine');
  await form.getByRole('button', { name: 'Run' }).click();
  // Valid now: the executor let it through, and the closed port answers upstream.
  await page.getByRole('dialog').locator('.form-error li').first().waitFor();
  const text = await page.getByRole('dialog').locator('.form-error').textContent();
  assert.doesNotMatch(text, /do not match its input schema/, text);
  assert.equal(await form.locator('.field.invalid').count(), 0);
});

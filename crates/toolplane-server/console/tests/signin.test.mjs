// Sign-in: a wrong key shows an error, the key `toolplane serve` printed signs in,
// the session cookie is HttpOnly, sign-out returns to the form; axe on both.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert, URL, KEY } from './support.mjs';

let b;
before(async () => { b = await start(); });
after(async () => { await b?.browser.close(); });

const realErrors = (errors) => errors.filter((e) => !/Failed to load resource/.test(e));

test('a wrong key shows an error and the printed key signs in', async () => {
  const { page, context } = b;
  await page.goto(URL + '/');
  const key = page.getByLabel('Gateway key');
  await key.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'signin-key', 'the key field has focus');
  await screenshot(page, 'signin');
  await assertAccessible(page, 'the sign-in page');

  await page.keyboard.type('tp-not-the-key');
  await page.keyboard.press('Enter');
  await page.locator('#signin-error').filter({ hasText: 'not valid' }).waitFor();
  assert.equal(await key.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'signin-wrong-key');

  await key.fill('');
  await page.keyboard.type(KEY);
  await page.keyboard.press('Enter');
  await page.locator('#who').filter({ hasText: 'local-user' }).waitFor();
  await page.getByRole('heading', { name: 'toolplane console' }).waitFor();
  await page.getByRole('complementary', { name: 'AI dock' }).getByText('scripted experts').waitFor();

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'tp_session');
  const csrf = cookies.find((c) => c.name === 'tp_csrf');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(session));
  assert.ok(csrf && !csrf.httpOnly && csrf.sameSite === 'Strict', JSON.stringify(csrf));
  assert.equal(await page.evaluate(() => document.cookie.includes('tp_session')), false, 'the page cannot read the session cookie');

  // The session survives a reload.
  await page.reload();
  await page.locator('#who').filter({ hasText: 'local-user' }).waitFor();
  await screenshot(page, 'home');
  await assertAccessible(page, 'the home page');
  assert.deepEqual(realErrors(b.errors), []);
});

test('a state-changing request with the cookie but without the CSRF header is refused', async () => {
  const { page } = b;
  const r = await page.evaluate(async () => {
    const resp = await fetch('/v1/tools/current_time/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return { status: resp.status, body: await resp.json() };
  });
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'csrf_failed');
});

test('signing out returns to the form and ends the session', async () => {
  const { page } = b;
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Gateway key').waitFor();
  const status = await page.evaluate(async () => (await fetch('/console/session')).status);
  assert.equal(status, 401);
  await signIn(page);
});

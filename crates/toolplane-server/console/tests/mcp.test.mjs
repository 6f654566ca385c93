// The integrations page with MCP servers, on a gateway configured with two
// [[tools.mcp]] entries: `everything` (@modelcontextprotocol/server-everything
// over stdio) and `ghost` (a program that does not exist). The first shows as
// connected with its tools and their hints, the second as failed with its
// error and a reconnect button; Ctrl-K finds an MCP tool by part of its name
// and opens a server's block; axe; screenshots light and dark.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert } from './support.mjs';

const URL = process.env.TOOLPLANE_MCP_URL;
const KEY = process.env.TOOLPLANE_MCP_KEY;
const skip = URL ? false : 'no gateway with MCP servers (server-everything is not installed: scripts/ci/mcp.sh)';

let b;
before(async () => { if (!skip) { b = await start(); await signIn(b.page, URL, KEY); } });
after(async () => { await b?.browser.close(); });

test('MCP servers show their state, error and tools; reconnect answers in place', { skip }, async () => {
  const { page, errors } = b;
  await page.goto(`${URL}/integrations`);
  const region = page.getByRole('region', { name: 'MCP servers' });
  const every = region.getByRole('article', { name: /^everything/ });
  await every.getByText('Connected', { exact: true }).waitFor();
  const echo = every.getByRole('row', { name: /everything\.echo/ });
  await echo.waitFor();
  assert.match(await echo.innerText(), /Echoes back the input string/);
  assert.match(await echo.innerText(), /read-only/);
  assert.match(await every.innerText(), /stdio · node · \d+ tools/);

  const ghost = region.getByRole('article', { name: /^ghost/ });
  await ghost.getByText('Failed', { exact: true }).waitFor();
  await ghost.getByText(/^Last error: .*cannot start/).waitFor();
  await ghost.getByRole('button', { name: 'Reconnect ghost' }).click();
  await ghost.getByRole('status').filter({ hasText: /^Failed: .*cannot start/ }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Reconnect ghost');

  // The section's heading at the top: the connected server, then the failed one below its tools.
  await page.locator('#int-mcp').evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshot(page, 'integrations-mcp');
  await ghost.evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await screenshot(page, 'integrations-mcp-failed');
  await assertAccessible(page, 'the integrations page with MCP servers');
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});

test('Ctrl-K finds an MCP tool by part of its name and opens an MCP server', { skip }, async () => {
  const { page } = b;
  // The servers' palette actions are registered once the console has listed them.
  const listed = page.waitForResponse((r) => r.url().endsWith('/v1/integrations/mcp') && r.ok());
  await page.goto(`${URL}/`);
  await listed;
  await page.getByRole('heading', { name: 'toolplane console', level: 1 }).waitFor();
  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog');
  const combo = dialog.getByRole('combobox');
  await combo.waitFor();
  await page.keyboard.type('echo');
  await dialog.getByRole('option', { name: /everything\.echo/ }).waitFor();
  await screenshot(page, 'integrations-mcp-palette');

  await combo.fill('MCP server ghost');
  await dialog.getByRole('option', { name: /Open integration: MCP server ghost/ }).click();
  await page.waitForURL(`${URL}/integrations`);
  await page.waitForFunction(() => document.activeElement?.id === 'int-mcp-ghost');
});

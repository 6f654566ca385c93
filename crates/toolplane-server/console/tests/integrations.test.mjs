// The integrations page: providers with their key state and a connection
// test; an OpenAPI description added by file upload, its tools and warnings,
// filtered and switched off; its tools found in the palette (Ctrl-K); text
// from the description stays text; axe; screenshots light and dark.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert, URL, KEY } from './support.mjs';

let b;
before(async () => { b = await start(); await signIn(b.page); });
after(async () => { await b?.browser.close(); });

const ZOO = `openapi: 3.1.0
info:
  title: Zoo API
  version: "1.0"
servers:
  - url: http://127.0.0.1:9/zoo
paths:
  /zebras:
    get:
      operationId: listZebras
      summary: List the zebras <script>window.__pwned = 1</script>
      tags: [animals]
      responses: {"200": {description: ok}}
    post:
      operationId: addZebra
      summary: Add a zebra <img src=x onerror="window.__pwned = 2">
      tags: [animals]
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {name: {type: string}}, required: [name]}
      responses: {"201": {description: created}}
  /keepers/{id}:
    delete:
      operationId: removeKeeper
      summary: Remove a keeper
      tags: [staff]
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses: {"204": {description: gone}}
  /broken/{id:
    get:
      operationId: brokenPath
      responses: {"200": {description: ok}}
`;

async function listTools(q) {
  const r = await fetch(`${URL}/v1/tools${q ? `?q=${encodeURIComponent(q)}` : ''}`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await r.json()).data.map((t) => t.name);
}

test('providers show their key state and answer a connection test', async () => {
  const { page } = b;
  await page.goto(`${URL}/integrations`);
  await page.getByRole('heading', { name: 'Integrations', level: 1 }).waitFor();
  const providers = page.getByRole('region', { name: 'Providers' });
  const row = providers.getByRole('row', { name: /scripted-fast/ });
  await row.waitFor();
  await row.getByText('No key needed').waitFor();
  await row.getByRole('button', { name: 'Test connection to scripted-fast' }).click();
  await row.getByText(/^OK in .* ms/).waitFor();
  // The figures count the test call.
  await page.waitForFunction(() => [...document.querySelectorAll('#int-providers tbody tr')]
    .some((tr) => tr.textContent.includes('scripted-fast') && tr.children[4]?.textContent !== '0'));
});

test('an uploaded description becomes tools: warnings, filters, a switch, found with Ctrl-K', async () => {
  const { page, errors } = b;
  await page.goto(`${URL}/integrations`);
  const form = page.getByRole('form', { name: 'Add an OpenAPI description' });
  await form.waitFor();
  await page.setInputFiles('#oa-file', { name: 'zoo.yaml', mimeType: 'application/yaml', buffer: Buffer.from(ZOO) });
  await form.getByLabel('Namespace', { exact: true }).fill('zoo');
  await form.getByLabel(/Security scheme/).fill('apiKey');
  await form.getByLabel(/Credential/).fill('zoo-secret-123');
  await form.getByRole('button', { name: 'Add description' }).click();
  await page.getByText(/Added \d+ tools under zoo\.\*/).waitFor();
  assert.equal(await page.locator('body').innerText().then((t) => t.includes('zoo-secret-123')), false, 'the credential is shown');

  const zoo = page.locator('details.api[data-namespace="zoo"]');
  await zoo.waitFor();
  assert.equal(await zoo.getAttribute('open'), '');
  // Summaries with markup are text: shown literally, nothing ran.
  await zoo.getByText('List the zebras <script>window.__pwned = 1</script>').waitFor();
  await zoo.getByText('Add a zebra <img src=x onerror="window.__pwned = 2">').waitFor();
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await zoo.locator('img, script').count(), 0);
  // The unbalanced path is warned about (document warnings open on demand).
  await zoo.locator('details.warnings-box > summary').click();
  await zoo.locator('details.warnings-box').getByText(/\/broken\/\{id/).first().waitFor();

  // Filters by tag, method and path.
  const count = zoo.locator('.filters [aria-live]');
  const n = Number((await count.textContent()).split(' of ')[1].split(' ')[0]);
  assert.ok(n >= 3, await count.textContent());
  assert.equal(await count.textContent(), `${n} of ${n} tools`);
  await zoo.getByLabel('Tag', { exact: true }).selectOption('animals');
  assert.equal(await count.textContent(), `2 of ${n} tools`);
  await zoo.getByLabel('Method', { exact: true }).selectOption('POST');
  assert.equal(await count.textContent(), `1 of ${n} tools`);
  await zoo.getByLabel('Tag', { exact: true }).selectOption('');
  await zoo.getByLabel('Method', { exact: true }).selectOption('');
  await zoo.getByLabel('Path', { exact: true }).fill('keepers');
  assert.equal(await count.textContent(), `1 of ${n} tools`);
  await zoo.getByLabel('Path', { exact: true }).fill('');
  await screenshot(page, 'integrations');
  await assertAccessible(page, 'the integrations page with a description');

  // Switch removeKeeper off: gone from the tools; on again: back.
  assert.ok((await listTools()).includes('zoo.removeKeeper'));
  const box = zoo.getByRole('checkbox', { name: 'Enable zoo.removeKeeper' });
  await box.uncheck();
  await page.waitForFunction(() => !document.querySelector('input[aria-label="Enable zoo.removeKeeper"]').disabled);
  assert.ok(!(await listTools()).includes('zoo.removeKeeper'));
  await box.check();
  await page.waitForFunction(() => !document.querySelector('input[aria-label="Enable zoo.removeKeeper"]').disabled);
  assert.ok((await listTools()).includes('zoo.removeKeeper'));

  // The palette finds the new tools.
  await page.keyboard.press('Control+k');
  const combo = page.getByRole('dialog').getByRole('combobox');
  await combo.waitFor();
  await page.keyboard.type('zebras');
  await page.getByRole('dialog').getByRole('option', { name: /zoo\.listZebras/ }).waitFor();
  await screenshot(page, 'integrations-palette');
  await page.keyboard.press('Escape');

  // Removed: its tools are gone (and the server's saved state forgets it).
  await zoo.getByRole('button', { name: 'Remove zoo' }).click();
  await page.locator('details.api[data-namespace="zoo"]').waitFor({ state: 'detached' });
  assert.ok(!(await listTools()).some((t) => t.startsWith('zoo.')));
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});

test('GitHub and MCP sections say what is configured', async () => {
  const { page } = b;
  await page.goto(`${URL}/integrations`);
  await page.getByRole('region', { name: 'GitHub' }).getByText(/Not configured/).waitFor();
  await page.getByRole('region', { name: 'MCP servers' }).getByText('No MCP servers connected.').waitFor();
});

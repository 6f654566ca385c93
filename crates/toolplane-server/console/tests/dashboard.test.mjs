// The dashboard after some calls: non-empty latency and cost charts with
// their data tables, the range picker, the audit log filtered by principal,
// tool and decision, and "Verify audit log" with its result; axe;
// screenshots light and dark.
import { test, before, after } from 'node:test';
import { start, signIn, screenshot, assertAccessible, assert, callTool, URL, KEY } from './support.mjs';

let b;
before(async () => {
  // Some traffic: chat through both scripted experts, and tool calls for the audit log.
  for (const model of ['scripted-fast', 'scripted-careful', 'auto', 'scripted-fast']) {
    const r = await fetch(`${URL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
    });
    assert.equal(r.status, 200);
  }
  // Two routed answers judged: the win-rate chart has something to show.
  for (const [id, verdict] of [['dash-judged-1', 'win'], ['dash-judged-2', 'loss']]) {
    const r = await fetch(`${URL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'hello again' }] }),
    });
    assert.equal(r.status, 200);
    const f = await fetch(`${URL}/v1/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: id, verdict }),
    });
    assert.equal(f.status, 200, await f.text());
  }
  assert.equal((await callTool('listTasks', {})).status, 200);
  assert.equal((await callTool('current_time', {})).status, 200);
  b = await start();
  await signIn(b.page);
});
after(async () => { await b?.browser.close(); });

test('after some calls the charts are not empty, and the range picker redraws them', async () => {
  const { page, errors } = b;
  await page.goto(`${URL}/dashboard`);
  await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
  const latency = page.getByRole('region', { name: 'Latency per provider' });
  const chart = latency.getByRole('img', { name: /Latency of scripted/ });
  await chart.waitFor();
  assert.match(await chart.getAttribute('aria-label'), /p50 up to [\d.]+/);
  assert.ok(await latency.locator('svg path[d^="M"]').count() >= 1, 'no line drawn');
  // Each percentile is a line with its own dash pattern and marker shape, and
  // a legend says which is which; hollow markers keep equal values (p95 = p99) visible.
  const styles = await chart.evaluate((svg) => [...svg.querySelectorAll('g.chart-series')].map((g) => ({
    dash: g.querySelector('.chart-line').getAttribute('stroke-dasharray') || 'solid',
    marker: g.querySelector('.marker')?.tagName,
    fill: g.querySelector('.marker') ? getComputedStyle(g.querySelector('.marker')).fill : null,
  })));
  assert.equal(styles.length, 3, JSON.stringify(styles));
  assert.equal(new Set(styles.map((s) => s.dash)).size, 3, JSON.stringify(styles));
  assert.equal(new Set(styles.map((s) => s.marker)).size, 3, JSON.stringify(styles));
  assert.deepEqual(styles.slice(1).map((s) => s.fill), ['none', 'none'], 'the p95 and p99 markers are hollow');
  const legend = latency.locator('.chart-legend').first();
  assert.deepEqual(await legend.locator('li').allTextContents(), ['p50', 'p95', 'p99']);
  assert.equal(await legend.locator('svg.chart-key').count(), 3, 'each legend entry shows its line and marker');
  // The data table alternative holds numbers.
  const table = latency.locator('details.chart-data table').first();
  assert.ok(await table.locator('tbody tr').count() >= 1);

  const cost = page.getByRole('region', { name: 'Cost breakdown' });
  const byProvider = cost.getByRole('img', { name: /Cost by provider/ });
  await byProvider.waitFor();
  assert.match(await byProvider.getAttribute('aria-label'), /scripted \$/);
  assert.ok(await cost.locator('svg rect').count() >= 1);
  const wins = page.getByRole('region', { name: 'Win rate by task type' }).getByRole('img', { name: /Win rate by task type/ });
  await wins.waitFor();
  assert.match(await wins.getAttribute('aria-label'), /scripted\/scripted-\w+ \d+ %/);

  const calls = page.locator('.tile').filter({ hasText: 'Calls' }).locator('.tile-value');
  assert.ok(Number((await calls.textContent()).replace(/,/g, '')) >= 6);

  await page.getByRole('radio', { name: '15 minutes' }).check();
  await page.getByRole('status').filter({ hasText: 'last 15 minutes' }).waitFor();
  assert.ok(page.url().endsWith('?range=15m'));
  await latency.getByRole('img', { name: /Latency of scripted/ }).waitFor();
  await screenshot(page, 'dashboard');
  await assertAccessible(page, 'the dashboard');
  assert.deepEqual(errors.filter((e) => e.startsWith('pageerror')), []);
});

test('the audit log filters by principal, tool and decision, and verifies', async () => {
  const { page } = b;
  await page.goto(`${URL}/dashboard`);
  const audit = page.getByRole('region', { name: 'Audit log' });
  await audit.locator('table tbody tr').first().waitFor();
  await audit.getByLabel('Tool').fill('current_time');
  await audit.getByLabel('Decision').selectOption('allow');
  await audit.getByRole('button', { name: 'Filter' }).click();
  await audit.locator('caption').filter({ hasText: /matching records/ }).waitFor();
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit tbody tr')];
    return rows.length > 0 && rows.every((r) => r.children[4].textContent === 'current_time');
  });
  const decisions = await audit.locator('tbody tr td:nth-child(6)').allTextContents();
  assert.ok(decisions.every((d) => d === 'allow'), decisions.join(','));

  await audit.getByLabel('Principal').fill('nobody-at-all');
  await audit.getByRole('button', { name: 'Filter' }).click();
  await audit.getByText('No records match.').waitFor();

  await audit.getByRole('button', { name: 'Verify audit log' }).click();
  await audit.getByRole('status').getByText('Verified: the hash chain is intact.').waitFor();
  await screenshot(page, 'dashboard-audit');
  await assertAccessible(page, 'the dashboard with the audit result');
});

// Shared by the console's browser tests (run by crates/toolplane-cli/tests/console_browser.rs,
// which starts `toolplane serve` and passes its URL and key in the environment).
//
// Environment:
//   TOOLPLANE_URL, TOOLPLANE_KEY                  the offline default server and the key it printed
//   TOOLPLANE_HOSTILE_URL, TOOLPLANE_HOSTILE_KEY  a server whose OpenAPI summaries hold markup
//   TOOLPLANE_GITHUB_URL, TOOLPLANE_GITHUB_KEY    a server with GitHub's REST API as tools
//   TOOLPLANE_CONSOLE_NODE_MODULES               playwright-core and axe-core (scripts/ci/console.sh)
//   TOOLPLANE_CHROMIUM                            the browser (default /usr/bin/chromium)
//   TOOLPLANE_SCREENSHOTS                         where screenshots go

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const modules = process.env.TOOLPLANE_CONSOLE_NODE_MODULES;
assert.ok(modules, 'TOOLPLANE_CONSOLE_NODE_MODULES is not set (run the tests through cargo test)');
const require = createRequire(join(modules, 'noop.js'));
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const URL = process.env.TOOLPLANE_URL;
export const KEY = process.env.TOOLPLANE_KEY;
export const HOSTILE_URL = process.env.TOOLPLANE_HOSTILE_URL;
export const HOSTILE_KEY = process.env.TOOLPLANE_HOSTILE_KEY;
export const GITHUB_URL = process.env.TOOLPLANE_GITHUB_URL;
export const GITHUB_KEY = process.env.TOOLPLANE_GITHUB_KEY;
const SHOTS = process.env.TOOLPLANE_SCREENSHOTS || 'console-screenshots';

/** The flags the contract names; playwright adds --headless and a fresh profile. */
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** Starts chromium; returns {browser, page, errors} (console errors and page errors collected). */
export async function start({ colorScheme = 'light' } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.TOOLPLANE_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return { browser, context, page, errors };
}

/** Signs in through the form with the keyboard. */
export async function signIn(page, url = URL, key = KEY) {
  await page.goto(url + '/');
  const input = page.getByLabel('Gateway key');
  await input.waitFor();
  await input.focus();
  await page.keyboard.type(key);
  await page.keyboard.press('Enter');
  await page.locator('#who').filter({ hasText: /\S/ }).waitFor();
}

/** Saves `name`-light.png and `name`-dark.png. */
export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(SHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Runs axe-core in the page (light and dark); fails on serious or critical violations. */
export async function assertAccessible(page, what) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    // evaluate runs through the debugging protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      [],
      `${what} (${scheme}): axe found serious or critical violations`,
    );
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** A tool call with the key, outside the browser (test set-up). */
export async function callTool(name, args, url = URL, key = KEY) {
  const r = await fetch(`${url}/v1/tools/${name}/call`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(args),
  });
  return { status: r.status, body: await r.json() };
}

export { assert };

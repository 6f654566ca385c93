// First paint, measured and printed (never asserted: a shared test machine's
// timing is no evidence either way): the Performance API's
// first-contentful-paint and domContentLoaded for the sign-in page and for
// the home page after signing in, and the JS and CSS bytes the pages load.
import { test, before, after } from 'node:test';
import { start, signIn, assert, URL } from './support.mjs';

let b;
before(async () => { b = await start(); });
after(async () => { await b?.browser.close(); });

/** The page's first-contentful-paint (once painted) and navigation timings, in ms from navigation start. */
async function timings(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const nav = performance.getEntriesByType('navigation')[0];
    const done = (fcp) => resolve({
      fcp,
      domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
      load: nav ? nav.loadEventEnd : null,
    });
    const seen = performance.getEntriesByName('first-contentful-paint')[0];
    if (seen) { done(seen.startTime); return; }
    new PerformanceObserver((list, observer) => {
      const e = list.getEntriesByName('first-contentful-paint')[0];
      if (e) { observer.disconnect(); done(e.startTime); }
    }).observe({ type: 'paint', buffered: true });
  }));
}

/** JS and CSS the page fetched: {url: decoded bytes}. */
async function assetBytes(page) {
  return page.evaluate(() => Object.fromEntries(performance.getEntriesByType('resource')
    .filter((r) => /\.(m?js|css)(\?|$)/.test(new window.URL(r.name).pathname))
    .map((r) => [new window.URL(r.name).pathname, r.decodedBodySize])));
}

const ms = (v) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(0)} ms`);

test('first paint of the sign-in and home pages (printed, not asserted)', async () => {
  const { page } = b;
  const assets = {};
  await page.goto(`${URL}/`, { waitUntil: 'load' });
  await page.getByLabel('Gateway key').waitFor();
  const signin = await timings(page);
  Object.assign(assets, await assetBytes(page));

  await signIn(page);
  // A fresh navigation with the session cookie: the home page as a returning user sees it.
  await page.goto(`${URL}/`, { waitUntil: 'load' });
  await page.locator('#who').filter({ hasText: /\S/ }).waitFor();
  const home = await timings(page);
  Object.assign(assets, await assetBytes(page));
  // The other pages' modules, so the total covers every asset the console serves to a session.
  for (const path of ['/dashboard', '/integrations', '/tools']) {
    await page.goto(`${URL}${path}`, { waitUntil: 'load' });
    await page.getByRole('heading', { level: 1 }).first().waitFor();
    Object.assign(assets, await assetBytes(page));
  }

  const total = Object.values(assets).reduce((a, n) => a + n, 0);
  const js = Object.entries(assets).filter(([u]) => /\.m?js$/.test(u)).reduce((a, [, n]) => a + n, 0);
  console.log(`first paint (debug build, 127.0.0.1): sign-in page FCP ${ms(signin.fcp)}, DOMContentLoaded ${ms(signin.domContentLoaded)}, load ${ms(signin.load)}`);
  console.log(`first paint (debug build, 127.0.0.1): home page after sign-in FCP ${ms(home.fcp)}, DOMContentLoaded ${ms(home.domContentLoaded)}, load ${ms(home.load)}`);
  console.log(`JS + CSS served: ${total} bytes uncompressed (${js} JS, ${total - js} CSS) in ${Object.keys(assets).length} files`);
  // What was measured is well formed (the figures themselves are not judged).
  assert.ok(Object.keys(assets).length > 0, 'no JS or CSS was loaded');
  assert.ok(Object.values(assets).every((n) => Number.isFinite(n)));
});

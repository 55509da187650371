// check_report.mjs — opens a headscan HTML report in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) with the network blocked, and checks: no
// console errors, every plot div drawn with data, the head table sorts on a header click.
// Saves a full-page screenshot. usage: node check_report.mjs REPORT.html SCREENSHOT.png
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [report, shot] = process.argv.slice(2);
if (!report || !shot) { console.error('usage: node check_report.mjs REPORT.html SCREENSHOT.png'); process.exit(2); }
const profile = mkdtempSync(join(tmpdir(), 'hs-chromium-'));
const failures = [];
const fail = (m) => { failures.push(m); console.log('FAIL ' + m); };
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const errors = [], blocked = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  // the report must work offline: any non-file request is refused (and reported)
  await page.route('**/*', (r) => {
    const u = r.request().url();
    if (u.startsWith('file:') || u.startsWith('data:') || u.startsWith('blob:')) return r.continue();
    blocked.push(u);
    return r.abort();
  });
  await page.goto(pathToFileURL(resolve(report)).href, { waitUntil: 'load' });
  await page.waitForFunction(() => (window.hsReport && (window.hsReport.ready || window.hsReport.errors.length)), null, { timeout: 120000 });
  const st = await page.evaluate(() => {
    const divs = Array.from(document.querySelectorAll('.hs-plot'));
    return {
      ready: window.hsReport.ready, errors: window.hsReport.errors,
      plots: divs.map((d) => ({ id: d.id, drawn: d.classList.contains('js-plotly-plot') && !!d.querySelector('svg.main-svg'),
                                traces: (d.data || []).length,
                                points: (d.data || []).reduce((n, t) => n + ((t.x && t.x.length) || (t.z && t.z.length) || 0), 0) })),
      sections: Array.from(document.querySelectorAll('nav a')).map((a) => a.textContent),
      tokens: document.querySelectorAll('.hs-tokens .tok').length,
    };
  });
  console.log(`plots: ${st.plots.length}, sections: ${st.sections.join(' | ')}, coloured tokens: ${st.tokens}`);
  if (!st.ready) fail('the page did not finish drawing: ' + st.errors.join('; '));
  if (st.plots.length < 20) fail(`only ${st.plots.length} plot divs`);
  for (const p of st.plots) if (!p.drawn || p.traces < 1 || p.points < 1) fail(`plot ${p.id} not drawn with data (${JSON.stringify(p)})`);
  if (st.tokens < 1) fail('no coloured tokens');
  if (errors.length) fail('console errors: ' + errors.join(' | '));
  if (blocked.length) fail('network requests (the report must be self-contained): ' + blocked.join(' '));
  // sorting: click a metric header; rows must come out in descending order of that column, then ascending
  const col = await page.evaluate(() => {
    const ths = Array.from(document.querySelectorAll('#head-table th'));
    return ths.findIndex((t) => t.textContent.trim() === 'head_dla');
  });
  if (col < 0) fail('no head_dla column');
  const read = () => page.evaluate((c) => Array.from(document.querySelectorAll('#head-table tbody tr')).map((r) => [r.cells[0].textContent, +r.cells[c].dataset.v]), col);
  const before = await read();
  await page.click(`#head-table th[data-col="${col}"]`);
  const desc = await read();
  await page.click(`#head-table th[data-col="${col}"]`);
  const asc = await read();
  const sorted = (a, s) => a.every((r, i) => i === 0 || isNaN(r[1]) || s * (r[1] - a[i - 1][1]) >= 0);
  if (!sorted(desc, -1)) fail('first click did not sort head_dla descending');
  if (!sorted(asc, 1)) fail('second click did not sort head_dla ascending');
  if (desc.map((r) => r[0]).sort().join() !== before.map((r) => r[0]).sort().join()) fail('sorting lost rows');
  if (desc.map((r) => r[0]).join() === asc.map((r) => r[0]).join()) fail('the two sort orders are identical');
  // the screenshot shows the study's final table: sorted by mover_dla_no_ind, descending
  await page.click('#head-table th[data-col="13"]');
  await page.screenshot({ path: shot, fullPage: true });
  console.log('screenshot: ' + shot);
  if (process.env.HS_SHOT_PARTS) {   // tall pages: also slices of 1400 px (shot-part0.png, ...) for viewing
    const h = await page.evaluate(() => document.documentElement.scrollHeight);
    for (let k = 0; k * 1400 < h; k++)
      await page.screenshot({ path: shot.replace(/\.png$/, `-part${k}.png`), fullPage: true, clip: { x: 0, y: k * 1400, width: 1400, height: Math.min(1400, h - k * 1400) } });
  }
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} failure(s)` : 'report ok');
process.exit(failures.length ? 1 : 0);

// check_report.mjs — opens a headscan HTML report in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) with the network blocked, and checks: no
// console errors, every plot div drawn with data, the head table sorts on a header click,
// ill-conditioned eigenvalue scores are greyed with a tooltip, and at window widths 1280 and
// 1920 px: no plot title's box intersects its mode bar, and the page is not wider than the
// window (no horizontal scrolling).
// Saves a full-page screenshot (1280 px wide), and SCREENSHOT-1280.png / -1920.png of the head table
// (mode bars forced visible, as when hovering, to show where they sit).
// usage: [HS_NO_LAYOUT=1] [HS_SHOT_PARTS=1] node check_report.mjs REPORT.html SCREENSHOT.png
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
    viewport: { width: 1280, height: 900 },
    ignoreDefaultArgs: ['--hide-scrollbars'],   // classic scrollbars, as on a desktop: they take width too
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
  // ill-conditioned eigenvalue scores (manifest eigenvalue_conditioning): greyed cells with a tooltip
  const ill = await page.evaluate(() => {
    const man = (JSON.parse(document.getElementById('hs-data').textContent).manifest || {}).eigenvalue_conditioning || {};
    const ths = Array.from(document.querySelectorAll('#head-table th')).map((t) => t.textContent.trim());
    const want = [], got = [];
    for (const k of ['eigenvals_resid', 'eigenvals_vocab']) (man[k] && man[k].ill_conditioned || []).forEach((h) => want.push(h + ' ' + k));
    for (const r of document.querySelectorAll('#head-table tbody tr'))
      for (const k of ['eigenvals_resid', 'eigenvals_vocab']) {
        const td = r.cells[ths.indexOf(k)];
        if (td && td.classList.contains('ill')) {
          if (!/ill-conditioned/.test(td.title || '')) return { bad: 'greyed cell without a tooltip: ' + r.cells[0].textContent + ' ' + k };
          got.push(r.cells[0].textContent + ' ' + k);
        }
      }
    return { want: want.sort(), got: got.sort() };
  });
  if (ill.bad) fail(ill.bad);
  else if (ill.want.join() !== ill.got.join()) fail(`greyed cells ${ill.got.join(', ')} != manifest's ill-conditioned ${ill.want.join(', ')}`);
  else if (ill.got.length) console.log('ill-conditioned (greyed): ' + ill.got.join(', '));
  // layout at two window widths
  await page.addStyleTag({ content: '.js-plotly-plot .plotly .modebar--hover > :not(.watermark) { opacity: 1 !important; }' });
  // (HS_NO_LAYOUT=1: skipped, for further reports of the same page code in one test run)
  for (const width of process.env.HS_NO_LAYOUT ? [] : [1920, 1280]) {   // ends at 1280, the full-page screenshot's width
    await page.setViewportSize({ width, height: 1100 });
    await page.evaluate(() => Promise.all(Array.from(document.querySelectorAll('.hs-plot')).map((d) => Plotly.Plots.resize(d))));
    const lay = await page.evaluate(() => {
      const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
      const box = (r) => `[${Math.round(r.left)},${Math.round(r.top)} ${Math.round(r.width)}x${Math.round(r.height)}]`;
      const tw = document.querySelector('.table-wrap');
      const out = { doc: document.documentElement.scrollWidth, win: document.documentElement.clientWidth, overlaps: [], wide: [],
                    table: tw ? [tw.scrollWidth, tw.clientWidth] : [0, 0] };
      for (const d of document.querySelectorAll('.hs-plot')) {
        const mb = d.querySelector('.modebar'), tt = d.querySelector('.g-gtitle .gtitle');
        if (!mb || !tt) { out.overlaps.push(d.id + ': no ' + (mb ? 'title' : 'mode bar')); continue; }
        const a = tt.getBoundingClientRect(), b = mb.getBoundingClientRect();
        if (hit(a, b)) out.overlaps.push(`${d.id}: title ${box(a)} under mode bar ${box(b)}`);
      }
      for (const e of document.querySelectorAll('body *')) {
        const r = e.getBoundingClientRect();
        if (r.right > out.win + 0.5 && out.wide.length < 5) out.wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && e.className.baseVal === undefined ? '.' + String(e.className).trim().replace(/\s+/g, '.') : ''} right=${Math.round(r.right)}`);
      }
      return out;
    });
    console.log(`width ${width}: document ${lay.doc} px, ${lay.overlaps.length} title/mode-bar overlaps`);
    for (const o of lay.overlaps) fail(`width ${width}: ${o}`);
    if (lay.doc > lay.win) fail(`width ${width}: the page is ${lay.doc} px wide in a ${lay.win} px window (scrolls sideways): ${lay.wide.join('; ')}`);
    if (lay.table[0] > lay.table[1]) fail(`width ${width}: the head table (${lay.table[0]} px) scrolls sideways in its ${lay.table[1]} px box`);
    const part = shot.replace(/\.png$/, `-${width}.png`);
    await page.evaluate(() => document.getElementById('table').scrollIntoView());
    await page.screenshot({ path: part });
    console.log('screenshot: ' + part);
  }
  // the full-page screenshot shows the study's final table: sorted by mover_dla_no_ind, descending
  await page.click('#head-table th[data-col="13"]');
  await page.screenshot({ path: shot, fullPage: true });
  console.log('screenshot: ' + shot);
  if (process.env.HS_SHOT_PARTS) {   // tall pages: also slices of 1400 px (shot-part0.png, ...) for viewing
    const h = await page.evaluate(() => document.documentElement.scrollHeight);
    for (let k = 0; k * 1400 < h; k++)
      await page.screenshot({ path: shot.replace(/\.png$/, `-part${k}.png`), fullPage: true, clip: { x: 0, y: k * 1400, width: 1280, height: Math.min(1400, h - k * 1400) } });
  }
} catch (e) {
  fail(String(e && e.stack || e));
} finally {
  if (ctx) await ctx.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(failures.length ? `${failures.length} failure(s)` : 'report ok');
process.exit(failures.length ? 1 : 0);

// A batch as users drop one: a warm page (one cutout done) takes COUNT copies of a photo at once
// (default 4), and prints each cutout's worker timings, when each item showed done (s from the
// drop), the batch's time per photo, and the renderers' peak memory over the batch (the page, its
// workers, the decoded images it shows). A tool, not a test:
//   COUNT=4 node tests/bench/batch-probe.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { serve, browser, cutOut, ready, dist } from '../web/harness.mjs';
import { browserPids, sampleRenderers } from './memory.mjs';

const photo = resolve(process.argv[2] ?? 'fixtures/photos/chelsea.png');
const count = Number(process.env.COUNT ?? 4);
const server = await serve(dist);
const before = browserPids();
const { context, close } = await browser();
const pid = [...browserPids()].find((p) => !before.has(p));
const page = await context.newPage();
// On the page's clock, when each item shows done (a locator polls, and late).
await page.addInitScript(() => {
  window.__done = {};
  new MutationObserver((mutations) => {
    for (const { target } of mutations) {
      if (target.dataset?.testid === 'item' && target.dataset.state === 'done') window.__done[target.dataset.name] ??= performance.now();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
});
const lines = [];
page.on('console', (m) => { if (m.text().startsWith('bgone worker: cutout')) lines.push(m.text()); });
await page.goto(`${server.url}/?engine=cpu`);
await ready(page);
await cutOut(page, photo, 'warm-up');
lines.length = 0;

const folder = mkdtempSync(join(tmpdir(), 'bgone-batch-'));
const files = Array.from({ length: count }, (_, i) => {
  const file = join(folder, `${i + 1}-${basename(photo)}`);
  copyFileSync(photo, file);
  return file;
});
const memory = sampleRenderers(pid, 100);
const t0 = await page.evaluate(() => performance.now());
await page.locator('[data-testid="file-input"]').setInputFiles(files);
for (const file of files) await page.locator(`[data-testid="item"][data-name="${basename(file)}"][data-state="done"]`).waitFor();
const shown = await page.evaluate(() => window.__done);
const done = files.map((file) => (shown[basename(file)] - t0) / 1000);
// The last result shown: its image decoded and painted.
await page.waitForTimeout(1000);
const peak = memory.stop();
for (const line of lines) console.log(line);
console.log(`done at (s from the drop): ${done.map((s) => s.toFixed(2)).join(', ')}; ${(done.at(-1) / count).toFixed(2)} s a photo; renderers' peak ${peak.toFixed(0)} MiB`);
await close();
await server.close();

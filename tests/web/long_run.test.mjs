// 30 photos through the page in one visit: the renderer's memory and the worker's WebAssembly
// heap must stay flat once warm (results the user has not downloaded stay on the page, as they
// must, so the renderer may grow by what it shows, not by what it processed).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, ready, photos, rendererRssMib } from './harness.mjs';

const server = await serve();
after(() => server.close());

const BATCHES = 6;
const PER_BATCH = 5;
const FIXTURES = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

test('30 photos in one visit: memory stays flat after warm-up', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    const worker = page.workers().find((w) => /bgone-(cpu-)?worker_loader/.test(w.url()));
    const heapMib = () => worker.evaluate(async () => (await wasm_bindgen()).memory.buffer.byteLength / 2 ** 20);

    const figures = [];
    for (let batch = 0; batch < BATCHES; batch++) {
      const files = Array.from({ length: PER_BATCH }, (_, i) => {
        const n = batch * PER_BATCH + i;
        const name = FIXTURES[n % FIXTURES.length];
        return { name: `${String(n).padStart(2, '0')}-${name}`, mimeType: name.endsWith('.jpg') ? 'image/jpeg' : 'image/png', buffer: readFileSync(join(photos, name)) };
      });
      await page.locator('[data-testid="file-input"]').setInputFiles(files);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="item"][data-state="done"]').length === n, (batch + 1) * PER_BATCH);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 200))));
      figures.push({ photos: (batch + 1) * PER_BATCH, renderer: rendererRssMib(), heap: await heapMib() });
    }
    for (const f of figures) console.log(`after ${f.photos} photos: renderer ${f.renderer.toFixed(0)} MiB, worker heap ${f.heap.toFixed(0)} MiB`);
    assert.equal(await page.locator('[data-testid="item"][data-state="done"]').count(), BATCHES * PER_BATCH);

    const warm = figures[1];
    const last = figures.at(-1);
    // The worker's heap only grows when it needs more than it ever had: flat means not at all.
    assert.ok(last.heap <= warm.heap * 1.05, `worker heap grew from ${warm.heap} to ${last.heap} MiB`);
    // The page keeps 20 more results on screen than at warm-up (each a few MB of decoded images).
    assert.ok(last.renderer <= warm.renderer * 1.25 + 64, `renderer grew from ${warm.renderer} to ${last.renderer} MiB`);
  } finally {
    await close();
  }
});

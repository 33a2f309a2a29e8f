// Faults in a real browser: the GPU lost in the middle of an image, and the worker crashing.
// (The other faults, a full quota and a damaged model, are in offline.test.mjs.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serve, browser, ready, resultPng, channel, meanAbsDiff, iou, photos, nativeMask } from './harness.mjs';

const server = await serve();
after(() => server.close());

const item = (page, name) => page.locator(`[data-testid="item"][data-name="${name}"]`);

test('WebGPU device lost mid-image: the image completes on the CPU, which takes the next ones', async () => {
  const { context, close } = await browser({ webgpu: true });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(page), 'webgpu');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    await item(page, 'chelsea.png').and(page.locator('[data-state="processing"]')).waitFor();
    // A 256 pass takes 10-60 s on SwiftShader: crash the browser's GPU process in the middle of it.
    // That is a real device loss (what a driver reset or a GPU crash does), not a simulated error.
    await page.waitForTimeout(3000);
    assert.equal(await item(page, 'chelsea.png').getAttribute('data-state'), 'processing');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Browser.crashGpuProcess');

    const png = await resultPng(page, 'chelsea.png');
    const card = await item(page, 'chelsea.png').textContent();
    console.log(`after the GPU crash the card says: ${card}`);
    assert.match(card, /device lost/);
    assert.match(card, /finished on the CPU/);
    assert.match(card, /CPU \(WebAssembly\)/);
    assert.deepEqual([png.width, png.height], [451, 300]);
    const alpha = channel(png, 3);
    const native = nativeMask('chelsea.png', 256);
    const diff = meanAbsDiff(alpha, native);
    console.log(`fallback result vs native CLI at 256: mean abs diff ${diff.toFixed(5)}, IoU ${iou(alpha, native).toFixed(4)}`);
    assert.ok(diff <= 0.005, `mean abs diff ${diff}`);

    // The lost device is not tried again: the page says the CPU runs now, and the next image is done there.
    assert.equal((await page.locator('[data-testid="engine"]').textContent()).trim(), 'cpu');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'coffee.png'));
    await resultPng(page, 'coffee.png');
    assert.match(await item(page, 'coffee.png').textContent(), /CPU \(WebAssembly\)/);
  } finally {
    await close();
  }
});

test('the worker crashing mid-image: the page says so and the next image completes', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    // Grow the worker's WebAssembly memory to 64 MiB short of what it can reach (the threaded
    // worker's 4 GiB limit), so the photo's message and decoding still fit but the pass does not:
    // its allocation fails and WebAssembly aborts, the real out-of-memory crash, mid-image. (Grown
    // to the limit itself, the worker already dies taking the photo's message, before the image
    // starts: the page then gives the image to the new worker, which cuts it out.)
    const worker = page.workers().find((w) => /bgone-(cpu-)?worker_loader/.test(w.url()));
    const grown = await worker.evaluate(async () => {
      const memory = (await wasm_bindgen()).memory;
      const target = 65536 - 1024; // in 64 KiB pages: 4 GiB less 64 MiB
      const size = () => memory.buffer.byteLength / 65536;
      let pages = 0;
      for (let step = 1 << 15; step >= 1; step >>= 1) {
        if (size() + step > target) continue;
        try { memory.grow(step); pages += step; } catch { /* a lower limit: try a smaller step */ }
      }
      return { pages, total: memory.buffer.byteLength };
    });
    console.log(`worker memory grown by ${grown.pages} pages to ${grown.total} bytes`);

    await page.locator('[data-testid="file-input"]').setInputFiles([join(photos, 'chelsea.png'), join(photos, 'coffee.png')]);
    const failed = item(page, 'chelsea.png').and(page.locator('[data-state="error"]'));
    await failed.waitFor();
    const message = await failed.locator('[data-testid="error"]').textContent();
    console.log(`crash message: ${message}`);
    assert.match(message, /^chelsea\.png: the engine crashed on this image/);
    assert.match(message, /out of memory/);
    assert.match(message, /other images go on/);

    // A new worker takes the rest of the batch.
    const png = await resultPng(page, 'coffee.png');
    assert.deepEqual([png.width, png.height], [600, 400]);
    await page.locator('[data-testid="status"][data-state="done"]').waitFor();
  } finally {
    await close();
  }
});

// Faults in a real browser: the GPU lost in the middle of an image, the worker crashing (mid-image,
// as it takes an image, and as it starts).
// (The other faults, a full quota and a damaged model, are in offline.test.mjs.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, ready, resultPng, channel, meanAbsDiff, iou, photos, nativeMask, syntheticPng } from './harness.mjs';

const server = await serve();
after(() => server.close());

const item = (page, name) => page.locator(`[data-testid="item"][data-name="${name}"]`);
/** Either build's worker script (the threaded CPU worker or the main one). */
const LOADER = /bgone-(cpu-)?worker_loader/;

/** Grows the page's worker's WebAssembly memory as close to `target` 64 KiB pages as it goes. */
async function growWorkerMemory(page, target) {
  const worker = page.workers().find((w) => LOADER.test(w.url()));
  return worker.evaluate(async (target) => {
    const memory = (await wasm_bindgen()).memory;
    const size = () => memory.buffer.byteLength / 65536;
    let pages = 0;
    for (let step = 1 << 15; step >= 1; step >>= 1) {
      if (size() + step > target) continue;
      try { memory.grow(step); pages += step; } catch { /* a lower limit: try a smaller step */ }
    }
    return { pages, total: memory.buffer.byteLength };
  }, target);
}

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
    // to the limit itself, the worker already dies taking the photo's message: the next test.)
    const grown = await growWorkerMemory(page, 65536 - 1024); // 4 GiB less 64 MiB
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

test('the worker crashing after the network, as it composes a 50 MP photo: the page says so and the next image completes', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    const [width, height] = [8660, 5780];
    await page.locator('[data-testid="file-input"]').setInputFiles([
      { name: 'scan-50mp.png', mimeType: 'image/png', buffer: syntheticPng(width, height) },
      { name: 'chelsea.png', mimeType: 'image/png', buffer: readFileSync(join(photos, 'chelsea.png')) },
    ]);
    await item(page, 'scan-50mp.png').and(page.locator('[data-state="processing"]')).waitFor();
    // The worker's thread runs this once it has decoded the photo and handed the network's pass
    // to its pool: the memory then reaches its limit, the pass still has the room it was given,
    // and composing the 50 MP cutout after it does not fit. That step resumes when the pool
    // wakes the worker, in a promise callback, where a trap used to be a rejection the page never
    // heard of: it waited for ever.
    const grown = await growWorkerMemory(page, 65536);
    console.log(`worker memory grown by ${grown.pages} pages to ${grown.total} bytes during the pass`);
    const failed = item(page, 'scan-50mp.png').and(page.locator('[data-state="error"]'));
    await failed.waitFor({ timeout: 180_000 });
    const message = await failed.locator('[data-testid="error"]').textContent();
    console.log(`crash message: ${message}`);
    assert.match(message, /^scan-50mp\.png: the engine crashed on this image/);
    const png = await resultPng(page, 'chelsea.png');
    assert.deepEqual([png.width, png.height], [451, 300]);
  } finally {
    await close();
  }
});

test('the worker dying as it takes an image, before starting it: a new worker cuts it out', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const loaders = [];
    page.on('worker', (w) => { if (LOADER.test(w.url())) loaders.push(w.url()); });
    await page.goto(`${server.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    // Grown to its limit, the worker's memory has no room for the photo's message: the worker
    // aborts as it takes it, before it says the image started.
    const { total } = await growWorkerMemory(page, 65536); // 4 GiB
    console.log(`worker memory grown to ${total} bytes`);

    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const png = await resultPng(page, 'chelsea.png');
    assert.equal(loaders.length, 2, `workers started: ${loaders.join(', ')}`);
    assert.doesNotMatch(await item(page, 'chelsea.png').textContent(), /crashed/);
    assert.deepEqual([png.width, png.height], [451, 300]);
    const diff = meanAbsDiff(channel(png, 3), nativeMask('chelsea.png', 256));
    console.log(`the new worker's result vs native CLI at 256: mean abs diff ${diff.toFixed(5)}`);
    assert.ok(diff <= 0.005, `mean abs diff ${diff}`);
  } finally {
    await close();
  }
});

test('a worker that dies while it starts is not restarted forever: the page says the engine could not start', async () => {
  // Both builds of the worker throw as their script runs: the threaded one gives way to the main
  // one, which is restarted once, and then no more.
  const crash = Buffer.from("throw new Error('bgone test: this worker cannot start');\n");
  server.overrides.set('/bgone-worker_loader.js', crash);
  server.overrides.set('/bgone-cpu-worker_loader.js', crash);
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const loaders = [];
    page.on('worker', (w) => { if (LOADER.test(w.url())) loaders.push(new URL(w.url()).pathname); });
    await page.goto(`${server.url}/?engine=cpu`);
    const status = page.locator('[data-testid="status"][data-state="error"]');
    await status.waitFor({ timeout: 60_000 });
    const message = await status.textContent();
    console.log(`status: ${message}; workers started: ${loaders.join(', ')}`);
    assert.match(message, /The engine could not start/);
    assert.match(message, /cannot start/);
    assert.match(message, /Reload the page/);
    // No worker is started after that.
    const started = loaders.length;
    await page.waitForTimeout(3000);
    assert.equal(loaders.length, started);
    assert.deepEqual(loaders, ['/bgone-cpu-worker_loader.js', '/bgone-worker_loader.js', '/bgone-worker_loader.js']);

    // A photo dropped now fails with a message instead of waiting for ever.
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'coffee.png'));
    await item(page, 'coffee.png').and(page.locator('[data-state="error"]')).waitFor({ timeout: 10_000 });
  } finally {
    server.overrides.clear();
    await close();
  }
});

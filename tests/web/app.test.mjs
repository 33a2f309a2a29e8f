// The web app in Debian's Chromium: drop photos, get cutouts, on the CPU engine and on WebGPU.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { serve, browser, ready, resultPng, channel, meanAbsDiff, iou, photos, repo } from './harness.mjs';

const server = await serve();
after(() => server.close());

/** The native CLI's mask for a photo, as 0..1 floats (the CLI shares the removal core). */
function nativeMask(photo, size) {
  const out = mkdtempSync(join(tmpdir(), 'bgone-native-'));
  const bin = process.env.BGONE_BIN ?? join(repo, 'target', 'release', 'bgone');
  const args = [join(photos, photo), '-o', out, '--mask', '--engine', 'cpu', '-q'];
  if (size) args.push('--size', String(size));
  execFileSync(bin, args, { stdio: 'inherit' });
  const png = PNG.sync.read(readFileSync(join(out, photo.replace(/\.[^.]+$/, '.png'))));
  return channel(png, 0);
}

/** Event-to-handler delay of a real click, measured in the page. */
async function clickLatencyMs(page, locator) {
  await page.evaluate(() => {
    window.__clickDelays = [];
    document.addEventListener('click', (event) => window.__clickDelays.push(performance.now() - event.timeStamp), { capture: true, once: true });
  });
  const box = await locator.boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => window.__clickDelays.length > 0);
  return page.evaluate(() => window.__clickDelays[0]);
}

test('CPU engine: a dropped photo becomes a full-size cutout whose alpha matches the CLI', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));

    await page.locator('[data-testid="item"][data-state="processing"]').waitFor();
    const delay = await clickLatencyMs(page, page.getByText('White', { exact: true }));
    console.log(`click handled ${delay.toFixed(1)} ms after the event while processing`);
    assert.ok(delay < 200, `the page froze: a click took ${delay} ms to be handled`);
    assert.equal(await page.locator('[data-testid="status"]').getAttribute('data-state'), 'processing');

    const png = await resultPng(page, 'chelsea.png');
    assert.deepEqual([png.width, png.height], [451, 300]);
    const score = iou(channel(png, 3), nativeMask('chelsea.png'));
    console.log(`CPU engine vs native CLI: IoU ${score.toFixed(4)}`);
    assert.ok(score >= 0.99, `IoU ${score} < 0.99`);
    await page.locator('[data-testid="status"][data-state="done"]').waitFor();
  } finally {
    await close();
  }
});

test('bad files get clear errors and the valid photo still completes', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu&size=256`);
    await ready(page);
    const jpeg = readFileSync(join(photos, 'rocket.jpg'));
    await page.locator('[data-testid="file-input"]').setInputFiles([
      { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a photo') },
      { name: 'cut.jpg', mimeType: 'image/jpeg', buffer: jpeg.subarray(0, jpeg.length / 3) },
      { name: 'coffee.png', mimeType: 'image/png', buffer: readFileSync(join(photos, 'coffee.png')) },
    ]);
    const error = async (name) => {
      const item = page.locator(`[data-testid="item"][data-name="${name}"][data-state="error"]`);
      await item.waitFor();
      return item.locator('[data-testid="error"]').textContent();
    };
    assert.match(await error('notes.jpg'), /notes\.jpg.*not an image/);
    assert.match(await error('cut.jpg'), /cut\.jpg.*damaged or incomplete/);
    const png = await resultPng(page, 'coffee.png');
    assert.deepEqual([png.width, png.height], [600, 400]);
  } finally {
    await close();
  }
});

test('WebGPU engine at 256: its mask matches the CPU engine at the same size', async () => {
  const { context, close } = await browser({ webgpu: true });
  try {
    const gpu = await context.newPage();
    await gpu.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(gpu), 'webgpu');
    await gpu.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const gpuAlpha = channel(await resultPng(gpu, 'chelsea.png'), 3);

    const cpu = await context.newPage();
    await cpu.goto(`${server.url}/?engine=cpu&size=256`);
    assert.equal(await ready(cpu), 'cpu');
    await cpu.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const cpuAlpha = channel(await resultPng(cpu, 'chelsea.png'), 3);

    const diff = meanAbsDiff(gpuAlpha, cpuAlpha);
    console.log(`WebGPU vs CPU at 256: mean abs difference ${diff.toFixed(5)}`);
    assert.ok(diff <= 0.005, `mean abs difference ${diff} > 0.005`);
  } finally {
    await close();
  }
});

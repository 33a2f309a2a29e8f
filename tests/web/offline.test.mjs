// Offline after the first visit, and privacy a user can check, in Debian's Chromium with a
// persistent profile: the service worker, the model's own cache, the readiness registry, the
// installability check, updates, and the count of requests while an image is processed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, ready, resultPng, photos, dist } from './harness.mjs';

const server = await serve();
after(() => server.close());

const offlineReady = (page) => page.locator('[data-testid="offline-ready"]');
const waitOffline = (page, state) => page.locator(`[data-testid="offline-ready"][data-state="${state}"]`).waitFor();

/** Drops a photo, waits for its cutout, and returns the page's count of requests meanwhile. */
async function cutout(page, photo) {
  await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, photo));
  const png = await resultPng(page, photo);
  assert.ok(png.width > 0 && png.height > 0);
  const counter = page.locator('[data-testid="requests-during-processing"]');
  await page.waitForFunction((el) => /^\d+$/.test(el.textContent.trim()), await counter.elementHandle());
  return Number((await counter.textContent()).trim());
}

const modelCaches = (page) => page.evaluate(async () => (await caches.keys()).filter((name) => name.startsWith('bgone-model-')));

test('after one online visit the app works offline on CPU and WebGPU; nothing leaves while processing', async () => {
  const { context, close } = await browser({ webgpu: true });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    assert.match(await offlineReady(page).textContent(), /Ready to work offline/);
    assert.equal((await modelCaches(page)).length, 1);

    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'the app must be installable');

    assert.equal(await cutout(page, 'chelsea.png'), 0, 'requests while processing, online');

    // Airplane mode from here on: not one request may reach the server.
    const seen = server.requests.length;
    await context.setOffline(true);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    assert.equal(await cutout(page, 'coffee.jpg'), 0, 'requests while processing, offline (CPU)');

    await page.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(page), 'webgpu');
    assert.equal(await cutout(page, 'chelsea.png'), 0, 'requests while processing, offline (WebGPU)');
    assert.deepEqual(server.requests.slice(seen).map((r) => r.path), [], 'requests reached the server while offline');

    // The browser evicts the model while offline: the page notices and says what it needs.
    await page.goto(`${server.url}/?engine=cpu`);
    await ready(page);
    await page.evaluate(async () => {
      for (const name of await caches.keys()) if (name.startsWith('bgone-model-')) await caches.delete(name);
    });
    await page.locator('[data-testid="check-readiness"]').click();
    await waitOffline(page, 'evicted');
    assert.match(await page.locator('[data-testid="offline-message"]').textContent(), /removed|online/);
    assert.deepEqual(server.requests.slice(seen).map((r) => r.path), []);

    // Back online, it heals by itself.
    await context.setOffline(false);
    await waitOffline(page, 'yes');
    assert.ok(server.requests.slice(seen).some((r) => r.path.endsWith('.safetensors')), 'the model was downloaded again');
    assert.equal((await modelCaches(page)).length, 1);
  } finally {
    await close();
  }
});

test('a new version waits for the user, then replaces every file at once and keeps the model', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    await ready(page);
    await waitOffline(page, 'yes');
    const shellCaches = () => page.evaluate(async () => (await caches.keys()).filter((n) => n.startsWith('bgone-shell-')));
    const [before] = await shellCaches();

    // Publish "the next build": the same files under a new build hash.
    const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
    const build = sw.match(/const BUILD = "([0-9a-f]+)"/)[1];
    server.overrides.set('/sw.js', Buffer.from(sw.replace(`"${build}"`, `"${build}0"`)));
    const seen = server.requests.length;
    try {
      await page.reload();
      await page.locator('[data-testid="update-available"]').waitFor();
      assert.deepEqual(await shellCaches(), [before], 'the old version keeps serving until the user reloads');
      const reloaded = page.waitForEvent('load');
      await page.locator('[data-testid="update-available"] button').click();
      await reloaded;
      await ready(page);
      assert.equal(await page.locator('[data-testid="update-available"]').count(), 0);
      await waitOffline(page, 'yes');
      assert.deepEqual(await shellCaches(), [`bgone-shell-${build}0`]);
      assert.ok(!server.requests.slice(seen).some((r) => r.path.endsWith('.safetensors')), 'an update must not download the model again');
    } finally {
      server.overrides.delete('/sw.js');
    }
  } finally {
    await close();
  }
});

test('the model is verified by sha256 before use: a damaged offline copy is replaced', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    await ready(page);
    await waitOffline(page, 'yes');
    const seen = server.requests.length;
    // Change bytes of the cached weights behind the app's back.
    await page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('bgone-model-'));
      const cache = await caches.open(name);
      const [request] = await cache.keys();
      const bytes = new Uint8Array(await (await cache.match(request)).arrayBuffer());
      bytes[bytes.length >> 1] ^= 0xff;
      await cache.put(request, new Response(bytes));
    });
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    assert.ok(server.requests.slice(seen).some((r) => r.path.endsWith('.safetensors')), 'the damaged copy was downloaded again');
    assert.equal(await cutout(page, 'chelsea.png'), 0);

    // Delete model: the panel says so; Download again restores it.
    await page.locator('[data-testid="delete-model"]').click();
    await waitOffline(page, 'no');
    assert.deepEqual(await modelCaches(page), []);
    await page.locator('[data-testid="download-model"]').click();
    await waitOffline(page, 'yes');
  } finally {
    await close();
  }
});

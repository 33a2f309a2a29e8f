// Offline after the first visit, and privacy a user can check, in Debian's Chromium with a
// persistent profile: the service worker, the model's own cache, the readiness registry, the
// installability check, updates, and the count of requests while an image is processed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, ready, resultPng, photos, dist, CPU_ENGINES } from './harness.mjs';

const server = await serve();
/** A host that sends no isolation headers: a first visit (before the service worker adds them)
 *  runs the one-thread CPU engine. */
const plainServer = await serve(dist, { isolated: false });
after(() => Promise.all([server.close(), plainServer.close()]));

const offlineReady = (page) => page.locator('[data-testid="offline-ready"]');
const waitOffline = (page, state) =>
  page.locator(`[data-testid="offline-ready"][data-state="${state}"]`).waitFor({ timeout: 120_000 });

/** Drops a photo, waits for its cutout, and returns the page's count of requests meanwhile. */
async function cutout(page, photo) {
  await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, photo));
  const png = await resultPng(page, photo);
  assert.ok(png.width > 0 && png.height > 0);
  const counter = page.locator('[data-testid="requests-during-processing"]');
  await page.waitForFunction((el) => /^\d+$/.test(el.textContent.trim()), await counter.elementHandle());
  return Number((await counter.textContent()).trim());
}

/** Airplane mode: the browser's offline emulation (navigator.onLine, the page's own requests) and
 *  the network itself: DevTools' emulation does not cover the service worker's fetches, so the
 *  test server also drops every connection (logging the attempt). */
async function setOffline(context, offline, host = server) {
  host.setOffline(offline);
  await context.setOffline(offline);
}

/** Requests that reached the server since `seen`, less the browser's own update checks of the
 *  service worker script: Chromium makes those from its browser process after each navigation
 *  (they fail in airplane mode like every request here) and they carry nothing from the page (a
 *  plain GET of /sw.js). Everything the page, its worker and the service worker ask for counts. */
function requestsSince(seen, host = server) {
  const after = host.requests.slice(seen).map((r) => r.path);
  const updateChecks = after.filter((path) => path === '/sw.js').length;
  if (updateChecks) console.log(`(${updateChecks} browser update check(s) of /sw.js while offline; see requestsSince)`);
  return after.filter((path) => path !== '/sw.js');
}

const modelCaches = (page) => page.evaluate(async () => (await caches.keys()).filter((name) => name.startsWith('bgone-model-')));

/** Runs in the page before its scripts: the worker's messages as the page receives them, as
 *  "Type" or "ModelStore state". */
function recordWorkerMessages() {
  window.__fromWorker = [];
  const onmessage = Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage');
  Object.defineProperty(Worker.prototype, 'onmessage', {
    set(handler) {
      onmessage.set.call(this, (event) => {
        const { type, state } = event.data ?? {};
        if (type) window.__fromWorker.push(state ? `${type} ${state}` : type);
        return handler(event);
      });
    },
    get() { return onmessage.get.call(this); },
  });
  // The page's registration of the service worker, in the same list.
  const register = ServiceWorkerContainer.prototype.register;
  ServiceWorkerContainer.prototype.register = function (...args) {
    window.__fromWorker.push('(page registers the service worker)');
    return register.apply(this, args);
  };
}

test('after one online visit the app works offline on CPU and WebGPU; nothing leaves while processing', async () => {
  const { context, close } = await browser({ webgpu: true });
  try {
    const page = await context.newPage();
    await page.addInitScript(recordWorkerMessages);
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    // The first visit's engine starts on the downloaded weights while the browser still writes
    // their offline copy (88 MB): the worker is ready before the copy is stored.
    const said = await page.evaluate(() => window.__fromWorker);
    console.log(`first visit, the worker's messages: ${said.filter((m) => m !== 'ModelProgress').join(', ')}`);
    assert.ok(said.indexOf('Ready') >= 0 && said.indexOf('Ready') < said.indexOf('ModelStore stored'), 'the engine waited for the model to be stored');
    assert.match(await offlineReady(page).textContent(), /Ready to work offline/);
    assert.equal((await modelCaches(page)).length, 1);

    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, [], 'the app must be installable');

    assert.equal(await cutout(page, 'chelsea.png'), 0, 'requests while processing, online');

    // Airplane mode from here on: not one request may reach the server.
    const seen = server.requests.length;
    await setOffline(context, true);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    assert.equal(await cutout(page, 'coffee.png'), 0, 'requests while processing, offline (CPU)');

    await page.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(page), 'webgpu');
    assert.equal(await cutout(page, 'chelsea.png'), 0, 'requests while processing, offline (WebGPU)');
    assert.deepEqual(requestsSince(seen), [], 'requests reached the server while offline');

    // The browser evicts the model while offline: on the next visit the page notices, says so and
    // what it needs (its one attempt to download again fails: the network is off).
    await page.evaluate(async () => {
      for (const name of await caches.keys()) if (name.startsWith('bgone-model-')) await caches.delete(name);
    });
    await page.goto(`${server.url}/?engine=cpu`);
    await waitOffline(page, 'evicted');
    assert.match(await page.locator('[data-testid="offline-message"]').textContent(), /removed the offline copy/);

    // Back online, it heals by itself.
    await setOffline(context, false);
    await waitOffline(page, 'yes');
    assert.equal(await ready(page), 'cpu');
    assert.ok(server.requests.slice(seen).some((r) => r.path.endsWith('.safetensors')), 'the model was downloaded again');
    assert.equal((await modelCaches(page)).length, 1);
  } finally {
    await close();
  }
});

for (const { isolated, engine } of CPU_ENGINES) {
  test(`a first visit stores its offline copy while a batch is processed (${engine}): closed before the batch is done, the app works offline`, async () => {
    const host = isolated ? server : plainServer;
    const { context, close } = await browser();
    try {
      const page = await context.newPage();
      await page.addInitScript(recordWorkerMessages);
      await page.goto(`${host.url}/?engine=cpu`);
      assert.equal(await page.evaluate(() => crossOriginIsolated), isolated);
      // A batch dropped as the page opens: the engine starts on the downloaded weights and takes
      // the photos one after another while the browser writes the offline copy.
      const batch = ['chelsea.png', 'coffee.png', 'astronaut.png'];
      await page.locator('[data-testid="file-input"]').setInputFiles(batch.map((photo) => join(photos, photo)));
      await waitOffline(page, 'yes');
      const said = (await page.evaluate(() => window.__fromWorker)).filter((m) => m !== 'ModelProgress');
      const done = said.filter((m) => m === 'Done').length;
      console.log(`${engine}: the copy was stored with ${done} of ${batch.length} photos done (the worker's messages: ${said.join(', ')})`);
      // The service worker's precache (its fetches, its Cache Storage writes) waits until the
      // first photo is done, so that the first pass has the cores to itself.
      const registered = said.indexOf('(page registers the service worker)');
      assert.ok(registered > said.indexOf('Done') && said.indexOf('Done') >= 0, 'the service worker was registered before the first photo was done');
      // Before, each engine kept the worker's thread blocked through the whole batch (the threaded
      // one drove each pass from it; the one-thread one runs them on it, and now lets the copy
      // finish first), and each step of the store waited for that thread: the copy was stored
      // only after the last photo.
      assert.ok(done < batch.length, 'the offline copy waited for the whole batch');

      // The user closes the page before the batch is done, and later opens the app offline.
      await page.close();
      await setOffline(context, true, host);
      try {
        const seen = host.requests.length;
        const again = await context.newPage();
        await again.goto(`${host.url}/?engine=cpu`);
        assert.equal(await ready(again), 'cpu');
        await waitOffline(again, 'yes');
        assert.equal(await cutout(again, 'chelsea.png'), 0, 'requests while processing, offline');
        assert.deepEqual(requestsSince(seen, host), [], 'requests reached the server while offline');
      } finally {
        await setOffline(context, false, host);
      }
    } finally {
      await close();
    }
  });
}

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
      assert.ok((await shellCaches()).includes(before), 'the old version keeps serving until the user reloads');
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

test('the model is verified before use, against the XXH3-128 checksum in its manifest: a damaged offline copy is replaced', async () => {
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

    // Delete model: the panel says so, and a part of a broken-off download kept to resume
    // goes too; Download again restores it.
    await page.evaluate(async () => { await (await caches.open('bgone-download-test')).put('/models/part', new Response('part')); });
    await page.locator('[data-testid="delete-model"]').click();
    await waitOffline(page, 'no');
    assert.deepEqual(await modelCaches(page), []);
    assert.deepEqual(await page.evaluate(async () => (await caches.keys()).filter((n) => n.startsWith('bgone-download-'))), []);
    await page.locator('[data-testid="download-model"]').click();
    await waitOffline(page, 'yes');
  } finally {
    await close();
  }
});

test('with too little storage for the model, the app says so and still works online', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    // Room for the app's files (about 36 MB) but not for the model (88 MB).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: 60 * 1024 * 1024 });
    await page.goto(`${server.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    const message = page.locator('[data-testid="offline-message"]');
    await message.filter({ hasText: /quota/ }).waitFor();
    assert.match(await message.textContent(), /still works while online/);
    assert.equal(await offlineReady(page).getAttribute('data-state'), 'no');
    assert.deepEqual(await modelCaches(page), [], 'nothing half-written is left behind');
    assert.equal(await cutout(page, 'chelsea.png'), 0);
  } finally {
    await close();
  }
});

/** A first visit, `ms` into the model's download: the model comes at 200 Mbit/s (about 3.5 s)
 *  from a server of its own, so the page is seen while it downloads. */
async function firstVisitDownloading(ms, options = {}) {
  const slow = await serve(dist, { modelMbps: 200, ...options });
  const { context, close } = await browser();
  const page = await context.newPage();
  await page.goto(`${slow.url}/?engine=cpu`);
  await page.locator('[data-testid="offline-ready"][data-state="downloading"]').waitFor();
  await page.waitForTimeout(ms);
  return { slow, context, page, close: async () => { await close(); await slow.close(); } };
}

test("a first visit saves the app's files for offline use once the model is in, not while it downloads", async () => {
  // Installing the service worker precaches the app's files; beside the model's download they
  // took a share of the connection.
  const { slow, close, page } = await firstVisitDownloading(1500);
  try {
    const during = await page.evaluate(async () => ({
      status: document.querySelector('[data-testid="status"]').dataset.state,
      registered: Boolean(await navigator.serviceWorker.getRegistration()),
    }));
    // The page asks for the threaded CPU worker's WebAssembly once; the service worker's precache
    // asks for it again (the test server answers no revalidation). The main worker is never
    // asked for: this browser has no WebGPU adapter, so the precache leaves it out too.
    const asked = (path) => slow.requests.filter((r) => r.path === path).length;
    const threadedAsked = () => asked('/bgone-cpu-worker_bg.wasm');
    console.log(`1.5 s into the model's download: status ${during.status}, service worker registered ${during.registered}, threaded worker's WebAssembly asked for ${threadedAsked()} time(s)`);
    assert.deepEqual(during, { status: 'loading-model', registered: false });
    assert.ok(await page.getByText('App files: saved for offline use once the model is in').isVisible());
    assert.equal(threadedAsked(), 1);

    assert.equal(await ready(page), 'cpu');
    await waitOffline(page, 'yes');
    assert.equal(threadedAsked(), 2);
    assert.equal(asked('/bgone-worker_bg.wasm'), 0);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.ok(await page.evaluate(() => Boolean(navigator.serviceWorker.controller)), 'the service worker does not serve the next visit');
  } finally {
    await close();
  }
});

for (const ranges of [true, false]) {
  const server = ranges ? 'a server that answers ranges' : 'a server without ranges';
  test(`a first visit that loses the network while the model downloads recovers when it comes back, the offline copy included (${server})`, async () => {
    // The service worker is registered once the model is in, or once its download has failed:
    // here that is offline, so the registration fails too, and coming back online registers it.
    const { slow, context, close, page } = await firstVisitDownloading(1000, { ranges });
    try {
      const messages = [];
      page.on('console', (m) => { if (/download resumes|MB of the model kept/.test(m.text())) messages.push(m.text()); });
      await setOffline(context, true, slow);
      await page.locator('[data-testid="status"][data-state="error"]').waitFor({ timeout: 60_000 });
      const failed = await page.evaluate(async () => Boolean(await navigator.serviceWorker.getRegistration()));
      console.log(`offline mid-download: status error, service worker registered ${failed}`);
      await setOffline(context, false, slow);
      assert.equal(await ready(page), 'cpu');
      await waitOffline(page, 'yes');
      assert.ok(await page.evaluate(async () => Boolean(await navigator.serviceWorker.getRegistration())));
      assert.equal(await cutout(page, 'chelsea.png'), 0);

      // Where the server answers ranges, the part that came before the network went was kept
      // and the download went on from there: the rest asked for with a range, not all of it
      // again. From a server without them nothing was kept and it started over. Either way the
      // weights passed their check (the engine is ready), and no kept part is left.
      const asked = slow.requests.filter((r) => r.path.endsWith('.safetensors') && !r.offline);
      console.log(`the model asked for ${asked.length} times online, the last ${asked.at(-1).range ?? 'whole'}; ${messages.join('; ') || 'nothing kept'}`);
      assert.equal(asked[0].range, undefined);
      assert.ok(asked.length >= 2);
      if (ranges) {
        const from = Number(/^bytes=(\d+)-$/.exec(asked.at(-1).range ?? '')?.[1] ?? 0);
        assert.ok(from > 10_000_000, `the download did not resume (last request's range: ${asked.at(-1).range})`);
        assert.ok(messages.some((m) => m.includes(`resumes at ${(from / 1e6).toFixed(1)} MB`)), messages.join('; '));
      } else {
        // (Chromium's HTTP cache may check its own truncated copy with a one-byte range first:
        // `bytes=N-N`, answered here with the whole file.)
        assert.doesNotMatch(asked.at(-1).range ?? '', /^bytes=\d+-$/);
        assert.deepEqual(messages, []);
      }
      const left = await page.evaluate(async () => (await caches.keys()).filter((name) => name.startsWith('bgone-download-')));
      assert.deepEqual(left, []);
    } finally {
      await close();
    }
  });
}

test('a first visit whose download breaks off while the browser still calls itself online tries again by itself and goes on from where it stopped', async () => {
  // The server drops the connection (a server that was down, a connection that broke off) but
  // the browser never goes offline, so no `online` event will come: the page retries on its own.
  const { slow, close, page } = await firstVisitDownloading(1000);
  try {
    slow.setOffline(true);
    const status = page.locator('[data-testid="status"][data-state="error"]');
    await status.waitFor({ timeout: 60_000 });
    const message = await status.textContent();
    assert.match(message, /could not be downloaded/);
    assert.match(message, /tries again by itself/);
    const brokeOff = Date.now();
    slow.setOffline(false);
    assert.equal(await ready(page), 'cpu');
    const asked = slow.requests.filter((r) => r.path.endsWith('.safetensors') && !r.offline);
    console.log(`ready ${((Date.now() - brokeOff) / 1000).toFixed(1)} s after the server was back; the model asked for ${asked.length} times, the last ${asked.at(-1).range ?? 'whole'}`);
    assert.match(asked.at(-1).range ?? '', /^bytes=[1-9]\d{6,}-$/);
    await waitOffline(page, 'yes');
  } finally {
    await close();
  }
});

test('where the threaded CPU worker cannot start, the one-thread worker the page runs instead is kept for offline use too', async () => {
  // A browser that refuses the threaded worker (its loader throws as it runs, as where shared
  // memory cannot be had), with isolation and no WebGPU adapter: the install leaves the main
  // worker out, and the page, which runs it instead, asks for it to be kept.
  const host = await serve();
  host.overrides.set('/bgone-cpu-worker_loader.js', Buffer.from("throw new Error('bgone test: no threads in this browser');\n"));
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${host.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    assert.equal(await page.locator('[data-testid="threads"]').getAttribute('data-threads'), '1');
    assert.equal(await cutout(page, 'coffee.png'), 0);
    await waitOffline(page, 'yes');
    const shell = await page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('bgone-shell-'));
      return (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname);
    });
    for (const path of ['/bgone-worker_loader.js', '/bgone-worker.js', '/bgone-worker_bg.wasm']) {
      assert.ok(shell.includes(path), `${path} is not kept for offline use`);
    }

    // Airplane mode: the page falls back again and the main worker starts from the cache.
    const seen = host.requests.length;
    await setOffline(context, true, host);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await page.locator('[data-testid="threads"]').getAttribute('data-threads'), '1');
    await waitOffline(page, 'yes');
    assert.equal(await cutout(page, 'chelsea.png'), 0, 'requests while processing, offline');
    assert.deepEqual(requestsSince(seen, host), [], 'requests reached the server while offline');
  } finally {
    await close();
    await host.close();
  }
});

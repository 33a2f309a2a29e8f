// The web app in Debian's Chromium: drop photos, get cutouts, on the CPU engine and on WebGPU.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, symlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { crc32, deflateSync } from 'node:zlib';
import { serve, browser, ready, resultPng, channel, meanAbsDiff, iou, photos, repo, dist, nativeMask, consoleComplaints, syntheticPng, startupLine, gpuPasses } from './harness.mjs';

const server = await serve();

/** The paths in this page's shell cache (what the service worker precached). */
function shellFiles(page) {
  return page.evaluate(async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('bgone-shell-'));
    return (await (await caches.open(name)).keys()).map((request) => new URL(request.url).pathname);
  });
}
after(() => server.close());

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

/** How many times the static constructors of the worker whose script is `loader` have run. */
function constructorRuns(page, loader) {
  const worker = page.workers().find((w) => w.url().includes(loader));
  assert.ok(worker, `no ${loader} worker`);
  return worker.evaluate(async () => (await wasm_bindgen()).constructor_runs());
}

test("the page's own WebAssembly holds the UI only, not the engine", () => {
  // The page loads this before it can start the worker: every MB of it delays a return visit's
  // first cutout. The engine (Burn, the WebGPU compiler) belongs in the workers; a change that
  // drew the WebGPU compiler's registrations into the page once grew it from 1.1 to 8.9 MB.
  const wasm = /href="\/?([^"]*bgone-web-[^"]*_bg\.wasm)"/.exec(readFileSync(join(dist, 'index.html'), 'utf8'));
  assert.ok(wasm, "index.html names no page WebAssembly");
  const mib = statSync(join(dist, wasm[1])).size / 2 ** 20;
  console.log(`page WebAssembly ${mib.toFixed(2)} MiB`);
  assert.ok(mib < 2, `the page's WebAssembly is ${mib.toFixed(1)} MiB`);
});

test("the WebAssembly a first visit downloads carries no names of Rust's functions", async () => {
  // Every first visit precaches three modules for offline use (the page's, the main worker's and
  // the CPU worker's build this browser runs). Their name sections (function names for stack
  // traces) were 9.4 of 43.4 MB; `strip` in Cargo.toml leaves Rust's out. What remains names
  // wasm-bindgen's own glue, a few KB.
  const files = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  assert.equal(files.length, 4, `expected the page's, the main worker's and the CPU worker's two builds' WebAssembly: ${files}`);
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    // A same-origin document that starts nothing, so the fetches below are the only work.
    await page.goto(`${server.url}/manifest.webmanifest`);
    const modules = await page.evaluate((files) => Promise.all(files.map(async (file) => {
      const bytes = await (await fetch(`/${file}`)).arrayBuffer();
      const module = await WebAssembly.compile(bytes);
      const names = WebAssembly.Module.customSections(module, 'name').reduce((sum, section) => sum + section.byteLength, 0);
      return { file, mb: bytes.byteLength / 1e6, namesKb: names / 1e3 };
    })), files);
    console.log(modules.map((m) => `${m.file} ${m.mb.toFixed(1)} MB (names ${m.namesKb.toFixed(0)} KB)`).join(', '));
    for (const m of modules) assert.ok(m.namesKb < 64, `${m.file} names its functions in ${m.namesKb.toFixed(0)} KB`);
  } finally {
    await close();
  }
});

test('automatic engine (the default): the CPU on every core where the browser has no WebGPU adapter or only a software one, and why', async () => {
  // SwiftShader is a fallback adapter (GPUAdapterInfo.isFallbackAdapter): on these 2 cores a
  // cutout at 256 takes it 13.6 s, the threaded CPU engine 1.7 s at 1024. A real GPU would get
  // the WebGPU engine (the page's choice between the two is that flag: src/browser/gpu_adapter.rs).
  const plain = await serve(undefined, { isolated: false });
  try {
    for (const [webgpu, host, threadsExpected, note] of [
      [false, server, 'all', 'Using the CPU: this browser offers no WebGPU adapter.'],
      [true, server, 'all', "Using the CPU: this browser's only WebGPU adapter is a software one, far slower than the CPU engine."],
      // Without isolation the main worker runs, and leaves the software adapter to its CPU engine.
      [true, plain, 1, "Using the CPU: this browser's only WebGPU adapter is a software one, far slower than the CPU engine."],
    ]) {
      const { context, close } = await browser({ webgpu });
      try {
        const page = await context.newPage();
        await page.goto(`${host.url}/`);
        const engine = await ready(page);
        const notes = await page.locator('[data-testid="engine-note"]').allTextContents();
        const threads = Number(await page.locator('[data-testid="threads"]').getAttribute('data-threads'));
        const cores = await page.evaluate(() => navigator.hardwareConcurrency);
        console.log(`automatic, ${webgpu ? 'SwiftShader' : 'no adapter'}${host === plain ? ', not isolated' : ''}: ${engine} on ${threads} threads, notes ${JSON.stringify(notes)}`);
        assert.equal(engine, 'cpu');
        assert.equal(threads, threadsExpected === 'all' ? Math.min(cores, 8) : threadsExpected);
        assert.equal(page.workers().some((w) => w.url().includes('bgone-cpu-worker_loader')), threadsExpected === 'all');
        assert.deepEqual(notes, [note]);
      } finally {
        await close();
      }
    }
  } finally {
    await plain.close();
  }
});

test('WebGPU asked for where the browser has no adapter: the CPU engine on every core, and why; the main worker neither started nor precached', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const seen = server.requests.length;
    await page.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    const note = await page.locator('[data-testid="engine-note"]').textContent();
    const threads = Number(await page.locator('[data-testid="threads"]').getAttribute('data-threads'));
    console.log(`WebGPU asked for, no adapter: ${threads} threads, note: ${note}`);
    assert.equal(note, 'Using the CPU: this browser offers no WebGPU adapter.');
    assert.equal(threads, Math.min(await page.evaluate(() => navigator.hardwareConcurrency), 8));
    assert.ok(page.workers().some((w) => w.url().includes('bgone-cpu-worker_loader')), 'the threaded CPU worker is not running');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const alpha = channel(await resultPng(page, 'chelsea.png'), 3);
    assert.ok(meanAbsDiff(alpha, nativeMask('chelsea.png', 256)) <= 0.005);

    // The main worker (WebGPU, and the CPU on one thread) cannot run in this browser: the page did
    // not start it, and the service worker, ready offline, neither fetched nor stored it.
    await page.locator('[data-testid="offline-ready"][data-state="yes"]').waitFor({ timeout: 120_000 });
    const main = (path) => path.startsWith('/bgone-worker');
    assert.deepEqual(server.requests.slice(seen).map((r) => r.path).filter(main), []);
    const cached = await shellFiles(page);
    console.log(`shell files precached: ${cached.length}`);
    assert.deepEqual(cached.filter(main), []);
    assert.ok(cached.includes('/bgone-cpu-worker_bg.wasm'), `${cached}`);
  } finally {
    await close();
  }
});

test('CPU engine: a dropped photo becomes a full-size cutout whose alpha matches the CLI', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const complaints = consoleComplaints(page);
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    // Cross-origin isolated: the threaded CPU worker, one thread per core.
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Number(await page.locator('[data-testid="threads"]').getAttribute('data-threads'));
    console.log(`CPU engine on ${threads} threads (${cores} cores)`);
    assert.equal(threads, Math.min(cores, 8));
    assert.ok(page.workers().some((w) => w.url().includes('bgone-cpu-worker_loader')), 'the threaded worker is not running');
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
    assert.equal(await constructorRuns(page, 'bgone-cpu-worker_loader'), 1);
    // A clean console from the page, its worker and the worker's threads, start to cutout.
    assert.deepEqual(complaints, []);
  } finally {
    await close();
  }
});

test('CPU engine, the build without relaxed SIMD: every core and the same mask; only the build a browser runs is precached', async () => {
  // A browser with threads but without relaxed SIMD (the page tests WebAssembly.validate) gets
  // this build; before it had the main worker's one thread. Chromium has relaxed SIMD, so
  // `?simd=portable` asks for it here.
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const complaints = consoleComplaints(page);
    await page.goto(`${server.url}/?engine=cpu&simd=portable`);
    assert.equal(await ready(page), 'cpu');
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Number(await page.locator('[data-testid="threads"]').getAttribute('data-threads'));
    const workers = page.workers().map((w) => new URL(w.url()).pathname);
    console.log(`portable build on ${threads} threads (${cores} cores); workers ${workers.join(', ')}`);
    assert.equal(threads, Math.min(cores, 8));
    assert.ok(workers.includes('/bgone-cpu-worker-portable_loader.js'), 'the portable build is not running');
    assert.ok(!workers.includes('/bgone-cpu-worker_loader.js'), 'the relaxed-SIMD build started too');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const png = await resultPng(page, 'chelsea.png');
    const score = iou(channel(png, 3), nativeMask('chelsea.png'));
    console.log(`portable build vs native CLI: IoU ${score.toFixed(4)}`);
    assert.ok(score >= 0.99, `IoU ${score} < 0.99`);
    assert.equal(await constructorRuns(page, 'bgone-cpu-worker-portable_loader'), 1);
    assert.deepEqual(complaints, []);

    // The service worker precached the build this browser runs by itself (relaxed SIMD), not the
    // one this page was asked to run.
    await page.locator('[data-testid="offline-ready"][data-state="yes"]').waitFor({ timeout: 120_000 });
    const cached = await shellFiles(page);
    assert.ok(cached.includes('/bgone-cpu-worker_bg.wasm') && cached.includes('/bgone-cpu-worker_loader.js'), `${cached}`);
    assert.ok(!cached.some((path) => path.startsWith('/bgone-cpu-worker-portable')), `${cached}`);
  } finally {
    await close();
  }
});

test('without cross-origin isolation the CPU engine runs on one thread; the service worker isolates the next visit', async () => {
  const plain = await serve(undefined, { isolated: false });
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${plain.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.equal(await page.locator('[data-testid="threads"]').getAttribute('data-threads'), '1');
    assert.ok(!page.workers().some((w) => w.url().includes('bgone-cpu-worker')), 'the threaded worker started without isolation');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'coffee.png'));
    const png = await resultPng(page, 'coffee.png');
    const score = iou(channel(png, 3), nativeMask('coffee.png', 256));
    console.log(`one-thread CPU engine vs native CLI at 256: IoU ${score.toFixed(4)}`);
    assert.ok(score >= 0.99, `IoU ${score} < 0.99`);

    // The next visit is served by the service worker, which adds the headers: threads from then on.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    assert.equal(await ready(page), 'cpu');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const threads = await page.locator('[data-testid="threads"]').getAttribute('data-threads');
    console.log(`second visit through the service worker: cross-origin isolated, ${threads} threads`);
    assert.equal(Number(threads), Math.min(await page.evaluate(() => navigator.hardwareConcurrency), 8));
  } finally {
    await close();
    await plain.close();
  }
});

test('if the threaded worker cannot load, the one-thread worker takes over', async () => {
  // The app as built, minus the threaded worker's loader (a host that lost the file).
  const root = mkdtempSync(join(tmpdir(), 'bgone-nothreads-'));
  for (const name of readdirSync(dist)) if (name !== 'bgone-cpu-worker_loader.js') symlinkSync(join(dist, name), join(root, name));
  const partial = await serve(root);
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    const complaints = consoleComplaints(page);
    page.on('pageerror', (error) => complaints.push(`uncaught: ${error.message}`));
    await page.goto(`${partial.url}/?engine=cpu&size=256`);
    assert.equal(await ready(page), 'cpu');
    assert.equal(await page.locator('[data-testid="threads"]').getAttribute('data-threads'), '1');
    // The page says why it has one thread, and nothing else goes wrong: the dead worker's
    // listeners, dropped as one of them runs, are not called again.
    assert.deepEqual(complaints, ["warning: bgone: the threaded CPU worker did not start (the worker's script could not be loaded); using one thread"]);
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'coffee.png'));
    const png = await resultPng(page, 'coffee.png');
    assert.deepEqual([png.width, png.height], [600, 400]);
  } finally {
    await close();
    await partial.close();
    rmSync(root, { recursive: true, force: true });
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

test('the Fast setting runs the network at 512, says so, and matches the CLI at 512', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/?engine=cpu`);
    assert.equal(await ready(page), 'cpu');
    await page.locator('[data-testid="quality"]').selectOption('512');
    assert.equal(await ready(page), 'cpu');
    await page.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'coffee.png'));
    const alpha = channel(await resultPng(page, 'coffee.png'), 3);
    const card = await page.locator('[data-testid="item"][data-name="coffee.png"]').textContent();
    assert.match(card, /Fast \(512\)/);
    const score = iou(alpha, nativeMask('coffee.png', 512));
    const full = nativeMask('coffee.png');
    console.log(`Fast vs CLI at 512: IoU ${score.toFixed(4)}; vs full detail: mean abs diff ${meanAbsDiff(alpha, full).toFixed(4)}, IoU ${iou(alpha, full).toFixed(4)}; card: ${card}`);
    assert.ok(score >= 0.99, `IoU ${score} < 0.99`);
  } finally {
    await close();
  }
});

test('WebGPU engine at 256: its mask matches the CPU engine at the same size; the GPU is tested once', async () => {
  const { context, close } = await browser({ webgpu: true });
  try {
    const gpu = await context.newPage();
    const firstStart = startupLine(gpu);
    await gpu.goto(`${server.url}/?engine=webgpu&size=256`);
    assert.equal(await ready(gpu), 'webgpu');
    // Chosen, SwiftShader runs, and the user is told it is a software adapter.
    assert.deepEqual(await gpu.locator('[data-testid="engine-note"]').allTextContents(),
      ["This browser's WebGPU adapter is a software one, far slower than the CPU engine: choose CPU for faster cutouts."]);
    // A GPU not seen before runs the 64x64 test pass before the engine is ready.
    const first = await firstStart;
    console.log(`first WebGPU start: ${first}`);
    assert.match(first, /test pass \d+/);
    assert.doesNotMatch(first, /skipped/);
    // It ran while the weights came down: what was left of it once they were in ("gpu ready",
    // the wait for it) is shorter than the pass itself.
    const [pass, waited] = [/test pass (\d+)/, /gpu ready (\d+)/].map((pattern) => Number(pattern.exec(first)[1]));
    assert.ok(waited < pass, `the test pass (${pass} ms) did not overlap the weights' download (waited ${waited} ms)`);
    await gpu.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const gpuAlpha = channel(await resultPng(gpu, 'chelsea.png'), 3);
    // The worker's static constructors (the WebGPU compiler's registrations) ran once, not again
    // at each of the thousands of calls from JavaScript into the worker a cutout makes.
    assert.equal(await constructorRuns(gpu, 'bgone-worker_loader'), 1);
    // It passed, and the profile remembers this GPU (SwiftShader here).
    const passes = await gpuPasses(gpu);
    console.log(`GPUs that passed: ${JSON.stringify(passes)}`);
    assert.equal(passes.length, 1);
    assert.match(passes[0], /swiftshader/i);

    const cpu = await context.newPage();
    await cpu.goto(`${server.url}/?engine=cpu&size=256`);
    assert.equal(await ready(cpu), 'cpu');
    await cpu.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const cpuAlpha = channel(await resultPng(cpu, 'chelsea.png'), 3);

    const diff = meanAbsDiff(gpuAlpha, cpuAlpha);
    console.log(`WebGPU vs CPU at 256: mean abs difference ${diff.toFixed(5)}`);
    assert.ok(diff <= 0.005, `mean abs difference ${diff} > 0.005`);

    // The next start on the same GPU goes without the test pass (4-5 s of SwiftShader's time),
    // and its first photo comes out right (at 64, to keep this quick).
    const again = await context.newPage();
    const nextStart = startupLine(again);
    // With no photo waiting, the worker compiles the kernels meanwhile (a 64x64 warm-up pass).
    const warmed = again.waitForEvent('console', { predicate: (m) => /GPU warmed up/.test(m.text()), timeout: 120_000 });
    await again.goto(`${server.url}/?engine=webgpu&size=64`);
    assert.equal(await ready(again), 'webgpu');
    const next = await nextStart;
    console.log(`next WebGPU start: ${next}`);
    assert.match(next, /test pass skipped \(this GPU passed before\)/);
    console.log((await warmed).text());
    await again.locator('[data-testid="file-input"]').setInputFiles(join(photos, 'chelsea.png'));
    const untested = channel(await resultPng(again, 'chelsea.png'), 3);
    const off = meanAbsDiff(untested, nativeMask('chelsea.png', 64));
    console.log(`WebGPU at 64 without a test pass vs the CLI at 64: mean abs difference ${off.toFixed(5)}`);
    assert.ok(off <= 0.005, `mean abs difference ${off} > 0.005`);
  } finally {
    await close();
  }
});

/** A PNG that only declares its size (no pixels): enough for the decoder's limit check. */
function declaredOnlyPng(width, height) {
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.alloc(0))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('a 50-megapixel photo comes back at full resolution; a larger one gets a clear message', async () => {
  const { context, close } = await browser();
  try {
    const page = await context.newPage();
    // The network runs at 1024 whatever the photo's size; 256 keeps this test quick. What is
    // tested here is decoding, the mask upscale and composing at 50 MP inside the worker.
    await page.goto(`${server.url}/?engine=cpu&size=256`);
    await ready(page);
    const [width, height] = [8660, 5780];
    await page.locator('[data-testid="file-input"]').setInputFiles([
      { name: 'scan-50mp.png', mimeType: 'image/png', buffer: syntheticPng(width, height) },
      { name: 'poster-80mp.png', mimeType: 'image/png', buffer: declaredOnlyPng(10000, 8000) },
    ]);
    const tooLarge = page.locator('[data-testid="item"][data-name="poster-80mp.png"][data-state="error"]');
    await tooLarge.waitFor();
    assert.match(await tooLarge.locator('[data-testid="error"]').textContent(), /poster-80mp\.png.*too large.*10000x8000/);
    const png = await resultPng(page, 'scan-50mp.png');
    assert.deepEqual([png.width, png.height], [width, height]);
    // Inside the red ellipse is subject, the far corner is background.
    const alpha = (x, y) => png.data[(y * width + x) * 4 + 3];
    console.log(`50 MP: alpha centre ${alpha(width >> 1, height >> 1)}, corner ${alpha(5, 5)}`);
    assert.ok(alpha(width >> 1, height >> 1) > alpha(5, 5), 'the subject should be more opaque than the background');
  } finally {
    await close();
  }
});

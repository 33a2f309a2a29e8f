// Shared by the browser tests: a static server for the built app that logs every request, and
// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { tmpdir, homedir } from 'node:os';
import { join, extname, normalize, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const dist = process.env.BGONE_DIST ?? join(repo, 'dist');
export const photos = join(repo, 'tests', 'fixtures', 'photos');

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm',
  '.css': 'text/css', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json', '.safetensors': 'application/octet-stream',
};

/** Serves `dist` on 127.0.0.1 at a free port; `requests` lists every path asked for, in order.
 *  `overrides` (path -> bytes) serves other bytes for a path, e.g. a new version of sw.js.
 *  `isolated: false` leaves out the cross-origin isolation headers (a host that cannot send them).
 *  `modelMbps` sends the model's weights at that many megabits a second (a real connection);
 *  `linkMbps` sends every response through one link of that many megabits a second, shared by
 *  all of them (a first visit's downloads compete for it). The model's weights come with an ETag
 *  and answer a range (`Range: bytes=A-` or `bytes=A-B`, with `If-Range`) with those bytes (206),
 *  as static hosts do; `ranges: false` answers every request for them with the whole file (200), as a server
 *  without ranges does. Each request's `range` header is logged. */
export async function serve(root = dist, { isolated = true, modelMbps = 0, linkMbps = 0, ranges = true } = {}) {
  const link = { freeAt: 0 };
  const requests = [];
  const overrides = new Map();
  const state = { offline: false };
  const server = createServer((req, res) => {
    // Cross-origin isolation, as Trunk.toml's [serve] sends it: the threaded CPU worker needs it.
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push({ path, at: Date.now(), offline: state.offline, range: req.headers.range });
    // "The network is off": the attempt is logged, and the connection dropped unanswered.
    if (state.offline) { req.socket.destroy(); return; }
    if (overrides.has(path)) {
      const body = overrides.get(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    let file = normalize(join(root, path));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      let body = readFileSync(file);
      const type = TYPES[extname(file)] ?? 'application/octet-stream';
      if (file.endsWith('.safetensors')) {
        const { size, mtimeMs } = statSync(file);
        const etag = `"${size}-${Math.round(mtimeMs)}"`;
        res.setHeader('ETag', etag);
        if (ranges) res.setHeader('Accept-Ranges', 'bytes');
        const [, from, to] = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '') ?? [];
        const first = Number(from);
        const last = Math.min(to ? Number(to) : body.length - 1, body.length - 1);
        const sameFile = (req.headers['if-range'] ?? etag) === etag;
        if (ranges && from !== undefined && sameFile && first <= last) {
          res.writeHead(206, { 'content-type': type, 'content-length': last + 1 - first, 'content-range': `bytes ${first}-${last}/${body.length}` });
          body = body.subarray(first, last + 1);
        } else {
          res.writeHead(200, { 'content-type': type, 'content-length': body.length });
        }
      } else {
        res.writeHead(200, { 'content-type': type, 'content-length': body.length });
      }
      if (linkMbps > 0) sendShared(res, body, linkMbps, link);
      // The model alone through a link of its own.
      else if (modelMbps > 0 && file.endsWith('.safetensors')) sendShared(res, body, modelMbps, { freeAt: 0 });
      else res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url, requests, overrides,
    /** Switches the network off (every request fails, and the responses under way break off)
     *  or back on. */
    setOffline: (offline) => {
      state.offline = offline;
      if (offline) server.closeAllConnections?.();
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}

/** Writes `body` in 64 KiB pieces through `link`, which carries `mbps` megabits a second for
 *  every response together (or, given a link of its own, for that response): each piece is sent
 *  when the link has carried the pieces booked before it. */
function sendShared(res, body, mbps, link) {
  const piece = 65536;
  const next = (offset) => {
    if (offset >= body.length || res.destroyed) { res.end(); return; }
    const size = Math.min(piece, body.length - offset);
    // A timer that fired late leaves the link busy, not idle: it goes on from where it was
    // booked, so the pieces keep the rate on average.
    const now = Date.now();
    link.freeAt = (link.freeAt > now - 100 ? link.freeAt : now) + (size * 8) / (mbps * 1000);
    setTimeout(() => { res.write(body.subarray(offset, offset + size)); next(offset + size); }, Math.max(0, link.freeAt - Date.now()));
  };
  next(0);
}

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/** A fresh persistent profile each time (what a first visit looks like), or `profile`, one kept
 *  from an earlier browser (`close({ keepProfile: true })`): the browser started again, as a user
 *  who comes back another day finds it. `jsFlags`: V8's flags (the diagnosis tools also take them
 *  from $JS_FLAGS). */
export async function browser({ webgpu = false, jsFlags = process.env.JS_FLAGS, profile = mkdtempSync(join(tmpdir(), 'bgone-profile-')) } = {}) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...FLAGS, ...(webgpu ? WEBGPU_FLAGS : []), ...(jsFlags ? [`--js-flags=${jsFlags}`] : [])],
    acceptDownloads: true,
  });
  context.setDefaultTimeout(10 * 60 * 1000);
  const close = async ({ keepProfile = false } = {}) => {
    await context.close();
    if (!keepProfile) rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, profile };
}

/** Stops the profile's service workers, as Chromium does once one has had no event for 30 s.
 *  Only then does Cache Storage finish writing the compiled code it keeps beside an entry the
 *  worker answered with (the worker's response holds the entry open until it stops); a browser
 *  closed before that loses it. The benchmark's tools that stand for a user who closes the
 *  browser some time after the last cutout call this before closing it. */
export async function stopServiceWorkers(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await page.close();
}

/** Runs `work` while Chrome's tracing records `categories` (CDP Tracing), and returns the events. */
export async function traced(context, page, categories, work) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', ({ value }) => events.push(...value));
  const complete = new Promise((resolve) => cdp.on('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: categories } });
  await work();
  await cdp.send('Tracing.end');
  await complete;
  return events;
}

/** The worker's "model ready in ..." line (its start-up's steps), once the page logs it: start
 *  waiting before the page opens. */
export function startupLine(page) {
  return page.waitForEvent('console', { predicate: (m) => /model ready in/.test(m.text()), timeout: 300_000 }).then((m) => m.text());
}

/** The keys of the GPUs this profile has seen run the network correctly (IndexedDB). */
export function gpuPasses(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('bgone-gpu-passes');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const database = open.result;
      const request = database.transaction('passes').objectStore('passes').getAllKeys();
      request.onsuccess = () => { database.close(); resolve(request.result); };
      request.onerror = () => reject(request.error);
    };
  }));
}

/** Waits for the page to be ready and returns the engine it chose. */
export async function ready(page) {
  await page.locator('[data-testid="status"][data-state="ready"]').waitFor();
  return (await page.locator('[data-testid="engine"]').textContent()).trim();
}

/** Hands the photo `photo` (a fixture's name or a path) to the page under `name` and waits (checking every 50 ms) until
 *  its item is done or failed. For the benchmark's tools; the tests wait through locators. */
export async function cutOut(page, photo, name = photo) {
  const mimeType = photo.endsWith('.jpg') ? 'image/jpeg' : 'image/png';
  await page.locator('[data-testid="file-input"]').setInputFiles({ name, mimeType, buffer: readFileSync(resolve(photos, photo)) });
  await page.waitForFunction(
    (name) => ['done', 'error'].includes(document.querySelector(`[data-testid="item"][data-name="${name}"]`)?.dataset.state),
    name, { polling: 50 },
  );
}

/** One visit of the CPU engine in `context`: a new page at `url`'s app, one cutout of `photo`
 *  (under `name`), and the page closed; with `offline`, after the model is ready offline. For
 *  the benchmark's tools, which install a profile this way before what they measure. */
export async function visitOnce(context, url, photo, name, { offline = false, query = '?engine=cpu' } = {}) {
  const page = await context.newPage();
  await page.goto(`${url}/${query}`);
  await cutOut(page, photo, name);
  if (offline) await page.locator('[data-testid="offline-ready"][data-state="yes"]').waitFor();
  await page.close();
}

/** The bytes behind an item's result `<img>`: exactly the PNG a user downloads. */
export async function resultPng(page, name) {
  const item = page.locator(`[data-testid="item"][data-name="${name}"]`);
  await item.and(page.locator('[data-state="done"]')).waitFor();
  const src = await item.locator('[data-testid="result"]').getAttribute('src');
  const bytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), src);
  return PNG.sync.read(Buffer.from(bytes));
}

/** Alpha (RGBA PNG) or grey (grayscale PNG) as 0..1 floats. */
export function channel(png, index) {
  const out = new Float32Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * 4 + index] / 255;
  return out;
}

/** Every warning and error `page` logs (the page, its workers and theirs) from now on, as
 *  "type: text", in a list that fills as they come. */
export function consoleComplaints(page) {
  const complaints = [];
  page.on('console', (m) => { if (['warning', 'error'].includes(m.type())) complaints.push(`${m.type()}: ${m.text()}`); });
  return complaints;
}

/** The middle value (the lower of the two middle ones for an even count), or null for none. */
export function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[(sorted.length - 1) >> 1] : null;
}

export function meanAbsDiff(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

export function iou(a, b) {
  let both = 0, either = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] >= 0.5, y = b[i] >= 0.5;
    if (x && y) both++;
    if (x || y) either++;
  }
  return either === 0 ? 1 : both / either;
}

/** The native CLI's mask for a photo, as 0..1 floats (the CLI shares the removal core). */
export function nativeMask(photo, size) {
  const out = mkdtempSync(join(tmpdir(), 'bgone-native-'));
  // The CLI the native tests built (tests/run.sh sets BGONE_BIN to it).
  const target = process.env.CARGO_TARGET_DIR ?? join(process.env.BGONE_CACHE ?? join(homedir(), '.cache', 'bgone'), 'target');
  const bin = process.env.BGONE_BIN ?? join(target, 'native-tests', 'bgone');
  const model = join(repo, 'models', 'generated', 'isnet-medium.json');
  const args = [join(photos, photo), '-o', out, '--mask', '--engine', 'cpu', '-q', '--model', model];
  if (size) args.push('--size', String(size));
  execFileSync(bin, args, { stdio: 'inherit' });
  const png = PNG.sync.read(readFileSync(join(out, photo.replace(/\.[^.]+$/, '.png'))));
  return channel(png, 0);
}


/** Every process, from /proc: pid -> { parent, cmdline }. */
export function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      // The command name in /proc/PID/stat may hold spaces; the fields after its ')' do not.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(name), { parent, cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8') });
    } catch { /* the process ended meanwhile */ }
  }
  return table;
}

/** CPU time so far, in ms (USER_HZ ticks of 10 ms), of every thread of every Chromium process on
 *  this machine: "pid/tid" -> { type (the process type, "browser" for the browser process), pid,
 *  name (the thread's), ms }. For the benchmark's probes of where CPU time goes. */
export function chromiumThreadCpu() {
  const threads = new Map();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('chromium')) continue;
      const type = /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? 'browser';
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        threads.set(`${pid}/${tid}`, { type, pid, name, ms: (Number(fields[11]) + Number(fields[12])) * 10 });
      }
    } catch { /* the process or thread ended meanwhile */ }
  }
  return threads;
}

/** Whether process `pid` is `rootPid` or below it, in a `processTable()`. */
export function descends(table, pid, rootPid) {
  for (let p = pid; p > 1; p = table.get(p)?.parent) if (p === rootPid) return true;
  return false;
}

/** CPU milliseconds so far of the Chromium threads this process started, summed by "process
 *  type / thread name" (numbers dropped from the name, so a pool's threads add up). */
export function chromiumCpuByThread() {
  const table = processTable();
  const totals = new Map();
  for (const { type, pid, name, ms } of chromiumThreadCpu().values()) {
    if (!descends(table, Number(pid), process.pid)) continue;
    const key = `${type} / ${name.replace(/[0-9]+$/, '').trim()}`;
    totals.set(key, (totals.get(key) ?? 0) + ms);
  }
  return totals;
}

/** Memory of the Chromium renderer processes below `rootPid` (the page and its workers live
 *  there), in KiB: the sum of their VmRSS, and the largest VmHWM. Read from /proc, since CDP
 *  reports no process memory. */
export function rendererKib(rootPid) {
  const table = processTable();
  let rss = 0, hwm = 0;
  for (const [pid, { cmdline }] of table) {
    if (!cmdline.includes('--type=renderer') || !descends(table, pid, rootPid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
      hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(status)[1]));
    } catch { /* the process ended meanwhile */ }
  }
  return { rss, hwm };
}

/** Resident memory (MiB) of the renderers of every browser this test process started. */
export function rendererRssMib() {
  return rendererKib(process.pid).rss / 1024;
}

/** The two CPU engines, for tests that run on each: the threaded one, where the page is
 *  cross-origin isolated (`serve()`), and the one-thread one, on a host that sends no isolation
 *  headers (`serve(dist, { isolated: false })`), on a first visit before the service worker adds them. */
export const CPU_ENGINES = [
  { isolated: true, engine: 'the threaded CPU engine' },
  { isolated: false, engine: 'on a host without isolation headers, the one-thread CPU engine' },
];

/** A flat-coloured RGB PNG of `width` x `height` with a red ellipse in the middle. */
export function syntheticPng(width, height) {
  const png = new PNG({ width, height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inside = (x - width / 2) ** 2 / (width * width / 16) + (y - height / 2) ** 2 / (height * height / 9) < 1;
      png.data[i] = inside ? 200 : 20;
      png.data[i + 1] = inside ? 40 : 140;
      png.data[i + 2] = inside ? 40 : 220;
    }
  }
  return PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, deflateLevel: 1 });
}

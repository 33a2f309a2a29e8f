// The service worker precaches what its browser can run, decided as its install runs here in
// Node's V8: the one build of the threaded CPU worker its WebAssembly validates (Node 20 lacks
// relaxed SIMD, as Safari and Firefox before 146 do; Chromium has it, app.test.mjs checks that
// side), and the main worker (WebGPU, and the CPU on one thread) only where a page could start it:
// a browser without cross-origin isolation, or with a WebGPU adapter, or where a page asked for it
// to be kept (its threaded CPU worker could not start there, so it runs the main one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { dist } from './harness.mjs';

/** dist/sw.js loaded into a fresh V8 context with an in-memory Cache Storage (`stores`: cache
 *  name -> Map of path -> Response, where an earlier version's cache can wait) and a fetch that
 *  answers every shell file (or fails, while `network.offline`), in a browser that supports
 *  cross-origin `isolation` or not (a service worker of one that does has `crossOriginIsolated`,
 *  false in Firefox's) and whose `navigator.gpu.requestAdapter()` gives `adapter` (no
 *  `navigator.gpu` at all if undefined; no answer ever if 'never'). */
function load({ isolation = false, adapter, stores = new Map() } = {}) {
  const handlers = {};
  const fetched = [];
  const network = { offline: false };
  const open = (name) => {
    if (!stores.has(name)) stores.set(name, new Map());
    const entries = stores.get(name);
    return { put: async (path, response) => { entries.set(path, response); }, match: async (path) => entries.get(path)?.clone() };
  };
  const requestAdapter = adapter === 'never' ? () => new Promise(() => {}) : async () => adapter;
  const navigator = adapter === undefined ? {} : { gpu: { requestAdapter } };
  const context = {
    self: { addEventListener: (type, handler) => { handlers[type] = handler; }, location: { origin: 'http://localhost' }, navigator, ...(isolation ? { crossOriginIsolated: false } : {}) },
    caches: { open: async (name) => open(name), keys: async () => [...stores.keys()] },
    fetch: async (request) => {
      if (network.offline) throw new TypeError('Failed to fetch');
      fetched.push(new URL(request.url).pathname);
      return new Response('', { status: 200 });
    },
    Request: class { constructor(url) { this.url = new URL(url, 'http://localhost').href; } },
    Response, Headers, URL, WebAssembly, console, setTimeout, clearTimeout,
  };
  const source = readFileSync(join(dist, 'sw.js'), 'utf8');
  vm.runInNewContext(source, context);
  const shellCache = `bgone-shell-${/const BUILD = "([^"]+)"/.exec(source)[1]}`;
  const shell = JSON.parse(/const SHELL = (\[.*\]);/.exec(source)[1]);
  /** A page's message and the worker's reply (an error if none comes within 10 s). */
  const ask = (type) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service worker did not answer '${type}'`)), 10_000);
    handlers.message({ data: { type }, ports: [{ postMessage: (reply) => { clearTimeout(timer); resolve(reply); } }], waitUntil: () => {} });
  });
  /** The shell files this version's cache holds, and its record of the ones it should. */
  const contents = async () => {
    const cache = open(shellCache);
    const record = await (await cache.match('/.bgone-precached.json')).json();
    const stored = [...stores.get(shellCache).keys()].filter((path) => path !== '/.bgone-precached.json').sort();
    return { stored, record: [...record].sort() };
  };
  const install = async () => {
    let work;
    handlers.install({ waitUntil: (promise) => { work = promise; } });
    await work;
  };
  return { install, ask, contents, fetched, network, shell };
}

/** Runs the install; returns the paths it fetched, the shell files it stored, its record of
 *  them, and the status it then reports to a page. */
async function install(browser) {
  const worker = load(browser);
  await worker.install();
  const status = await worker.ask('status');
  return { fetched: worker.fetched.sort(), ...(await worker.contents()), status, shell: worker.shell };
}

const MAIN_WORKER = ['/bgone-worker.js', '/bgone-worker_bg.wasm', '/bgone-worker_loader.js'];

test('the service worker precaches the CPU worker build this engine validates, and only that one', async () => {
  const { fetched, stored, shell } = await install();
  const validates = (file) => WebAssembly.validate(readFileSync(join(dist, file)));
  const relaxed = validates('bgone-cpu-worker_bg.wasm');
  const portable = validates('bgone-cpu-worker-portable_bg.wasm');
  console.log(`this engine validates the relaxed-SIMD build: ${relaxed}, the portable one: ${portable}`);
  assert.ok(portable, 'the portable build uses something this engine lacks');
  const other = relaxed ? '/bgone-cpu-worker-portable' : '/bgone-cpu-worker';
  const own = relaxed ? '/bgone-cpu-worker' : '/bgone-cpu-worker-portable';
  const isOther = (path) => path.startsWith(other) && (relaxed || !path.startsWith('/bgone-cpu-worker-portable'));
  assert.deepEqual(stored, fetched);
  assert.deepEqual(stored, shell.filter((path) => !isOther(path)));
  for (const suffix of ['.js', '_bg.wasm', '_loader.js']) {
    assert.ok(stored.includes(`${own}${suffix}`), `${own}${suffix} is not precached`);
    assert.ok(shell.includes(`${other}${suffix}`) && !stored.includes(`${other}${suffix}`), `${other}${suffix} is precached`);
  }
});

test('the main worker is precached only where a page could start it: no isolation, or a WebGPU adapter', async () => {
  const cases = [
    ['no cross-origin isolation', { isolation: false }, true],
    ['isolation, no WebGPU', { isolation: true }, false],
    ['isolation, WebGPU without an adapter', { isolation: true, adapter: null }, false],
    ['isolation, a WebGPU adapter', { isolation: true, adapter: {} }, true],
    // An install must not wait for ever on an adapter request that never answers.
    ['isolation, no answer from WebGPU', { isolation: true, adapter: 'never' }, true],
  ];
  for (const [label, worker, expected] of cases) {
    const { fetched, stored, record, status, shell } = await install(worker);
    const main = MAIN_WORKER.filter((path) => stored.includes(path));
    console.log(`${label}: ${stored.length} of ${shell.length} shell files stored, main worker ${main.length ? 'among them' : 'not'}`);
    for (const path of MAIN_WORKER) assert.ok(shell.includes(path), `${path} is not a shell file`);
    assert.deepEqual(main, expected ? MAIN_WORKER : [], label);
    assert.deepEqual(stored, fetched, label);
    // The status checks what the install stored, by its record, and finds it complete.
    assert.deepEqual(record, stored, label);
    assert.deepEqual([status.files, status.missing, status.complete], [stored.length, 0, true], label);
  }
});

test('a page whose threaded CPU worker cannot start gets the main worker it runs instead kept for offline use, by this version and the next', async () => {
  // A browser with isolation and no WebGPU adapter: the install leaves the main worker out.
  const stores = new Map();
  const worker = load({ isolation: true, adapter: null, stores });
  await worker.install();
  const before = await worker.contents();
  assert.deepEqual(MAIN_WORKER.filter((path) => before.stored.includes(path)), []);

  // Asked while offline: nothing to fetch it with, so the status says its files are missing.
  worker.network.offline = true;
  const offline = await worker.ask('keep-main-worker');
  assert.deepEqual([offline.missing, offline.complete], [MAIN_WORKER.length, false]);

  // Asked online: its files are fetched and stored, and the record lists them.
  worker.network.offline = false;
  const fetchedBefore = worker.fetched.length;
  const kept = await worker.ask('keep-main-worker');
  const after = await worker.contents();
  assert.deepEqual(worker.fetched.slice(fetchedBefore).sort(), MAIN_WORKER);
  assert.deepEqual(after.stored, [...before.stored, ...MAIN_WORKER].sort());
  assert.deepEqual(after.record, after.stored);
  assert.deepEqual([kept.files, kept.missing, kept.complete], [after.stored.length, 0, true]);
  // Asked again (every visit that falls back asks): nothing fetched again.
  const again = await worker.ask('keep-main-worker');
  assert.equal(worker.fetched.length, fetchedBefore + MAIN_WORKER.length);
  assert.equal(again.complete, true);
  console.log(`kept: ${after.stored.length} shell files stored, the main worker among them`);

  // The next version (its own cache; this one's is still there as it installs) keeps it too.
  const next = await install({ isolation: true, adapter: null, stores: new Map([['bgone-shell-older', stores.get([...stores.keys()][0])]]) });
  assert.deepEqual(MAIN_WORKER.filter((path) => next.stored.includes(path)), MAIN_WORKER);
  assert.deepEqual([next.status.missing, next.status.complete], [0, true]);
});

// The service worker precaches what its browser can run, decided as its install runs here in
// Node's V8: the one build of the threaded CPU worker its WebAssembly validates (Node 20 lacks
// relaxed SIMD, as Safari and Firefox before 146 do; Chromium has it, app.test.mjs checks that
// side), and the main worker (WebGPU, and the CPU on one thread) only where a page could start it:
// a browser without cross-origin isolation, or with a WebGPU adapter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { dist } from './harness.mjs';

/** Runs dist/sw.js's install handler against an in-memory Cache Storage and a fetch that answers
 *  every shell file, in a browser that supports cross-origin `isolation` or not (a service worker
 *  of one that does has `crossOriginIsolated`, false in Firefox's) and whose
 *  `navigator.gpu.requestAdapter()` gives `adapter` (no `navigator.gpu` at all if undefined; no
 *  answer ever if 'never');
 *  returns the paths it fetched, the shell files it stored, its record of them, and the status it
 *  then reports to a page. */
async function install({ isolation = false, adapter } = {}) {
  const handlers = {};
  const fetched = [];
  const entries = new Map();
  const cache = { put: async (path, response) => { entries.set(path, response); }, match: async (path) => entries.get(path)?.clone() };
  const requestAdapter = adapter === 'never' ? () => new Promise(() => {}) : async () => adapter;
  const navigator = adapter === undefined ? {} : { gpu: { requestAdapter } };
  const context = {
    self: { addEventListener: (type, handler) => { handlers[type] = handler; }, location: { origin: 'http://localhost' }, navigator, ...(isolation ? { crossOriginIsolated: false } : {}) },
    caches: { open: async () => cache },
    fetch: async (request) => { fetched.push(new URL(request.url).pathname); return new Response('', { status: 200 }); },
    Request: class { constructor(url) { this.url = new URL(url, 'http://localhost').href; } },
    Response, Headers, URL, WebAssembly, console, setTimeout, clearTimeout,
  };
  vm.runInNewContext(readFileSync(join(dist, 'sw.js'), 'utf8'), context);
  let work;
  handlers.install({ waitUntil: (promise) => { work = promise; } });
  await work;
  const record = await (await cache.match('/.bgone-precached.json')).json();
  const status = await new Promise((resolve) => {
    handlers.message({ data: { type: 'status' }, ports: [{ postMessage: resolve }], waitUntil: () => {} });
  });
  const shell = JSON.parse(/const SHELL = (\[.*\]);/.exec(readFileSync(join(dist, 'sw.js'), 'utf8'))[1]);
  const stored = [...entries.keys()].filter((path) => path !== '/.bgone-precached.json').sort();
  return { fetched: fetched.sort(), stored, record: [...record].sort(), status, shell };
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

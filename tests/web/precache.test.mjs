// The service worker precaches the one build of the threaded CPU worker its browser can run. Its
// install handler runs here in Node's V8, whose WebAssembly decides as a browser's would: Node 20
// lacks relaxed SIMD (as Safari and Firefox before 146 do), Chromium has it (app.test.mjs checks
// that side).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';
import { dist } from './harness.mjs';

/** Runs dist/sw.js's install handler against an in-memory Cache Storage and a fetch that answers
 *  every shell file; returns the paths it fetched and the paths it stored. */
async function install() {
  const handlers = {};
  const fetched = [];
  const stored = [];
  const cache = { put: async (path) => { stored.push(path); }, match: async () => undefined };
  const context = {
    self: { addEventListener: (type, handler) => { handlers[type] = handler; }, location: { origin: 'http://localhost' } },
    caches: { open: async () => cache },
    fetch: async (request) => { fetched.push(new URL(request.url).pathname); return new Response('', { status: 200 }); },
    Request: class { constructor(url) { this.url = new URL(url, 'http://localhost').href; } },
    Response, Headers, URL, WebAssembly, console,
  };
  vm.runInNewContext(readFileSync(join(dist, 'sw.js'), 'utf8'), context);
  let work;
  handlers.install({ waitUntil: (promise) => { work = promise; } });
  await work;
  const shell = JSON.parse(/const SHELL = (\[.*\]);/.exec(readFileSync(join(dist, 'sw.js'), 'utf8'))[1]);
  return { fetched: fetched.sort(), stored: stored.sort(), shell };
}

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

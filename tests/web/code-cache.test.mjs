// Compiled code kept, in two ways. The threaded CPU worker's WebAssembly (7.8 MB) comes from
// Chromium's code cache on a return visit, so the first cutout after a start does not compile it
// again; and a worker the page starts again takes the module the page compiled for the first one,
// with what V8 compiled and optimised in it. Chromium keeps compiled code
// beside a Cache Storage entry only when the service worker answers with that entry itself (a
// `new Response` it makes gets no code cache), which is what sw.js must keep doing.
//
// When Chromium writes that cache is V8's choice: after 1 MB of optimised code, or 2 s after the
// last optimising compile; that timer is put off by every function optimised while it runs
// (tests/bench/timer-probe.mjs), and a cutout makes 0.3-0.6 MB. The test has V8 write it at every
// optimising compile (--wasm-caching-timeout-ms=0), so what it checks is our side: that the
// worker's module is eligible, written, and read back on the next visit in the same browser.
// (After a browser restart Chromium has it only if the service worker stopped before the
// browser closed: tests/bench/restart-cache-probe.mjs; README, The web app.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serve, browser, cutOut, traced, ready } from './harness.mjs';

const server = await serve();
after(() => server.close());
const WORKER_WASM = /bgone-cpu-worker_bg\.wasm$/;

/** Runs `work` on `page` while Chromium's wasm trace records; returns `count(name, url)`, which
 *  counts its events of that name (for a module at a matching URL). */
async function counted(context, page, work) {
  const events = await traced(context, page, ['v8.wasm', 'disabled-by-default-devtools.timeline'], work);
  return (event, url = /./) => events.filter((e) => e.name === event && url.test(e.args?.url ?? e.name)).length;
}

/** Opens the app on the CPU engine and cuts out one photo, traced (`counted`). */
async function visit(context, name) {
  const page = await context.newPage();
  let state;
  const count = await counted(context, page, async () => {
    await page.goto(`${server.url}/?engine=cpu`);
    await cutOut(page, 'chelsea.png', name);
    state = await page.locator(`[data-testid="item"][data-name="${name}"]`).getAttribute('data-state');
    // The cache entry is written after the optimising compiles, off the page's thread.
    await page.waitForTimeout(2000);
  });
  await page.close();
  return { state, count };
}

test("a return visit takes the CPU worker's compiled WebAssembly from Chromium's code cache", async () => {
  const { context, close } = await browser({ jsFlags: '--wasm-caching-timeout-ms=0' });
  try {
    const first = await visit(context, 'first.png');
    assert.equal(first.state, 'done');
    assert.ok(first.count('v8.wasm.cachedModule') > 0, 'the first visit wrote no compiled module to the code cache');
    // The first visit installs the service worker: the second is the one it serves from Cache Storage.
    const second = await visit(context, 'second.png');
    assert.equal(second.state, 'done');
    assert.ok(second.count('v8.wasm.cachedModule') > 0, 'the visit served by the service worker wrote no compiled module');
    const third = await visit(context, 'third.png');
    assert.equal(third.state, 'done');
    const hits = third.count('v8.wasm.moduleCacheHit', WORKER_WASM);
    const deserialised = third.count('wasm.Deserialize');
    console.log(`return visit: ${hits} code-cache hit(s) for the CPU worker's module, ${deserialised} deserialisation(s), ${third.count('wasm.CompileLazy')} functions compiled lazily (first visit ${first.count('wasm.CompileLazy')})`);
    assert.ok(hits >= 1, "the CPU worker's module was compiled again, not taken from the code cache");
    assert.ok(deserialised >= 1, 'no module was deserialised');
  } finally {
    await close();
  }
});

test('the CPU worker started again after another engine ran takes the code compiled and optimised for the first one', async () => {
  // With WebGPU (SwiftShader), so that the other engine is the GPU's: where the GPU fails, the
  // page runs the threaded CPU worker again instead (src/app/gpu_fallback.rs). At 64, to keep the
  // GPU's pass short.
  const { context, close } = await browser({ webgpu: true });
  try {
    const page = await context.newPage();
    const threaded = () => page.workers().some((w) => w.url().includes('bgone-cpu-worker_loader'));
    const engine = page.getByLabel('Engine setting');
    const first = await counted(context, page, async () => {
      await page.goto(`${server.url}/?engine=cpu&size=64`);
      assert.equal(await ready(page), 'cpu');
      await cutOut(page, 'chelsea.png', 'first.png');
    });
    assert.ok(threaded(), 'the threaded CPU worker should have cut out the first photo');
    // The GPU setting starts the main worker; the threaded worker, the only other holder of its
    // module, is ended.
    await engine.selectOption('webgpu');
    await cutOut(page, 'chelsea.png', 'between.png');
    assert.equal((await page.locator('[data-testid="engine"]').textContent()).trim(), 'webgpu');
    for (let waited = 0; threaded() && waited < 10000; waited += 100) await page.waitForTimeout(100);
    assert.ok(!threaded(), 'the threaded CPU worker should have ended');
    const again = await counted(context, page, async () => {
      await engine.selectOption('cpu');
      await cutOut(page, 'chelsea.png', 'again.png');
    });
    assert.ok(threaded(), 'the threaded CPU worker should have cut out the last photo');
    console.log(`first threaded worker: ${first('wasm.CompileLazy')} functions compiled, ${first('wasm.TopTierCompilation')} optimised; ` +
      `the one started after the other engine: ${again('wasm.CompileLazy')} compiled, ${again('wasm.TopTierCompilation')} optimised`);
    assert.ok(first('wasm.CompileLazy') > 500, 'the first worker compiled its engine: the trace should show it');
    // Compiled in that worker, the module ended with it: the new one compiled ~1000 functions again.
    assert.ok(again('wasm.CompileLazy') < first('wasm.CompileLazy') / 10, 'the worker started again compiled the engine again');
  } finally {
    await close();
  }
});

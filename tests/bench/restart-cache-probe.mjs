// Whether the CPU worker's compiled WebAssembly survives a browser restart. A fresh profile
// visits the app twice (the second visit served by the service worker from Cache Storage), the
// browser is closed WAIT ms later (default 1000), and it is started again on the same profile
// RESTARTS times (default 3), one traced visit each, closed the same way. With STOP_SW=1 the
// service workers are stopped before each close, as Chromium stops an idle one 30 s after its
// last event. Prints per visit the code-cache hits and the compiled modules Chromium stored, and
// after the first close whether each side-data stream of the app's Cache Storage entries (where
// compiled code is kept) ends with the disk cache's end-of-stream record; one without it is
// dropped when the browser starts again. V8 writes its cache at every optimising compile unless
// JS_FLAGS says otherwise (`JS_FLAGS=` for V8's own rules). A tool, not a test:
//   STOP_SW=1 node tests/bench/restart-cache-probe.mjs   (dist/ as built; BGONE_DIST=path; SIZE=1024)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, cutOut, traced, dist, stopServiceWorkers } from '../web/harness.mjs';

const server = await serve(dist);
const jsFlags = process.env.JS_FLAGS ?? '--wasm-caching-timeout-ms=0';
const url = `${server.url}/?engine=cpu&size=${process.env.SIZE ?? 256}`;
let { context, close, profile } = await browser({ jsFlags });

async function visit(label) {
  const page = await context.newPage();
  const events = await traced(context, page, ['v8.wasm', 'disabled-by-default-devtools.timeline'], async () => {
    await page.goto(url);
    await cutOut(page, 'chelsea.png', `${label}.png`);
    await page.waitForTimeout(2000);
  });
  await page.close();
  const named = (name) => events.filter((e) => e.name === name);
  const hits = named('v8.wasm.moduleCacheHit').map((e) => e.args.url.split('/').pop());
  const stored = named('v8.wasm.cachedModule').map((e) => e.args.producedCacheSize);
  console.log(`${label}: code-cache hits: ${hits.join(', ') || 'none'}; modules stored: ${stored.length} (largest ${Math.max(0, ...stored)} bytes)`);
}

async function closeBrowser() {
  if (process.env.STOP_SW) await stopServiceWorkers(context);
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.WAIT ?? 1000)));
  await close({ keepProfile: true });
}

/** The simple disk cache keeps an entry's stream 2 (Cache Storage's side data) in its `_1` file,
 *  ended by a 24-byte record that starts with this magic number; it is written when the entry
 *  closes. */
const END_OF_STREAM = Buffer.from('d8410d97456ffaf4', 'hex');
function sideData() {
  const root = join(profile, 'Default', 'Service Worker', 'CacheStorage');
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const files = walk(root).filter((f) => f.endsWith('_1')).map((f) => {
    const bytes = readFileSync(f);
    return { size: bytes.length, ended: bytes.subarray(bytes.length - 24, bytes.length - 16).equals(END_OF_STREAM) };
  }).sort((a, b) => b.size - a.size);
  console.log(`side-data streams on disk: ${files.map((f) => `${f.size} bytes ${f.ended ? 'ended' : 'NOT ended'}`).join(', ')}`);
}

await visit('first visit');
await visit('second visit');
await closeBrowser();
sideData();
for (let round = 1; round <= Number(process.env.RESTARTS ?? 3); round++) {
  ({ context, close } = await browser({ jsFlags, profile }));
  await visit(`restart ${round}`);
  await closeBrowser();
}
await close();
await server.close();

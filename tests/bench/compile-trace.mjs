// What V8 compiles on a return visit: a fresh profile opens the app on the CPU engine and cuts out
// a photo, the page closes, VISITS more visits do the same (default 0), and the next visit is
// traced (Chrome's tracing, categories v8.wasm) while it cuts out the photo. Prints the worker's
// console lines, when each optimising ("top tier") compile ran (ms from the trace's start, +its
// duration), and the wasm trace events by total time. A module taken from the code cache would
// show as a deserialisation and no baseline compiles. A tool for investigating the first cutout
// after a start, not a test. IDLE=ms keeps tracing that long after the cutout; the "caching" lines
// show when V8 handed a module's optimised code to Chromium's code cache and when a module was
// taken from it. RESTART=1 starts the browser again (same profile) before the traced visit, as a
// user who comes back another day. Each optimising compile's function and time:
// JS_FLAGS=--trace-wasm-compilation-times DEBUG=pw:browser (V8 prints them to the renderer's
// stdout; function numbers, as the release build has no names):
//   VISITS=1 node tests/bench/compile-trace.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, visitOnce, traced, dist } from '../web/harness.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const server = await serve(dist);
let { context, close, profile } = await browser();
const pause = () => new Promise((resolve) => setTimeout(resolve, 3000));

for (let visit = 0; visit <= Number(process.env.VISITS ?? 0); visit++) {
  await visitOnce(context, server.url, photo, `visit-${visit}-${photo}`);
  await pause();
}

if (process.env.RESTART) {
  await close({ keepProfile: true });
  ({ context, close } = await browser({ profile }));
}
const page = await context.newPage();
page.on('console', (m) => { if (m.text().startsWith('bgone')) console.log(`  ${m.text().slice(0, 300)}`); });
const events = await traced(context, page, ['v8.wasm', 'disabled-by-default-v8.wasm.detailed', 'disabled-by-default-devtools.timeline'], async () => {
  await page.goto(`${server.url}/?engine=cpu`);
  await cutOut(page, photo, `traced-${photo}`);
  await page.waitForTimeout(Number(process.env.IDLE ?? 0));
});

const start = Math.min(...events.filter((e) => e.ts > 0).map((e) => e.ts));
const ms = (us) => (us / 1000).toFixed(0);
const topTier = events.filter((e) => e.name === 'wasm.TopTierCompilation');
console.log(`optimising compiles (ms from the trace's start +duration): ${topTier.map((e) => `${ms(e.ts - start)}+${ms(e.dur ?? 0)}`).join(' ')}`);
console.log(`${topTier.length} optimising compiles, ${ms(topTier.reduce((sum, e) => sum + (e.dur ?? 0), 0))} ms in all`);
const totals = new Map();
for (const e of events.filter((e) => /wasm/i.test(e.name))) {
  const t = totals.get(e.name) ?? { count: 0, ms: 0 };
  totals.set(e.name, { count: t.count + 1, ms: t.ms + (e.dur ?? 0) / 1000 });
}
for (const [name, t] of [...totals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
  console.log(`${name}: ${t.count} events, ${t.ms.toFixed(1)} ms`);
}
for (const e of events.filter((e) => /CompilationChunkFinished|compiledModule|cachedModule|moduleCacheHit/.test(e.name)).sort((a, b) => a.ts - b.ts)) {
  console.log(`caching: ${ms(e.ts - start)} ms ${e.name} ${JSON.stringify(e.args ?? {})}`);
}
await close();
await server.close();

// Where a warm cutout's CPU time goes, by function, in every thread of the renderer (the page,
// the worker and its pool): Chrome's sampling profiler over one cutout (tracing category
// disabled-by-default-v8.cpu_profiler), after one cutout to warm up. Prints the functions with
// the most self time. WebAssembly functions show by name only in a build that keeps Rust's
// names (`strip = "none"` for bgone-web in Cargo.toml's release profile). A tool, not a test:
//   node tests/bench/wasm-profile.mjs [photo] [top]   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, ready, traced, dist } from '../web/harness.mjs';
import { threadProfiles } from './cpu-profiles.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const top = Number(process.argv[3] ?? 40);
const server = await serve(dist);
const { context, close } = await browser();
const page = await context.newPage();
await page.goto(`${server.url}/?engine=cpu`);
await ready(page);
await cutOut(page, photo, 'warm-up.png');
const events = await traced(context, page, ['disabled-by-default-v8.cpu_profiler'], () => cutOut(page, photo, 'profiled.png'));

// A sample's time is the delta before it.
const profiles = threadProfiles(events);
const byFunction = new Map();
let total = 0;
for (const profile of profiles) {
  const self = new Map();
  for (const { id, delta } of profile.samples) self.set(id, (self.get(id) ?? 0) + delta);
  for (const [id, micros] of self) {
    const frame = profile.nodes.get(id);
    const name = frame ? frame.functionName || '(anonymous)' : `node ${id}`;
    if (['(idle)', '(program)', '(garbage collector)'].includes(name)) continue;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    total += micros;
  }
}
console.log(`${profiles.length} threads profiled; ${(total / 1000).toFixed(0)} ms of samples outside idle`);
for (const [name, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(micros / 1000).toFixed(1).padStart(8)} ms ${((100 * micros) / total).toFixed(1).padStart(5)}%  ${name.slice(0, 160)}`);
}
await close();
await server.close();

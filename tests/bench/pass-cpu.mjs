// The CPU time a same-browser return visit spends beyond a warm cutout, by thread: a fresh
// profile is installed by one visit (the CPU engine, a cutout), then VISITS times (default 3),
// WAIT ms (default 3000) after the last page closed, a new page opens and cuts out the photo
// twice. For each visit it prints the first cutout's time from the navigation and the second's;
// then the CPU time (from /proc, in ticks of 10 ms) of every Chromium thread over the first
// cutout (the navigation and start-up included) and over the second, summed over the visits and
// grouped by process type and thread name, with the difference: the start-up's work and whatever
// else ran beside the first pass. ENGINE=webgpu (SwiftShader; with SIZE=64, say) measures the
// WebGPU worker instead: its thread's extra is the kernels' compiling to WGSL, the GPU process's
// SwiftShader's. A tool, not a test:
//   VISITS=4 node tests/bench/pass-cpu.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, visitOnce, dist, chromiumCpuByThread as cpuByThread } from '../web/harness.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const query = `?engine=${process.env.ENGINE ?? 'cpu'}${process.env.SIZE ? `&size=${process.env.SIZE}` : ''}`;
const server = await serve(dist);
const { context, close } = await browser({ webgpu: process.env.ENGINE === 'webgpu' });

/** Adds what each thread used between `before` and `after` to `sums`. */
function addUse(sums, before, after) {
  for (const [key, ms] of after) sums.set(key, (sums.get(key) ?? 0) + ms - (before.get(key) ?? 0));
}

await visitOnce(context, server.url, photo, `install-${photo}`, { query });
const [first, second] = [new Map(), new Map()];
for (let visit = 0; visit < Number(process.env.VISITS ?? 3); visit++) {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.WAIT ?? 3000)));
  const page = await context.newPage();
  const [c0, t0] = [cpuByThread(), performance.now()];
  await page.goto(`${server.url}/${query}`);
  await cutOut(page, photo, `first-${visit}-${photo}`);
  const [c1, t1] = [cpuByThread(), performance.now()];
  await cutOut(page, photo, `second-${visit}-${photo}`);
  const [c2, t2] = [cpuByThread(), performance.now()];
  await page.close();
  console.log(`visit ${visit + 1}: first cutout ${(t1 - t0).toFixed(0)} ms from the navigation, the second ${(t2 - t1).toFixed(0)} ms, ${((t1 - t0) / (t2 - t1)).toFixed(2)}x`);
  addUse(first, c0, c1);
  addUse(second, c1, c2);
}
await close();
await server.close();

console.log('\nCPU ms, summed over the visits: first cutout (from the navigation), second, difference');
const extra = (key) => (first.get(key) ?? 0) - (second.get(key) ?? 0);
const keys = [...new Set([...first.keys(), ...second.keys()])].sort((a, b) => extra(b) - extra(a));
const row = (a, b, name) => console.log(`${String(a).padStart(7)} ${String(b).padStart(7)} ${String(a - b).padStart(7)}  ${name}`);
for (const key of keys) if (first.get(key) || second.get(key)) row(first.get(key) ?? 0, second.get(key) ?? 0, key);
const sum = (m) => [...m.values()].reduce((a, b) => a + b, 0);
row(sum(first), sum(second), 'all threads');

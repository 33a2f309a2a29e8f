// The CPU time of every browser thread per cutout: opens the app on the CPU engine, cuts out the
// photo PASSES times (default 4) and after each prints the threads that used the most CPU during
// it (from /proc: process type, pid and thread name), then what ran in the GAP ms (default 0)
// before the next. A tool for investigating the timings of bench.mjs, not a test:
//   GAP=2000 RETURN=1 node tests/bench/threads-probe.mjs [photo] [passes]   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, dist, chromiumThreadCpu as cpuTicks } from '../web/harness.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const passes = Number(process.argv[3] ?? 4);
const gap = Number(process.env.GAP ?? 0);
const server = await serve(dist);
const { context, close } = await browser();

function busiest(before, after) {
  const used = [...after].map(([id, { type, pid, name, ms }]) => [`${type}:${pid}:${name}`, ms - (before.get(id)?.ms ?? 0)]).filter(([, ms]) => ms > 20);
  return used.sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, ms]) => `${name} ${(ms / 1000).toFixed(2)} s`).join(', ') || 'nothing';
}

// RETURN=1: a first visit cuts the photo out once and closes, and 3 s later the measured visit
// opens in the same profile (model from the cache); its first cutout counts from the navigation.
if (process.env.RETURN) {
  const first = await context.newPage();
  await first.goto(`${server.url}/?engine=cpu`);
  await cutOut(first, photo, `first-${photo}`);
  await first.close();
  await new Promise((resolve) => setTimeout(resolve, 3000));
}
const page = await context.newPage();
page.on('console', (m) => { if (m.text().startsWith('bgone')) console.log(`  ${m.text()}`); });
let before = cpuTicks();
let start = performance.now();
await page.goto(`${server.url}/?engine=cpu`);
for (let i = 0; i < passes; i++) {
  const name = `${i}-${photo}`;
  if (i > 0) {
    before = cpuTicks();
    start = performance.now();
  }
  await cutOut(page, photo, name);
  const done = cpuTicks();
  console.log(`cutout ${i + 1}: ${((performance.now() - start) / 1000).toFixed(2)} s; ${busiest(before, done)}`);
  await page.waitForTimeout(gap);
  if (gap) console.log(`  in the ${gap} ms after it: ${busiest(done, cpuTicks())}`);
}
await close();
await server.close();

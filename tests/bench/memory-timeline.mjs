// Where the app's memory goes over one session: samples the renderer's resident memory (page and
// workers) every 100 ms while a fresh profile opens the app on the CPU engine, cuts out the
// photos, then opens it again (the return visit), and prints the samples beside the worker's own
// console lines (which carry its WebAssembly memory). A tool for investigating the memory figure
// of bench.mjs, not a test:
//   node tests/bench/memory-timeline.mjs [photo ...]      (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, dist, rendererKib } from '../web/harness.mjs';
import { browserPids } from './memory.mjs';

const photos = process.argv.slice(2).length ? process.argv.slice(2) : ['astronaut.png', 'chelsea.png'];
const server = await serve(dist);
const before = browserPids();
const { context, close } = await browser();
const pid = [...browserPids()].find((p) => !before.has(p));
const t0 = performance.now();
const at = () => ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
let peak = 0;
let last = 0;
const timer = setInterval(() => {
  const { rss } = rendererKib(pid);
  const mib = rss / 1024;
  peak = Math.max(peak, mib);
  // Only changes of 20 MiB or more, to keep the listing short.
  if (Math.abs(mib - last) >= 20) { console.log(`${at()} s  renderers ${mib.toFixed(0)} MiB`); last = mib; }
}, 100);

async function visit(label) {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.text().startsWith('bgone')) console.log(`${at()} s  ${label}: ${m.text()}`); });
  console.log(`${at()} s  ${label}: open`);
  await page.goto(`${server.url}/?engine=cpu`);
  for (const [i, photo] of photos.entries()) {
    const name = `${label}-${i}-${photo}`;
    await cutOut(page, photo, name);
    console.log(`${at()} s  ${label}: ${photo} done`);
  }
  return page;
}

const first = await visit('first visit');
await first.close();
await visit('return visit');
clearInterval(timer);
console.log(`peak renderer memory ${peak.toFixed(0)} MiB`);
await close();
await server.close();

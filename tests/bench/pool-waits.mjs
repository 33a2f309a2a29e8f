// When the CPU engine's pool threads wait during a warm pass, and what the other threads run
// meanwhile: Chrome's sampling profiler over one cutout (as wasm-profile.mjs), after one cutout
// to warm up. The pass is the span from the first to the last sample in the convolutions'
// kernels; for each thread it prints the time sampled in the pass, in a condition variable's
// wait (a rayon thread with nothing to do, or waiting for a stolen job) and idle. Then, for each
// pool thread, what the other one was running while it waited (the three innermost of its
// frames from bgone, burn or rayon's join), with where the waiting thread waited. WebAssembly
// functions show by name only in a build that keeps Rust's names (`strip = "none"` for bgone-web
// in Cargo.toml's release profile). A tool, not a test:
//   node tests/bench/pool-waits.mjs [photo] [top]   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, ready, traced, dist } from '../web/harness.mjs';
import { threadProfiles } from './cpu-profiles.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const top = Number(process.argv[3] ?? 12);
const server = await serve(dist);
const { context, close } = await browser();
const page = await context.newPage();
page.on('console', (message) => {
  if (message.text().includes('cutout in')) console.log(message.text());
});
await page.goto(`${server.url}/?engine=cpu`);
await ready(page);
await cutOut(page, photo, 'warm-up.png');
const events = await traced(context, page, ['disabled-by-default-v8.cpu_profiler'], () => cutOut(page, photo, 'profiled.png'));
await close();
await server.close();

const threads = threadProfiles(events);
const name = (thread, id) => thread.nodes.get(id)?.functionName || '(anonymous)';
const waiting = (thread, id) => /Condvar>::wait/.test(name(thread, id));
const kernel = /tile_product|transform_inputs/;
const short = (frame) => frame.replace(/\[[0-9a-f]+\]/g, '').replace(/bgone_core::model::/g, '').slice(0, 80);
/** The sample's frames from bgone, burn and rayon's join, innermost first. */
function frames(thread, id) {
  const out = [];
  for (let node = id; node && out.length < 40; node = thread.parents.get(node)) {
    const frame = name(thread, node);
    if (/bgone_core|burn|rayon_core::join/.test(frame)) out.push(short(frame));
  }
  return out;
}
/** Each sample with the time it stands for (the delta to the next). */
function weighted(thread) {
  return thread.samples.map((sample, i) => ({ ...sample, ms: ((thread.samples[i + 1]?.time ?? sample.time) - sample.time) / 1000 }));
}

let [start, end] = [Infinity, -Infinity];
for (const thread of threads) {
  for (const { time, id } of thread.samples) {
    if (kernel.test(name(thread, id))) [start, end] = [Math.min(start, time), Math.max(end, time)];
  }
}
const inPass = ({ time }) => time >= start && time <= end;
console.log(`pass: ${((end - start) / 1000).toFixed(0)} ms from the first to the last kernel sample`);
const pool = [];
for (const thread of threads) {
  const samples = weighted(thread).filter(inPass);
  const sum = (keep) => samples.filter(keep).reduce((total, sample) => total + sample.ms, 0).toFixed(0);
  const waits = sum(({ id }) => waiting(thread, id));
  console.log(`thread: ${sum(() => true)} ms sampled in the pass, ${waits} waiting, ${sum(({ id }) => name(thread, id) === '(idle)')} idle`);
  if (Number(waits) > 0) pool.push(thread);
}
for (const [waiter, other] of pool.length === 2 ? [[pool[0], pool[1]], [pool[1], pool[0]]] : []) {
  const tally = new Map();
  let j = 0;
  for (const sample of weighted(waiter).filter(inPass)) {
    if (!waiting(waiter, sample.id)) continue;
    while (j + 1 < other.samples.length && other.samples[j + 1].time <= sample.time) j++;
    const doing = frames(other, other.samples[j].id).filter((frame) => !frame.startsWith('rayon')).slice(0, 3).join(' < ');
    const at = frames(waiter, sample.id).filter((frame) => !/Condvar|rayon/.test(frame)).slice(0, 2).join(' < ') || '(nothing to do)';
    const key = `${doing || '(waiting too)'}\n          while waiting in ${at}`;
    tally.set(key, (tally.get(key) ?? 0) + sample.ms);
  }
  console.log(`\nWhile pool thread ${pool.indexOf(waiter) + 1} waited, the other ran:`);
  for (const [key, ms] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms.toFixed(0).padStart(6)} ms  ${key}`);
}

// How busy each of Chromium's threads is while a return visit starts: a fresh profile is installed
// by one visit (the CPU engine, a cutout), the page closes, and 3 s later the next visit is traced
// (Chrome's tracing: every thread's top-level tasks) while it cuts out the photo. Prints, per
// thread, the share of each WIN ms window (default 20) that its tasks took over the first SPAN ms
// (default 500) from the navigation, the sum over the threads (in cores x 100: on 2 cores, 200
// is all of them), then the page's main thread: its events by total time and its tasks of 3 ms
// or more in order. Tracing adds work of its own (the DevTools session's messages on the page's
// main thread), so compare visits traced alike. RESTART=1 starts the browser again first.
// A tool, not a test:
//   WIN=20 SPAN=500 node tests/bench/startup-trace.mjs   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, visitOnce, traced, dist } from '../web/harness.mjs';

const WIN = Number(process.env.WIN ?? 20) * 1000;
const SPAN = Number(process.env.SPAN ?? 500) * 1000;
const WINDOWS = Math.ceil(SPAN / WIN);

const server = await serve(dist);
let { context, close, profile } = await browser();
await visitOnce(context, server.url, 'chelsea.png', 'first.png');
await new Promise((resolve) => setTimeout(resolve, 3000));
if (process.env.RESTART) {
  await close({ keepProfile: true });
  ({ context, close } = await browser({ profile }));
}
const page = await context.newPage();
page.on('console', (m) => { if (m.text().startsWith('bgone')) console.log(`  ${m.text().slice(0, 300)}`); });
const categories = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'mojom', 'blink', 'loading', '__metadata'];
const events = await traced(context, page, categories, async () => {
  await page.goto(`${server.url}/?engine=cpu`);
  await cutOut(page, 'chelsea.png', 'traced.png');
});
await close();
await server.close();

const threadNames = new Map(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [`${e.pid}:${e.tid}`, e.args.name]));
const label = (key) => `${threadNames.get(key) ?? '?'} (${key})`;
const t0 = Math.min(...events.filter((e) => e.name === 'ResourceSendRequest').map((e) => e.ts));

/** Each thread's top-level tasks as disjoint [from, to] spans (nested tasks merged). */
const spans = new Map();
for (const e of events) {
  if (e.ph !== 'X' || !e.dur || !e.cat.split(',').includes('toplevel')) continue;
  const key = `${e.pid}:${e.tid}`;
  if (!spans.has(key)) spans.set(key, []);
  spans.get(key).push([e.ts, e.ts + e.dur]);
}
const busy = new Map();
for (const [key, list] of spans) {
  list.sort((a, b) => a[0] - b[0]);
  const merged = [];
  for (const [from, to] of list) {
    const last = merged[merged.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to); else merged.push([from, to]);
  }
  const row = new Array(WINDOWS).fill(0);
  for (const [from, to] of merged) {
    for (let w = 0; w < WINDOWS; w++) {
      const overlap = Math.min(t0 + (w + 1) * WIN, to) - Math.max(t0 + w * WIN, from);
      if (overlap > 0) row[w] += overlap;
    }
  }
  busy.set(key, row);
}

const percent = (row) => row.map((us) => String(Math.round((100 * us) / WIN)).padStart(4)).join('');
console.log(`\nshare of each ${WIN / 1000} ms window (from the navigation) that each thread was busy, in percent:`);
const total = new Array(WINDOWS).fill(0);
for (const [key, row] of [...busy].sort((a, b) => label(a[0]).localeCompare(label(b[0])))) {
  if (row.reduce((a, b) => a + b, 0) < 2000) continue;
  row.forEach((us, w) => { total[w] += us; });
  console.log(`${label(key).padEnd(44).slice(0, 44)}${percent(row)}`);
}
console.log(`${'all threads'.padEnd(44)}${percent(total)}`);

// The page's main thread: the busiest renderer main thread.
const [pageKey] = [...busy].filter(([key]) => threadNames.get(key) === 'CrRendererMain')
  .sort((a, b) => b[1].reduce((x, y) => x + y) - a[1].reduce((x, y) => x + y))[0];
const mine = events.filter((e) => `${e.pid}:${e.tid}` === pageKey && e.ph === 'X' && e.dur && e.ts >= t0 && e.ts < t0 + SPAN);
const describe = (e) => [e.name, e.args?.data?.url?.split('/').pop(), e.args?.data?.functionName, e.args?.src_func,
  e.args?.chrome_mojo_event_info?.mojo_interface_tag].filter(Boolean).join(' ');
const sums = new Map();
for (const e of mine) sums.set(describe(e), (sums.get(describe(e)) ?? 0) + e.dur);
console.log(`\n${label(pageKey)}, events by total time in the first ${SPAN / 1000} ms (ms):`);
for (const [name, us] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(us / 1000).toFixed(1).padStart(8)}  ${name}`);
console.log(`\n${label(pageKey)}, tasks of 3 ms or more (ms from the navigation, +duration: the largest events inside):`);
for (const task of mine.filter((e) => e.name === 'ThreadControllerImpl::RunTask' && e.dur >= 3000)) {
  const inner = mine.filter((e) => e !== task && e.name !== 'RunTask' && e.dur >= 1000 && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur)
    .sort((a, b) => b.dur - a.dur).slice(0, 4).map((e) => `${describe(e)} ${(e.dur / 1000).toFixed(1)}`);
  console.log(`${((task.ts - t0) / 1000).toFixed(0).padStart(5)} +${(task.dur / 1000).toFixed(1).padStart(5)}  ${task.args?.src_func ?? ''}: ${inner.join('; ')}`);
}

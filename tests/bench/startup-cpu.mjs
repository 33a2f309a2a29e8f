// Where a return visit's start-up spends CPU time: a fresh profile is installed by one visit (the
// CPU engine, a cutout, the model stored for offline use), then ROUNDS times (default 4) the
// browser is started again on it, the page opens and the time until the page says it is ready is
// taken, with the CPU time every Chromium process and thread used meanwhile (from /proc, in
// USER_HZ ticks of 10 ms), grouped by process type and thread name. On a 2-core machine it shows
// whether the start is waiting (CPU well under 2 cores' worth of the time) or working.
// A tool, not a test:
//   ROUNDS=4 node tests/bench/startup-cpu.mjs   (dist/ as built; BGONE_DIST=path)
import { serve, browser, visitOnce, dist, stopServiceWorkers, median, chromiumCpuByThread as cpuByThread } from '../web/harness.mjs';

const server = await serve(dist);

let b = await browser();
await visitOnce(b.context, server.url, 'chelsea.png', 'install.png', { offline: true });
await stopServiceWorkers(b.context);
const profile = b.profile;
await b.close({ keepProfile: true });

const rounds = [];
for (let round = 1; round <= Number(process.env.ROUNDS ?? 4); round++) {
  b = await browser({ profile });
  const page = await b.context.newPage();
  await page.waitForTimeout(1000);
  const before = cpuByThread();
  await page.goto(`${server.url}/?engine=cpu`);
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.dataset.state === 'ready', null, { polling: 10 });
  const after = cpuByThread();
  const wall = await page.evaluate(() => performance.now());
  const used = [...after].map(([key, ms]) => [key, ms - (before.get(key) ?? 0)]).filter(([, ms]) => ms > 0);
  const total = used.reduce((sum, [, ms]) => sum + ms, 0);
  rounds.push({ wall, total, used: Object.fromEntries(used) });
  console.log(`round ${round}: ready ${wall.toFixed(0)} ms after the navigation; CPU ${total} ms, ${(total / wall).toFixed(2)} cores busy on average`);
  await page.close();
  await stopServiceWorkers(b.context);
  await b.close({ keepProfile: true });
}
const keys = [...new Set(rounds.flatMap((r) => Object.keys(r.used)))];
const rows = keys.map((key) => [key, median(rounds.map((r) => r.used[key] ?? 0))]).filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
console.log(`\nmedian over ${rounds.length} restarts: ready at ${median(rounds.map((r) => r.wall)).toFixed(0)} ms, CPU ${median(rounds.map((r) => r.total))} ms`);
for (const [key, ms] of rows) console.log(`  ${String(ms).padStart(5)} ms  ${key}`);
await server.close();

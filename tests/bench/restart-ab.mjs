// Two builds side by side on return visits after a browser restart. Each build (A: dist/ or
// BGONE_DIST; B: the folder given) gets its own profile, installed by a first visit; then ROUNDS
// times (default 5), A and B in turn, the browser is started again on that profile, the page opens
// and cuts out the photo twice (the first from the navigation, the second at once after it), the
// page stays open 3 s, and the browser is closed after its service workers are stopped (as an
// idle browser stops them). Prints per visit the first cutout over the second (both in the same
// page, so the VM's drift between visits cancels; timed here, to within the 50 ms at which
// cutOut polls), the worker's network time of each pass and its start-up steps; then per build
// the medians, with the visit's start (its first cutout from the navigation less that cutout's
// pass).
// A tool, not a test:
// JS_FLAGS_B gives B's browser V8 flags of its own (JS_FLAGS both). SETTLE_MS_B=ms: B's page
// opens that long after its browser started, not at once (a user who starts the browser and then
// types the address), so A against B with one build shows what the browser's own start adds.
//   ROUNDS=5 node tests/bench/restart-ab.mjs /path/to/other-dist [photo]
import { serve, browser, cutOut, median, dist, stopServiceWorkers } from '../web/harness.mjs';

const [other, photo = 'chelsea.png'] = process.argv.slice(2);
const sides = {
  A: { root: dist, jsFlags: process.env.JS_FLAGS, settleMs: 0 },
  B: { root: other, jsFlags: process.env.JS_FLAGS_B ?? process.env.JS_FLAGS, settleMs: Number(process.env.SETTLE_MS_B ?? 0) },
};
for (const side of Object.values(sides)) {
  side.server = await serve(side.root);
  side.visits = [];
}

/** A browser on `profile` (a fresh one if undefined) for `work(page, passes)`, closed as a user
 *  closes it some time later; `passes` collects the worker's network time of each cutout. */
async function session(profile, work, jsFlags, settleMs = 0) {
  const b = await browser({ profile, jsFlags });
  try {
    const page = await b.context.newPage();
    if (settleMs) await page.waitForTimeout(settleMs);
    const passes = [];
    let ready;
    page.on('console', (m) => {
      const r = /model ready in (\d+) ms .*MiB; (.*)\)$/.exec(m.text());
      if (r) ready = `ready ${r[1]} ms (${r[2]})`;
      const n = /cutout in \d+ ms \(decode \d+ ms, network (\d+) ms/.exec(m.text());
      if (n) passes.push(Number(n[1]));
    });
    const result = await work(page, passes);
    await page.waitForTimeout(3000);
    await page.close();
    await stopServiceWorkers(b.context);
    return { result, profile: b.profile, ready };
  } finally {
    await b.close({ keepProfile: true });
  }
}

for (const [name, side] of Object.entries(sides)) {
  ({ profile: side.profile } = await session(undefined, async (page) => {
    await page.goto(`${side.server.url}/?engine=cpu`);
    await cutOut(page, photo, 'install.png');
    await page.locator('[data-testid="offline-ready"][data-state="yes"]').waitFor();
  }, side.jsFlags));
  console.log(`${name}: installed`);
}

for (let round = 1; round <= Number(process.env.ROUNDS ?? 5); round++) {
  for (const [name, side] of Object.entries(sides)) {
    const { result, ready } = await session(side.profile, async (page, passes) => {
      const start = performance.now();
      await page.goto(`${side.server.url}/?engine=cpu`);
      await cutOut(page, photo, `first-${round}.png`);
      const first = performance.now() - start;
      const again = performance.now();
      await cutOut(page, photo, `second-${round}.png`);
      return { first, second: performance.now() - again, passes };
    }, side.jsFlags, side.settleMs);
    side.visits.push(result);
    console.log(`round ${round} ${name}: first ${(result.first / 1000).toFixed(2)} s, second ${(result.second / 1000).toFixed(2)} s, ratio ${(result.first / result.second).toFixed(2)}; network ${result.passes.join(' then ')} ms; ${ready}`);
  }
}
for (const [name, side] of Object.entries(sides)) {
  const ratios = side.visits.map((v) => v.first / v.second);
  const excess = side.visits.map((v) => v.passes[0] - v.passes[1]);
  // The visit's start: its first cutout from the navigation less that cutout's pass.
  const starts = side.visits.map((v) => Math.round(v.first - v.passes[0]));
  console.log(`${name} (${side.root}): first/second median ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}); first pass's excess median ${median(excess)} ms (${excess.join(', ')}); start median ${median(starts)} ms (${starts.join(', ')})`);
  await side.server.close();
}

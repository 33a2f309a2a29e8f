// bgone against @imgly/background-removal in the same headless Chromium, on the same photos,
// timed the same way: from handing the file to the page's file input until that item's cutout PNG
// is on the page. Prints a Markdown table; BENCH_OUT=path also writes the figures as JSON.
//   node bench.mjs [--runs N] [--returns N] [--photos a.png,b.jpg] [--engines cpu,webgpu]
// Photos are names in tests/fixtures/photos or paths to any other (a 12 MP one of your own).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve, browser, resultPng, channel, iou, median, photos as photoDir, dist } from '../web/harness.mjs';
import { serveIsolated } from './server.mjs';
import { browserPids, sampleRenderers } from './memory.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: process.env.BENCH_RUNS ?? '3' },
    // One return visit swings by 0.3x on a 2-core VM; the figure is the median of these.
    returns: { type: 'string', default: process.env.BENCH_RETURNS ?? '3' },
    photos: { type: 'string', default: 'astronaut.png,chelsea.png,coffee.png,rocket.jpg' },
    engines: { type: 'string', default: 'cpu,webgpu' },
  },
});
const RUNS = Number(args.runs);
const RETURNS = Math.max(1, Number(args.returns));
const PHOTOS = args.photos.split(',');
const ENGINES = args.engines.split(',');
/** How long after closing the page the return visit opens it again. */
const RETURN_AFTER_MS = 3000;
/** In the third kind of return visit, how long after the navigation the user picks the photo. */
const PICK_AFTER_MS = 3000;
// SwiftShader runs WebGPU on the CPU: our engine takes minutes per 1024 pass there, so 256.
const WEBGPU_SIZE = 256;
const PEER_VERSION = JSON.parse(readFileSync(join(here, 'node_modules/@imgly/background-removal/package.json'), 'utf8')).version;

const ours = await serve(dist);
const peer = await serveIsolated(join(here, 'build', 'peer'));
const SIDES = {
  ours: (engine) => `${ours.url}/?engine=${engine}${engine === 'webgpu' ? `&size=${WEBGPU_SIZE}` : ''}`,
  // `preload`: the peer's page calls the library's preload() as it opens, for visits whose photo
  // is picked later (its best case then, as ours reads its model as the page opens).
  peer: (engine, { preload = false } = {}) => `${peer.url}/?device=${engine === 'webgpu' ? 'gpu' : 'cpu'}${preload ? '&preload=1' : ''}`,
};

const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const seconds = (ms) => (ms == null ? '–' : `${(ms / 1000).toFixed(1)} s`);
const ratio = (a, b) => (a != null && b != null ? `${(a / b).toFixed(2)}×` : '–');

/** A browser whose renderer memory is sampled from launch until close(), on a new profile or
 *  on `profile` (kept by `close({ keepProfile: true })`). */
async function openBrowser(engine, profile) {
  const before = browserPids();
  const { context, close, profile: used } = await browser({ webgpu: engine === 'webgpu', profile });
  const pid = [...browserPids()].find((p) => !before.has(p));
  const memory = sampleRenderers(pid);
  return { context, profile: used, close: async (options) => { const peakMib = memory.stop(); await close(options); return peakMib; } };
}

let serial = 0;

/** Runs in every benchmarked page before its own scripts: notes on the page's clock when each
 *  file goes into the file input and when its item shows done (or error). Timing in the page
 *  leaves out how late the harness notices: a locator's waitFor polls at up to 500 ms intervals,
 *  and a new page's timers may run once a second, which added up to 1 s to a return visit. */
function clockInPage() {
  window.__bench = { given: {}, finished: {} };
  document.addEventListener('change', (event) => {
    if (event.target?.dataset?.testid !== 'file-input') return;
    for (const file of event.target.files) window.__bench.given[file.name] = performance.now();
  }, true);
  new MutationObserver((mutations) => {
    for (const { target } of mutations) {
      if (target.dataset?.testid === 'item' && ['done', 'error'].includes(target.dataset.state)) {
        window.__bench.finished[target.dataset.name] ??= performance.now();
      }
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}

async function newPage(context) {
  const page = await context.newPage();
  await page.addInitScript(clockInPage);
  return page;
}

/** Where each photo is copied under its fresh name before it goes into the file input. */
const handedOver = mkdtempSync(join(tmpdir(), 'bgone-bench-photos-'));
process.on('exit', () => rmSync(handedOver, { recursive: true, force: true }));

/** Hands one photo to the page (under a fresh name) and waits for its cutout. `ms`: on the
 *  page's clock, from the file going in (or, with `fromNavigation`, from the start of the
 *  page's navigation) to its item showing the result; and the PNG.
 *  The file goes in by its path, as a file a user picks or drops does: the browser reads it
 *  from disk. Handed over as bytes, Playwright sends them base64-encoded and builds the file in
 *  the page's JavaScript (chelsea.png: 43-58 ms from node against 16-20 ms by path), work on the
 *  page's main thread that fell inside a return visit's start-up, the peer's as ours, but
 *  outside a warm cutout, whose clock starts once the file is in (until 2026-12-07). */
async function cutout(page, photo, { fromNavigation = false } = {}) {
  const name = `${++serial}-${basename(photo)}`;
  const file = join(handedOver, name);
  copyFileSync(resolve(photoDir, photo), file);
  const item = page.locator(`[data-testid="item"][data-name="${name}"]`);
  await page.locator('[data-testid="file-input"]').setInputFiles(file);
  const times = await (await page.waitForFunction((name) => {
    const { given, finished } = window.__bench;
    return finished[name] !== undefined && { given: given[name], finished: finished[name] };
  }, name, { polling: 50 })).jsonValue();
  const ms = times.finished - (fromNavigation ? 0 : times.given);
  if (await item.getAttribute('data-state') === 'error') {
    throw new Error((await item.locator('[data-testid="error"]').textContent()).split('\n')[0]);
  }
  return { ms, png: await resultPng(page, name) };
}

/** A first visit: the page loads, the file goes in at once, the clock runs from navigation (so it
 *  includes fetching the model from the local server and initialising the network). With
 *  `pickAfterMs`, the file goes in that long after the navigation started, as a user picks a photo
 *  once the page is open, and the clock runs from the pick. */
async function visit(context, side, engine, photo, { pickAfterMs } = {}) {
  const page = await newPage(context);
  // Our worker logs "model ready in X ms (...)" and "cutout in X ms (...)": where the time goes.
  const startup = [];
  page.on('console', (message) => {
    const m = /(model ready|cutout) in .*/.exec(message.text());
    if (m) startup.push(m[0]);
  });
  await page.goto(SIDES[side](engine, { preload: Boolean(pickAfterMs) }));
  if (pickAfterMs) await page.waitForFunction((at) => performance.now() >= at, pickAfterMs, { polling: 50 });
  const { ms, png } = await cutout(page, photo, { fromNavigation: !pickAfterMs });
  return { page, ms, png, startup: startup.length ? startup.join('; then ') : null };
}

/** A cutout should be one: some pixels clearly kept, some clearly removed. Noted, not fatal:
 *  a thin subject at 256 may keep little, and the timings still stand. */
const warnings = [];
function checkCutout(png, what) {
  const alpha = channel(png, 3);
  const kept = alpha.filter((a) => a > 0.9).length / alpha.length;
  const removed = alpha.filter((a) => a < 0.1).length / alpha.length;
  if (kept < 0.005 || removed < 0.02) warnings.push(`${what}: does not look like a cutout (${(kept * 100).toFixed(1)}% kept, ${(removed * 100).toFixed(1)}% removed)`);
}

async function engineInfo(page, side) {
  if (side === 'ours') {
    const engine = (await page.locator('[data-testid="engine"]').textContent()).trim();
    const threads = engine === 'cpu' ? Number(await page.locator('[data-testid="threads"]').getAttribute('data-threads')) : 1;
    return { engine, threads, crossOriginIsolated: await page.evaluate(() => crossOriginIsolated), workers: page.workers().length };
  }
  // One dedicated worker per onnxruntime thread beyond the main thread.
  return { ...(await page.evaluate(() => window.peerInfo())), workers: page.workers().length };
}

const results = { rows: [], session: {}, peerWebgpu: null };

for (const engine of ENGINES) {
  const sides = engine === 'webgpu' ? ['ours'] : ['ours', 'peer'];
  const rows = Object.fromEntries(PHOTOS.map((photo) => [photo, { photo, engine, cold: {}, warm: {}, masks: {} }]));

  // Cold: a fresh profile per photo and side, alternating ours and peer. The last photo's
  // browsers stay open for the warm runs, the return visit and the memory figure. (The first
  // photo's did until 2026-12-06: then the later cold visits ran beside two open browsers, and
  // our cold rocket.jpg, the second, took 8.8-12.6 s in most runs, its download and its pass
  // both slower, against 4.4-4.8 s for the first.)
  const sessions = {};
  for (const [index, photo] of PHOTOS.entries()) {
    for (const side of sides) {
      const b = await openBrowser(engine);
      const { page, ms, png, startup } = await visit(b.context, side, engine, photo);
      checkCutout(png, `${side} ${engine} ${photo}`);
      rows[photo].cold[side] = ms;
      rows[photo].masks[side] = channel(png, 3);
      // Our worker's own account of a cold visit (download, engine, pass) says which part of an
      // outlier was slow.
      log(`cold ${engine} ${side} ${photo}: ${seconds(ms)}${startup ? ` (${startup})` : ''}`);
      if (index < PHOTOS.length - 1) { await b.close(); continue; }
      sessions[side] = { ...b, page, info: await engineInfo(page, side) };
    }
  }

  // Warm: the same page, N rounds over the photos, ours and peer in turn.
  for (let run = 0; run < RUNS; run++) {
    for (const photo of PHOTOS) {
      for (const side of sides) {
        const { ms } = await cutout(sessions[side].page, photo);
        (rows[photo].warm[side] ??= []).push(ms);
        log(`warm ${engine} ${side} ${photo} #${run + 1}: ${seconds(ms)}`);
      }
    }
  }

  for (const row of Object.values(rows)) {
    if (row.masks.ours && row.masks.peer) row.maskIou = iou(row.masks.ours, row.masks.peer);
    delete row.masks;
    row.warmMedian = Object.fromEntries(Object.entries(row.warm).map(([side, xs]) => [side, median(xs)]));
    results.rows.push(row);
  }

  // Return visits (CPU only), timed to the first cutout and set against one warm cutout of the
  // same photo, RETURNS rounds of each kind, ours and peer in turn; each figure is the median.
  // First in the same browser: a new page some seconds after closing the last, as after a reload
  // or a tab reopened soon. Then with the browser started again on the same profile (the model
  // and the app from its caches, nothing left in memory), as a user who comes back another day.
  // Each session's peak renderer memory is taken before the restarts. Each return visit then
  // cuts out the same photo once more in the same page: over the warm cutout timed minutes
  // before, a visit's ratio moved with the VM's drift (visits of 2.0 s made 1.05x to 1.28x in
  // four runs); over the next cutout in the same page the drift cancels.
  if (engine === 'cpu') {
    const visits = Object.fromEntries(sides.map((side) => [side, { open: [], restarted: [], picked: [] }]));
    const returnVisit = async (side, kind, round, context) => {
      const again = await visit(context, side, engine, PHOTOS[0], { pickAfterMs: kind === 'picked' ? PICK_AFTER_MS : 0 });
      checkCutout(again.png, `${side} return visit ${kind} ${round + 1}`);
      const next = await cutout(again.page, PHOTOS[0]);
      checkCutout(next.png, `${side} return visit ${kind} ${round + 1}, next cutout`);
      visits[side][kind].push({ ms: again.ms, next: next.ms, startup: again.startup });
      log(`return visit (${kind}) ${side} #${round + 1}: ${seconds(again.ms)}, the next cutout ${seconds(next.ms)}${again.startup ? ` (${again.startup})` : ''}`);
      return again;
    };
    for (let round = 0; round < RETURNS; round++) {
      for (const side of sides) {
        const session = sessions[side];
        await session.page.close();
        // A user comes back later, not within the second: the closed page's workers and memory
        // are gone by then. Reopened at once, the new page ran beside their teardown (and beside
        // the other side's browser finishing its last warm cutout), which added 0.3-1 s to the
        // first cutout and was the page's peak memory.
        await new Promise((resolve) => setTimeout(resolve, RETURN_AFTER_MS));
        session.page = (await returnVisit(side, 'open', round, session.context)).page;
      }
    }
    const peaks = {};
    for (const side of sides) peaks[side] = await sessions[side].close({ keepProfile: true });
    // After a restart the photo goes in first at once (the strictest case: the clock runs from the
    // navigation), then PICK_AFTER_MS after the navigation, as a user picks one once the page is
    // open, timed from the pick (what such a user waits for).
    for (const kind of ['restarted', 'picked']) {
      for (let round = 0; round < RETURNS; round++) {
        for (const side of sides) {
          const b = await openBrowser(engine, sessions[side].profile);
          await returnVisit(side, kind, round, b.context);
          await b.close({ keepProfile: kind === 'restarted' || round < RETURNS - 1 });
        }
      }
    }
    for (const side of sides) {
      results.session[side] = { visits: visits[side], warm: rows[PHOTOS[0]].warmMedian[side], info: sessions[side].info, peakMib: peaks[side] };
    }
  } else {
    for (const side of sides) {
      results.oursWebgpuEngine = sessions[side].info.engine;
      await sessions[side].close();
    }
  }

  // The peer's WebGPU path, once: on SwiftShader it is expected to fail (fp16 shaders need the
  // shader-f16 feature; onnxruntime-web's MaxPool has no ceil mode on WebGPU).
  if (engine === 'webgpu') {
    const b = await openBrowser(engine);
    const page = await newPage(b.context);
    const gpuErrors = [];
    page.on('console', (message) => { if (message.type() === 'error' && gpuErrors.length < 1) gpuErrors.push(message.text().split('\n')[0]); });
    try {
      await page.goto(SIDES.peer(engine));
      const { ms, png } = await cutout(page, PHOTOS[0]);
      checkCutout(png, `peer webgpu ${PHOTOS[0]}`);
      results.peerWebgpu = { works: true, ms, info: await engineInfo(page, 'peer') };
    } catch (error) {
      results.peerWebgpu = { works: false, error: error.message, firstConsoleError: gpuErrors[0] };
    }
    log(`peer webgpu: ${JSON.stringify(results.peerWebgpu)}`);
    await b.close();
  }
}
await ours.close();
await peer.close();

results.machine = {
  cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown',
  cores: cpus().length,
  chromium: execFileSync(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().replace(/ built on .*/, ''),
  peer: `@imgly/background-removal ${PEER_VERSION} (model isnet_fp16, onnxruntime-web wasm)`,
  date: new Date().toISOString().slice(0, 10),
  runs: RUNS,
  returns: RETURNS,
};

const m = results.machine;
const lines = [
  `Machine: ${m.cpu}, ${m.cores} cores · ${m.chromium} (headless) · peer: ${m.peer} · ${m.date} · warm = median of ${RUNS}`,
  '',
  '| photo | engine | cold: bgone | cold: peer | cold bgone/peer | warm: bgone | warm: peer | warm bgone/peer | mask IoU |',
  '|---|---|---|---|---|---|---|---|---|',
  ...results.rows.map((r) => {
    const fellBack = results.oursWebgpuEngine && results.oursWebgpuEngine !== 'webgpu' ? ` (bgone fell back to ${results.oursWebgpuEngine})` : '';
    const label = r.engine === 'webgpu' ? `WebGPU (SwiftShader), bgone at ${WEBGPU_SIZE}${fellBack}` : 'CPU (wasm), 1024';
    const peerCell = (x) => (r.engine === 'webgpu' ? (results.peerWebgpu?.works ? 'see below' : 'fails') : seconds(x));
    return `| ${r.photo} | ${label} | ${seconds(r.cold.ours)} | ${peerCell(r.cold.peer)} | ${ratio(r.cold.ours, r.cold.peer)} | ${seconds(r.warmMedian.ours)} | ${peerCell(r.warmMedian.peer)} | ${ratio(r.warmMedian.ours, r.warmMedian.peer)} | ${r.maskIou?.toFixed(3) ?? '–'} |`;
  }),
];
const s = results.session;
if (s.ours) {
  const threads = (side) => (side === 'ours'
    ? `${s.ours.info.threads} (engine ${s.ours.info.engine}, crossOriginIsolated ${s.ours.info.crossOriginIsolated}, ${s.ours.info.workers} workers)`
    : `${s.peer.info.numThreads} (crossOriginIsolated ${s.peer.info.crossOriginIsolated}, ${s.peer.info.workers} worker)`);
  // Each kind of return visit: the median visit (its time, ratio and start-up), and every visit's ratio.
  const middle = (side, kind) => {
    const list = s[side].visits[kind];
    return list.find((v) => v.ms === median(list.map((x) => x.ms)));
  };
  // A figure and, with more than one visit, each visit's.
  const withEach = (figure, ratios) => `${figure.toFixed(2)}×${ratios.length > 1 ? ` (${ratios.map((r) => r.toFixed(2)).join(', ')})` : ''}`;
  const over = (side, kind) => {
    const { visits: { [kind]: list }, warm } = s[side];
    return withEach(middle(side, kind).ms / warm, list.map((v) => v.ms / warm));
  };
  // The same visits over the next cutout in their own page.
  const overNext = (side, kind) => {
    const ratios = s[side].visits[kind].map((v) => v.ms / v.next);
    return withEach(median(ratios), ratios);
  };
  const of = RETURNS > 1 ? `, median of ${RETURNS}` : '';
  const KINDS = [
    ['open', 'same browser', `return visit, same browser (new page ${RETURN_AFTER_MS / 1000} s after closing the last)`],
    ['restarted', 'browser started again', 'return visit, browser started again (same profile)'],
    ['picked', `started again, photo picked ${PICK_AFTER_MS / 1000} s after the navigation`, `return visit, browser started again, the photo picked ${PICK_AFTER_MS / 1000} s after the navigation (timed from the pick)`],
  ];
  lines.push('', `| CPU, one profile: ${1 + PHOTOS.length * RUNS} cutouts in one visit, then ${RETURNS} return visit${RETURNS > 1 ? 's' : ''} of each kind | bgone | peer |`, '|---|---|---|');
  for (const [kind, short, long] of KINDS) {
    lines.push(`| ${long}: first cutout of ${PHOTOS[0]}${of} | ${seconds(middle('ours', kind).ms)} | ${seconds(s.peer && middle('peer', kind).ms)} |`);
    lines.push(`| ${short}: return visit / one warm cutout${RETURNS > 1 ? ' (each visit)' : ''} | ${over('ours', kind)} | ${s.peer ? over('peer', kind) : '–'} |`);
    lines.push(`| ${short}: return visit / the next cutout in the same page${RETURNS > 1 ? ' (each visit)' : ''} | ${overNext('ours', kind)} | ${s.peer ? overNext('peer', kind) : '–'} |`);
  }
  for (const [kind, short] of KINDS) {
    const { startup } = middle('ours', kind);
    if (startup) lines.push(`| ${short}: our worker's start-up (the median visit) | ${startup} | |`);
  }
  lines.push(`| one warm cutout of ${PHOTOS[0]} | ${seconds(s.ours.warm)} | ${seconds(s.peer?.warm)} |`);
  lines.push(`| peak renderer memory (page + workers) | ${s.ours.peakMib.toFixed(0)} MiB | ${s.peer?.peakMib.toFixed(0)} MiB |`);
  lines.push(`| inference threads | ${threads('ours')} | ${s.peer ? threads('peer') : '–'} |`);
}
if (results.peerWebgpu) {
  const p = results.peerWebgpu;
  lines.push('', p.works
    ? `Peer on WebGPU (SwiftShader, 1024): first visit ${seconds(p.ms)} for ${PHOTOS[0]}.`
    : `Peer on WebGPU (device: 'gpu', SwiftShader): fails: "${p.error}"${p.firstConsoleError ? `; first console error: "${p.firstConsoleError}"` : ''}.`);
}
for (const warning of warnings) lines.push('', `Warning: ${warning}.`);
results.warnings = warnings;
console.log(lines.join('\n'));
if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, JSON.stringify(results, null, 2));

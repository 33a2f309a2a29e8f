// Where a return visit's time goes: a fresh profile opens the app on the CPU engine and cuts out
// FIRST photos (default 1), the page closes, and WAIT ms later (default 3000) it opens again and
// cuts out PASSES photos (default 1), the first DELAY ms after the page is ready (default 0: at once). Prints, on one clock from each navigation: console lines,
// workers started, the worker's messages as the page receives them, the item's states, and the
// page's resource timings. RESTART=1 closes the browser in between and starts it again on the
// same profile. ENGINE=webgpu (SwiftShader; with SIZE=256, say) probes the WebGPU worker instead of
// the CPU one. ISOLATED=0 serves the app without isolation headers (a first visit then runs the
// one-thread CPU engine; the service worker isolates the later ones). MODEL_MBPS=n sends the
// model at n megabits a second, as a real connection would on a first visit. SIMD=portable runs the
// threaded CPU worker's build without relaxed SIMD. LINK_MBPS=n sends every file through one link of
// n megabits a second that they share (a first visit's downloads compete). OFFLINE_READY=1 waits
// after the first visit's cutouts until the page says it is ready offline, and prints when, with
// the requests and the bytes of the files they asked for. A tool for investigating the return-visit figure of bench.mjs, not a test:
//   FIRST=7 WAIT=0 PASSES=2 node tests/bench/return-probe.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { serve, browser, cutOut, dist } from '../web/harness.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
/** The size of the built file a request asked for (0 for the page's own path). */
const fileSize = (path) => { try { return statSync(join(dist, path === '/' ? 'index.html' : path)).size; } catch { return 0; } };
const env = (name, fallback) => Number(process.env[name] ?? fallback);
const engine = process.env.ENGINE ?? 'cpu';
const query = `?engine=${engine}${process.env.SIZE ? `&size=${process.env.SIZE}` : ''}${process.env.SIMD ? `&simd=${process.env.SIMD}` : ''}`;
const webgpu = engine === 'webgpu';
const server = await serve(dist, { isolated: process.env.ISOLATED !== '0', modelMbps: env('MODEL_MBPS', 0), linkMbps: env('LINK_MBPS', 0) });
let { context, close, profile } = await browser({ webgpu });

/** In the page, before its scripts: the worker's messages and the items' states, with times. */
function recordInPage() {
  window.__probe = [];
  const note = (event) => { if (event.data?.type) window.__probe.push([event.data.type, performance.now()]); };
  const onmessage = Object.getOwnPropertyDescriptor(Worker.prototype, 'onmessage');
  Object.defineProperty(Worker.prototype, 'onmessage', {
    set(handler) { onmessage.set.call(this, (event) => { note(event); return handler(event); }); },
    get() { return onmessage.get.call(this); },
  });
  new MutationObserver((mutations) => {
    for (const { target } of mutations) {
      if (target.dataset?.testid === 'item') window.__probe.push([`item ${target.dataset.state}`, performance.now()]);
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
}

async function visit(label, passes, delay = 0) {
  const page = await context.newPage();
  await page.addInitScript(recordInPage);
  const start = performance.now();
  const wallStart = Date.now();
  const at = () => ((performance.now() - start) / 1000).toFixed(3);
  page.on('console', (m) => console.log(`${at()} s  ${label}: ${m.text().slice(0, 400)}`));
  page.on('worker', (w) => console.log(`${at()} s  ${label}: worker ${w.url().split('/').pop()} started`));
  await page.goto(`${server.url}/${query}`);
  console.log(`${at()} s  ${label}: page loaded`);
  if (delay) {
    await page.locator('[data-testid="status"][data-state="ready"]').waitFor();
    await page.waitForTimeout(delay);
    console.log(`${at()} s  ${label}: ready, and ${delay} ms later the first photo`);
  }
  for (let i = 0; i < passes; i++) {
    const name = `${label}-${i}-${photo}`;
    await cutOut(page, photo, name);
  }
  if (label === 'first visit' && process.env.OFFLINE_READY) {
    await page.locator('[data-testid="offline-ready"][data-state="yes"]').waitFor();
    const asked = server.requests.filter((r) => r.at >= wallStart);
    const bytes = asked.reduce((sum, r) => sum + fileSize(r.path), 0);
    console.log(`${at()} s  ${label}: ready offline; ${asked.length} requests, ${(bytes / 1e6).toFixed(1)} MB of files (${asked.filter((r) => fileSize(r.path) > 1e6).map((r) => r.path).join(', ')})`);
  }
  const messages = (await page.evaluate(() => window.__probe)).filter(([what]) => what !== 'ModelProgress');
  console.log(`${label}, in the page (s from navigation): ${messages.map(([what, ms]) => `${what} ${(ms / 1000).toFixed(3)}`).join(', ')}`);
  const resources = await page.evaluate(() => performance.getEntriesByType('resource')
    .map((e) => `${e.name.split('/').pop()} ${(e.startTime / 1000).toFixed(3)}-${(e.responseEnd / 1000).toFixed(3)}`));
  console.log(`${label}, resources (s from navigation): ${resources.join(', ')}`);
  return page;
}

const first = await visit('first visit', env('FIRST', 1));
await first.close();
await new Promise((resolve) => setTimeout(resolve, env('WAIT', 3000)));
if (process.env.RESTART) {
  await close({ keepProfile: true });
  ({ context, close } = await browser({ profile, webgpu }));
}
await visit('return visit', env('PASSES', 1), env('DELAY', 0));
await close();
await server.close();

// The app in a second browser engine: Debian's Firefox ESR, which has WebAssembly threads but
// (ESR 140) not relaxed SIMD, and no WebGPU on Linux. The page must start the threaded CPU
// worker's build that this Firefox can compile, on every core, give the CLI's mask, and the
// service worker must precache that build and not the other; with the network off, the app
// opens again and works; and a model download the network broke off goes on from where it stopped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serve, photos, channel, iou, nativeMask, dist } from './harness.mjs';
import { firefox, FIREFOX } from './gecko.mjs';

const server = await serve();
after(() => server.close());

/** A module whose one function is an `f32x4.relaxed_madd`: valid only where relaxed SIMD is. */
const RELAXED_PROBE = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array(16).fill(0)]), 0xfd, 0x85, 0x02, 0x0b];

/** The files of one build of the threaded CPU worker. */
const files = (build) => [`/${build}.js`, `/${build}_bg.wasm`, `/${build}_loader.js`];

test('Firefox ESR: the threaded CPU worker build it can run, on every core, with the CLI\'s mask; only that build precached, and not the main worker; offline after the first visit', { skip: !existsSync(FIREFOX) && `no ${FIREFOX}` }, async () => {
  const browser = await firefox();
  try {
    await browser.goto(`${server.url}/`);
    const facts = await browser.run(`return { ua: navigator.userAgent, isolated: crossOriginIsolated,
      cores: navigator.hardwareConcurrency, relaxed: WebAssembly.validate(new Uint8Array(arguments[0])) }`, RELAXED_PROBE);
    const [build, other] = facts.relaxed ? ['bgone-cpu-worker', 'bgone-cpu-worker-portable'] : ['bgone-cpu-worker-portable', 'bgone-cpu-worker'];
    const { engine, threads } = await browser.ready();
    console.log(`${facts.ua}: isolated ${facts.isolated}, relaxed SIMD ${facts.relaxed}; engine ${engine} on ${threads} threads (${facts.cores} cores)`);
    assert.equal(facts.isolated, true);
    assert.equal(engine, 'cpu', 'automatic mode picked the CPU: this Firefox offers no WebGPU adapter here');
    assert.equal(threads, Math.min(facts.cores, 8));

    const state = await browser.cutOut(join(photos, 'chelsea.png'));
    assert.equal(state, 'done', await browser.run(`return document.querySelector('[data-testid="error"]')?.textContent`));
    const png = await browser.resultPng();
    assert.deepEqual([png.width, png.height], [451, 300]);
    const score = iou(channel(png, 3), nativeMask('chelsea.png'));
    console.log(`Firefox, ${build}: IoU ${score.toFixed(4)} against the CLI's mask`);
    assert.ok(score >= 0.99, `IoU ${score} < 0.99`);

    const asked = new Set(server.requests.map((r) => r.path));
    for (const path of files(build)) assert.ok(asked.has(path), `${path} was not loaded`);
    for (const path of files(other)) assert.ok(!asked.has(path), `${path} was loaded`);
    await browser.until(`return document.querySelector('[data-testid="offline-ready"]')?.dataset.state === 'yes'`, 'offline readiness');
    const cached = await browser.runAsync(`caches.keys().then((names) => caches.open(names.find((n) => n.startsWith('bgone-shell-'))))
      .then((cache) => cache.keys()).then((keys) => done(keys.map((k) => new URL(k.url).pathname).filter((p) => p.startsWith('/bgone-') && p.includes('worker'))))`);
    console.log(`workers precached: ${cached.sort().join(', ')}`);
    // Nor the main worker (WebGPU, and the CPU on one thread): without a WebGPU adapter, in an
    // isolated page, it never starts here.
    assert.deepEqual(cached.sort(), files(build).sort());

    // The network off (the server drops every connection): the page opens again from the service
    // worker, the model from its cache, and a photo is cut out without a request reaching out.
    server.setOffline(true);
    const seen = server.requests.length;
    await browser.goto(`${server.url}/`);
    // Isolated by the service worker's headers, so on every core offline too.
    assert.equal((await browser.ready()).threads, threads);
    const offline = await browser.cutOut(join(photos, 'rocket.jpg'));
    const tried = server.requests.slice(seen).map((r) => r.path).filter((path) => path !== '/sw.js');
    console.log(`offline: cutout ${offline}; requests tried meanwhile: ${tried.length ? tried.join(', ') : 'none'}`);
    assert.equal(offline, 'done');
    assert.deepEqual(tried, []);
  } finally {
    server.setOffline(false);
    await browser.close();
  }
});

test('Firefox ESR: a model download the network broke off goes on from where it stopped', { skip: !existsSync(FIREFOX) && `no ${FIREFOX}` }, async () => {
  // The server drops the connection about 25 MB into the model (200 Mbit/s) and comes back;
  // Firefox stays online, so the page's own retry takes it up.
  const slow = await serve(dist, { modelMbps: 200 });
  let browser;
  try {
    browser = await firefox();
    await browser.goto(`${slow.url}/?engine=cpu`);
    await browser.until(`return document.querySelector('[data-testid="offline-ready"]')?.dataset.state === 'downloading'`, 'the download');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    slow.setOffline(true);
    await browser.until(`return document.querySelector('[data-testid="status"]')?.dataset.state === 'error'`, 'the download to fail');
    slow.setOffline(false);
    assert.equal((await browser.ready()).engine, 'cpu');
    const asked = slow.requests.filter((r) => r.path.endsWith('.safetensors') && !r.offline);
    console.log(`Firefox: the model asked for ${asked.length} times, the last ${asked.at(-1).range ?? 'whole'}`);
    assert.match(asked.at(-1).range ?? '', /^bytes=[1-9]\d{6,}-$/);
    await browser.until(`return document.querySelector('[data-testid="offline-ready"]')?.dataset.state === 'yes'`, 'offline readiness');
  } finally {
    await browser?.close();
    await slow.close();
  }
});

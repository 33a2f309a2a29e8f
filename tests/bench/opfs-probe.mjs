// How fast a worker gets the cached model (88 MB) into fresh WebAssembly memory after a browser
// restart, three ways: Cache Storage's body stream copied chunk by chunk (what the app's worker
// does, src/browser/body_stream.rs), the body's blob read whole by `FileReaderSync` and copied,
// and the origin private file system's synchronous access handle reading straight into the
// memory (a copy the probe writes itself; the app keeps the weights in Cache Storage only). Each
// round starts the order one way further on. A tool, not a test:
//   ROUNDS=4 node tests/bench/opfs-probe.mjs   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, ready, dist } from '../web/harness.mjs';

const server = await serve(dist);
let { context, close, profile } = await browser();
const installed = await context.newPage();
await installed.goto(`${server.url}/?engine=cpu&size=256`);
await cutOut(installed, 'chelsea.png');
await installed.evaluate(async () => {
  const name = (await caches.keys()).find((n) => n.startsWith('bgone-model'));
  const cache = await caches.open(name);
  const [request] = await cache.keys();
  const blob = await (await cache.match(request)).blob();
  const root = await navigator.storage.getDirectory();
  const file = await (await root.getFileHandle('probe.bin', { create: true })).createWritable();
  await file.write(blob);
  await file.close();
});
await close({ keepProfile: true });

const WORKER = `
onmessage = async ({ data: how }) => {
  const fresh = (bytes) => new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) + 1, maximum: Math.ceil(bytes / 65536) + 1, shared: true });
  const start = performance.now();
  let bytes = 0;
  let chunks = 0;
  const cached = async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('bgone-model'));
    const cache = await caches.open(name);
    const [request] = await cache.keys();
    return cache.match(request);
  };
  if (how === 'cache') {
    const response = await cached();
    // The stream does not say its length up front: room for the 88 MB model and more.
    const into = new Uint8Array(fresh(90000000).buffer);
    const reader = response.body.getReader();
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      into.set(part.value, bytes);
      bytes += part.value.length;
      chunks += 1;
    }
  } else if (how === 'readerSync') {
    const blob = await (await cached()).blob();
    const whole = new Uint8Array(new FileReaderSync().readAsArrayBuffer(blob));
    new Uint8Array(fresh(blob.size).buffer).set(whole);
    bytes = whole.length;
  } else {
    const root = await navigator.storage.getDirectory();
    const handle = await (await root.getFileHandle('probe.bin')).createSyncAccessHandle();
    const size = handle.getSize();
    const into = new Uint8Array(fresh(size).buffer, 0, size);
    bytes = handle.read(into, { at: 0 });
    handle.close();
  }
  postMessage(how + ' ' + (performance.now() - start).toFixed(0) + ' ms, ' + bytes + ' bytes' + (chunks ? ' in ' + chunks + ' chunks' : ''));
};`;

server.overrides.set('/opfs-probe-worker.js', Buffer.from(WORKER));
const rounds = Number(process.env.ROUNDS ?? 4);
for (let round = 0; round < rounds; round++) {
  ({ context, close } = await browser({ profile }));
  const page = await context.newPage();
  page.on('crash', () => console.log('the page crashed'));
  await page.goto(`${server.url}/?engine=cpu&size=256`);
  await ready(page);
  await page.waitForTimeout(2000);
  const ways = ['cache', 'opfs', 'readerSync'];
  const order = ways.map((_, i) => ways[(i + round) % ways.length]);
  const times = await page.evaluate(async ({ order }) => {
    const url = '/opfs-probe-worker.js';
    const out = [];
    for (const how of order) {
      const worker = new Worker(url);
      out.push(await new Promise((resolve) => { worker.onmessage = ({ data }) => resolve(data); worker.postMessage(how); }));
      worker.terminate();
    }
    return out;
  }, { order });
  console.log(`round ${round + 1}: ${times.join('; ')}`);
  await close({ keepProfile: true });
}
await server.close();

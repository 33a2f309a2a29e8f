// Whether the model would be read sooner from several Cache Storage entries read side by side
// than from one: a visit stores the app's model, then copies its bytes into a scratch cache cut
// into 1, 2, 3, 4 and 6 entries. A worker then reads each cut (in the order ORDER, default
// 1,2,4 four times) with BYOB readers, one per entry at once, into one fresh shared WebAssembly
// memory, each entry at its own offset, as the app's worker reads the model into its memory (no
// check). Prints each read's time and how many reads it took. RESTART=1 starts the browser again
// on the profile before the reads. A tool, not a test:
//   node tests/bench/split-probe.mjs   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, ready, dist } from '../web/harness.mjs';

const CUTS = [1, 2, 3, 4, 6];
const server = await serve(dist);
let { context, close, profile } = await browser();
const installed = await context.newPage();
await installed.goto(`${server.url}/?engine=cpu&size=256`);
await cutOut(installed, 'chelsea.png');
const length = await installed.evaluate(async (cuts) => {
  const model = await caches.open((await caches.keys()).find((n) => n.startsWith('bgone-model')));
  const [request] = await model.keys();
  const bytes = new Uint8Array(await (await model.match(request)).arrayBuffer());
  const scratch = await caches.open('probe-split');
  for (const n of cuts) {
    const size = Math.ceil(bytes.length / n);
    for (let i = 0; i < n; i++) await scratch.put(`/probe/${n}/${i}`, new Response(bytes.slice(i * size, (i + 1) * size)));
  }
  return bytes.length;
}, CUTS);
await installed.close();
if (process.env.RESTART) {
  await close({ keepProfile: true });
  ({ context, close } = await browser({ profile }));
}

// A worker script from the server (the app's Content-Security-Policy allows no blob: workers).
server.overrides.set('/split-probe-worker.js', Buffer.from(`
onmessage = async ({ data: n }) => {
  const scratch = await caches.open('probe-split');
  const start = performance.now();
  const responses = await Promise.all(Array.from({ length: n }, (_, i) => scratch.match('/probe/' + n + '/' + i)));
  const memory = new WebAssembly.Memory({ initial: Math.ceil(${length} / 65536) + 1, maximum: 16384, shared: true });
  let reads = 0;
  const readInto = async (response, at) => {
    const reader = response.body.getReader({ mode: 'byob' });
    let buffer = new ArrayBuffer(4 << 20);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (value?.length) { new Uint8Array(memory.buffer, at, value.length).set(value); at += value.length; reads++; }
      if (done) break;
      buffer = value.buffer;
    }
  };
  await Promise.all(responses.map((response, i) => readInto(response, i * Math.ceil(${length} / n))));
  postMessage({ entries: n, ms: Math.round(performance.now() - start), reads });
};
`));

const page = await context.newPage();
await page.goto(`${server.url}/?engine=cpu&size=256`);
await ready(page);
await page.waitForTimeout(1000);
const order = (process.env.ORDER ?? '1,2,4,1,2,4,1,2,4,1,2,4').split(',').map(Number).filter((n) => CUTS.includes(n));
const times = {};
for (const n of order) {
  const result = await page.evaluate((n) => new Promise((resolve) => {
    const worker = new Worker('/split-probe-worker.js');
    worker.onmessage = ({ data }) => { worker.terminate(); resolve(data); };
    worker.postMessage(n);
  }), n);
  console.log(JSON.stringify(result));
  (times[n] ??= []).push(result.ms);
  await page.waitForTimeout(500);
}
console.log(`ms by number of entries: ${JSON.stringify(times)}`);
await close();
await server.close();

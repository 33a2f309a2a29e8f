// How fast this Chromium hands the cached model (88 MB in Cache Storage) to script, four ways, in
// a browser started again on a profile that has it: the body's stream read chunk by chunk (what
// the worker does, src/browser/body_stream.rs), the body as one ArrayBuffer, and the body as a
// Blob read in 4 MiB slices, one at a time and two at a time. Nothing is copied into WebAssembly
// memory or hashed, so the worker's "read" step minus these is its own work. A tool, not a test:
//   ROUNDS=3 node tests/bench/read-probe.mjs   (dist/ as built; BGONE_DIST=path)
import { serve, browser, cutOut, ready, dist } from '../web/harness.mjs';

const server = await serve(dist);
let { context, close, profile } = await browser();
const installed = await context.newPage();
await installed.goto(`${server.url}/?engine=cpu&size=256`);
await cutOut(installed, 'chelsea.png');
await close({ keepProfile: true });
({ context, close } = await browser({ profile }));
const page = await context.newPage();
await page.goto(`${server.url}/?engine=cpu&size=256`);
await ready(page);
await page.waitForTimeout(2000);

for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  const times = await page.evaluate(async () => {
    const name = (await caches.keys()).find((n) => n.startsWith('bgone-model'));
    const cache = await caches.open(name);
    const [request] = await cache.keys();
    const timed = async (how) => {
      const start = performance.now();
      const bytes = await how(await cache.match(request));
      return `${(performance.now() - start).toFixed(0)} ms (${bytes} bytes)`;
    };
    const slices = (parallel) => async (response) => {
      const blob = await response.blob();
      const starts = [];
      for (let at = 0; at < blob.size; at += 4 << 20) starts.push(at);
      let bytes = 0;
      const reader = async () => {
        for (let at = starts.shift(); at !== undefined; at = starts.shift()) {
          const slice = await blob.slice(at, at + (4 << 20)).arrayBuffer();
          bytes += slice.byteLength;
        }
      };
      await Promise.all(Array.from({ length: parallel }, reader));
      return bytes;
    };
    return {
      stream: await timed(async (response) => {
        const reader = response.body.getReader();
        let bytes = 0;
        for (let part = await reader.read(); !part.done; part = await reader.read()) bytes += part.value.length;
        return bytes;
      }),
      arrayBuffer: await timed(async (response) => (await response.arrayBuffer()).byteLength),
      slices: await timed(slices(1)),
      slicesTwoAtATime: await timed(slices(2)),
    };
  });
  console.log(JSON.stringify(times));
}
await close();
await server.close();

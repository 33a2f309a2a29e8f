// Cutout times in Debian's Firefox ESR (threads, no relaxed SIMD, no WebGPU on Linux), driven by
// geckodriver: the engine and its threads once ready, the first cutout and NEXT more (default 2)
// of the same photo. Compare builds with BGONE_DIST. A tool, not a test (firefox.test.mjs checks
// the outcome):
//   node tests/bench/firefox-probe.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { join } from 'node:path';
import { serve, dist, photos } from '../web/harness.mjs';
import { firefox } from '../web/gecko.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const server = await serve(dist);
const browser = await firefox();
try {
  const opened = Date.now();
  await browser.goto(`${server.url}/?engine=cpu`);
  const { engine, threads } = await browser.ready();
  console.log(`ready ${Date.now() - opened} ms after the navigation: ${engine} on ${threads} thread(s)`);
  const loaders = server.requests.map((r) => r.path).filter((path) => path.endsWith('_loader.js'));
  console.log(`worker loaders asked for (the page's and the service worker's precache): ${[...new Set(loaders)].join(', ')}`);
  for (let count = 1; count <= 1 + Number(process.env.NEXT ?? 2); count++) {
    const given = Date.now();
    const state = await browser.cutOut(join(photos, photo), count);
    console.log(`cutout ${count}: ${state} in ${Date.now() - given} ms`);
  }
} finally {
  await browser.close();
  await server.close();
}

// Cutout times in Debian's Firefox ESR (threads, no relaxed SIMD, no WebGPU on Linux), driven by
// geckodriver, for our app and, with `peer` among SIDES, the peer's page of bench.mjs (built by
// scripts/bench-browser.sh into tests/bench/build/peer): per side, a fresh profile, the first
// cutout from the navigation (the model's download included) and NEXT more (default 2) of the
// same photo, ROUNDS times (default 1), the sides in turn. Compare builds with BGONE_DIST. A
// tool, not a test (firefox.test.mjs checks the outcome):
//   SIDES=ours,peer node tests/bench/firefox-probe.mjs [photo]   (dist/ as built; BGONE_DIST=path)
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve, dist, photos, median } from '../web/harness.mjs';
import { firefox } from '../web/gecko.mjs';
import { serveIsolated } from './server.mjs';

const photo = process.argv[2] ?? 'chelsea.png';
const sides = (process.env.SIDES ?? 'ours').split(',');
const servers = {
  ours: sides.includes('ours') && (await serve(dist)),
  peer: sides.includes('peer') && (await serveIsolated(join(dirname(fileURLToPath(import.meta.url)), 'build', 'peer'))),
};
const urls = { ours: () => `${servers.ours.url}/?engine=cpu`, peer: () => `${servers.peer.url}/?device=cpu` };
const firsts = Object.fromEntries(sides.map((side) => [side, []]));
const nexts = Object.fromEntries(sides.map((side) => [side, []]));
try {
  for (let round = 1; round <= Number(process.env.ROUNDS ?? 1); round++) {
    for (const side of sides) {
      const browser = await firefox();
      try {
        const opened = Date.now();
        await browser.goto(urls[side]());
        const { engine, threads } = await browser.ready();
        const ready = Date.now() - opened;
        for (let count = 1; count <= 1 + Number(process.env.NEXT ?? 2); count++) {
          const given = Date.now();
          const state = await browser.cutOut(join(photos, photo), count);
          if (state !== 'done') throw new Error(`${side}: cutout ${count} ${state}`);
          (count === 1 ? firsts : nexts)[side].push(Date.now() - (count === 1 ? opened : given));
        }
        console.log(`round ${round}, ${side}: ${engine} on ${threads ?? '?'} thread(s), ready ${ready} ms; first cutout ${firsts[side].at(-1)} ms from the navigation; next ${nexts[side].slice(-Number(process.env.NEXT ?? 2)).join(', ')} ms`);
      } finally {
        await browser.close();
      }
    }
  }
  for (const side of sides) console.log(`${side}: first cutout median ${median(firsts[side])} ms, next cutouts median ${median(nexts[side])} ms`);
  if (sides.includes('ours') && sides.includes('peer')) {
    console.log(`ours / peer: first ${(median(firsts.ours) / median(firsts.peer)).toFixed(2)}x, next ${(median(nexts.ours) / median(nexts.peer)).toFixed(2)}x`);
  }
} finally {
  for (const server of Object.values(servers)) if (server) await server.close();
}

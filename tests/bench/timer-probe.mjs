// Shows why V8 does not put the CPU worker's optimised code in Chromium's code cache on its 2 s
// timer (README, Benchmark). A page compiles a module of two hot functions, f and g, and runs
// them. V8 says "more code can be cached" (the trace's wasm.CompilationChunkFinished) 2 s after
// an optimised function; when another is optimised while that timer runs, V8 sets it again for
// the milliseconds left but passes them as seconds (TriggerCachingAfterTimeout in V8's
// src/wasm/module-compiler.cc). Three runs: f alone; g optimised PAUSE ms after f; g optimised a
// few ms after f. A tool for that diagnosis, not a test (about 2 minutes):
//   node tests/bench/timer-probe.mjs            (PAUSE=500 IDLE=30000, in ms)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, browser, traced } from '../web/harness.mjs';

const PAUSE = Number(process.env.PAUSE ?? 500);
const IDLE = Number(process.env.IDLE ?? 30000);

// The module, encoded by hand (no assembler needed): two exported functions (i32) -> i32, each a
// loop whose body is 150 rounds of multiply, rotate and xor; enough optimised code (over V8's
// 1,000 bytes) to start the caching timer.
// Signed LEB128, as i32.const takes; sizes and counts read back the same as unsigned.
const leb = (n) => { const out = []; do { let b = n & 0x7f; n >>= 7; if ((n !== 0 || b & 0x40) && n !== -1) b |= 0x80; out.push(b); } while (out.at(-1) & 0x80); return out; };
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
const vec = (items) => [...leb(items.length), ...items.flat()];
const body = (salt) => {
  const rounds = Array.from({ length: 150 }, (_, k) => [0x20, 2, 0x41, ...leb(k * 7919 + salt), 0x6c, 0x41, ...leb(k % 31 + 1), 0x77, 0x20, 1, 0x73, 0x21, 2]).flat();
  const code = [0x01, 0x02, 0x7f, 0x03, 0x40, ...rounds, 0x20, 1, 0x41, 1, 0x6a, 0x22, 1, 0x20, 0, 0x49, 0x0d, 0, 0x0b, 0x20, 2, 0x0b];
  return [...leb(code.length), ...code];
};
const name = (s) => [...leb(s.length), ...Buffer.from(s)];
const wasm = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
  ...section(1, vec([[0x60, 1, 0x7f, 1, 0x7f]])),
  ...section(3, vec([[0], [0]])),
  ...section(7, vec([[...name('f'), 0, 0], [...name('g'), 0, 1]])),
  ...section(10, vec([body(1), body(2)])),
]);
const dir = mkdtempSync(join(tmpdir(), 'bgone-timer-probe-'));
writeFileSync(join(dir, 'm.wasm'), wasm);
writeFileSync(join(dir, 'index.html'), "<script>window.ready = WebAssembly.compileStreaming(fetch('m.wasm')).then((m) => WebAssembly.instantiate(m)).then((i) => { window.inst = i; });</script>");
const server = await serve(dir);

/** Runs `steps` (function names joined by `+` run in one go, or a pause in ms) in a fresh browser,
 *  each function for `rounds` loop rounds, and returns when the functions were optimised and
 *  when V8 said "more code can be cached", in ms from the start of the trace. */
async function run(steps, rounds) {
  const { context, close } = await browser();
  const page = await context.newPage();
  const events = await traced(context, page, ['v8.wasm'], async () => {
    await page.goto(`${server.url}/index.html`);
    await page.evaluate(() => window.ready);
    for (const step of steps) {
      if (typeof step === 'number') await page.waitForTimeout(step);
      else await page.evaluate(([names, n]) => { for (const f of names.split('+')) window.inst.exports[f](n); }, [step, rounds]);
    }
    await page.waitForTimeout(IDLE);
  });
  await close();
  const start = Math.min(...events.filter((e) => e.ts > 0).map((e) => e.ts));
  const at = (name) => events.filter((e) => e.name === name).map((e) => Math.round((e.ts + (e.dur ?? 0) - start) / 1000));
  return { optimised: at('wasm.TopTierCompilation'), cached: at('wasm.CompilationChunkFinished') };
}

// `f` alone; `g` optimised PAUSE ms after `f`; and `g` optimised a few ms after `f` (short loops,
// run back to back), where V8 waits that many seconds instead of milliseconds.
for (const [steps, rounds] of [[['f'], 2_000_000], [['f', PAUSE, 'g'], 2_000_000], [['f+g'], 20_000]]) {
  const { optimised, cached } = await run(steps, rounds);
  const gap = optimised.length > 1 ? ` (${optimised[1] - optimised[0]} ms apart)` : '';
  console.log(`${steps.join(', ')}: optimised at ${optimised.join(', ')} ms${gap}; "more code can be cached" at ${cached.length ? `${cached.join(', ')} ms` : `never within ${IDLE / 1000} s of the last step`}`);
}
await server.close();

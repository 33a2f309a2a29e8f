// Peak resident memory of one Chromium's renderer processes (the page, its workers and the
// onnxruntime threads live there), read from /proc: CDP reports no process memory. Keyed to one
// browser's process tree, so two browsers open side by side do not mix.
import { processTable, rendererKib } from '../web/harness.mjs';

/** Pids of the browsers this process has started (Playwright spawns Chromium directly). */
export function browserPids() {
  const pids = new Set();
  for (const [pid, { parent, cmdline }] of processTable()) {
    if (parent === process.pid && cmdline.includes('chromium')) pids.add(pid);
  }
  return pids;
}

/** Samples every `everyMs` until stop(), which returns the peak in MiB: the largest sum of
 *  VmRSS seen, or one renderer's own high-water mark (VmHWM) if that was higher between samples. */
export function sampleRenderers(browserPid, everyMs = 200) {
  let peak = 0;
  const sample = () => { const { rss, hwm } = rendererKib(browserPid); peak = Math.max(peak, rss, hwm); };
  const timer = setInterval(sample, everyMs);
  return { stop: () => { sample(); clearInterval(timer); return peak / 1024; } };
}

// Peak resident memory of one Chromium's renderer processes (the page, its workers and the
// onnxruntime threads live there), read from /proc: CDP reports no process memory. Keyed to one
// browser's process tree, so two browsers open side by side do not mix.
import { readFileSync, readdirSync } from 'node:fs';

function processTable() {
  const table = new Map();   // pid -> { parent, cmdline }
  for (const name of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      // The command name in /proc/PID/stat may hold spaces; the fields after its ')' do not.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(name), { parent, cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8') });
    } catch { /* the process ended meanwhile */ }
  }
  return table;
}

/** Pids of the browsers this process has started (Playwright spawns Chromium directly). */
export function browserPids() {
  const pids = new Set();
  for (const [pid, { parent, cmdline }] of processTable()) {
    if (parent === process.pid && cmdline.includes('chromium')) pids.add(pid);
  }
  return pids;
}

function rendererKib(browserPid) {
  const table = processTable();
  const under = (pid) => { for (let p = pid; p > 1; p = table.get(p)?.parent) if (p === browserPid) return true; return false; };
  let rss = 0, hwm = 0;
  for (const [pid, { cmdline }] of table) {
    if (!cmdline.includes('--type=renderer') || !under(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]);
      hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(status)[1]));
    } catch { /* the process ended meanwhile */ }
  }
  return { rss, hwm };
}

/** Samples every `everyMs` until stop(), which returns the peak in MiB: the largest sum of
 *  VmRSS seen, or one renderer's own high-water mark (VmHWM) if that was higher between samples. */
export function sampleRenderers(browserPid, everyMs = 200) {
  let peak = 0;
  const sample = () => { const { rss, hwm } = rendererKib(browserPid); peak = Math.max(peak, rss, hwm); };
  const timer = setInterval(sample, everyMs);
  return { stop: () => { sample(); clearInterval(timer); return peak / 1024; } };
}

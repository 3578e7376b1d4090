// What a server process tree costs, read from /proc (Linux): CPU seconds from
// /proc/<pid>/stat (utime+stime, plus cutime+cstime: the reaped children, such as
// PostgreSQL backends that have exited), and memory from /proc/<pid>/smaps_rollup (PSS, which
// splits shared pages such as PostgreSQL's shared_buffers between the processes mapping
// them, so it sums correctly; and RSS, which counts shared pages once per process).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks = 0;
function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime + cutime + cstime, in clock ticks. */
  ticks: number;
}

function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i] ?? 0);
  return { pid, ppid: n(1), ticks: n(11) + n(12) + n(13) + n(14) };
}

/** The roots and all their live descendants. */
export function processTree(roots: readonly number[]): Stat[] {
  const all: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map<number, Stat[]>();
  for (const s of all) {
    const list = children.get(s.ppid);
    if (list) list.push(s);
    else children.set(s.ppid, [s]);
  }
  const out: Stat[] = [];
  const byPid = new Map(all.map((s) => [s.pid, s]));
  const stack = roots.map((p) => byPid.get(p)).filter((s): s is Stat => !!s);
  const seen = new Set<number>();
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s.pid)) continue;
    seen.add(s.pid);
    out.push(s);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/** CPU seconds used so far by the tree (live processes and the children they reaped). */
export function treeCpuSeconds(roots: readonly number[]): number {
  return processTree(roots).reduce((a, s) => a + s.ticks, 0) / ticksPerSecond();
}

export interface MemorySample {
  pssBytes: number;
  rssBytes: number;
  processes: number;
}

function readMemory(pid: number): { pss: number; rss: number } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return null;
  }
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), rss: kb('Rss') };
}

export function treeMemory(roots: readonly number[]): MemorySample {
  let pss = 0;
  let rss = 0;
  let processes = 0;
  for (const s of processTree(roots)) {
    const m = readMemory(s.pid);
    if (!m) continue;
    pss += m.pss;
    rss += m.rss;
    processes += 1;
  }
  return { pssBytes: pss, rssBytes: rss, processes };
}

export interface PeakMemory {
  peakPssBytes: number;
  peakRssBytes: number;
  maxProcesses: number;
  samples: number;
}

/**
 * Samples a process tree's memory in the background and keeps the peak. Reading
 * smaps_rollup of a thousand backends takes a while, so the interval stretches to ten
 * times the cost of the last sample: the sampler never takes more than a tenth of a core.
 */
export class MemorySampler {
  private timer: NodeJS.Timeout | null = null;
  private peak: PeakMemory = { peakPssBytes: 0, peakRssBytes: 0, maxProcesses: 0, samples: 0 };

  constructor(
    private readonly roots: () => readonly number[],
    private readonly baseIntervalMs = 250,
  ) {}

  start(): void {
    this.reset();
    const tick = (): void => {
      const t0 = performance.now();
      this.sampleNow();
      const cost = performance.now() - t0;
      this.timer = setTimeout(tick, Math.max(this.baseIntervalMs, cost * 10));
      this.timer.unref();
    };
    tick();
  }

  sampleNow(): void {
    const roots = this.roots();
    if (roots.length === 0) return;
    const m = treeMemory(roots);
    this.peak.peakPssBytes = Math.max(this.peak.peakPssBytes, m.pssBytes);
    this.peak.peakRssBytes = Math.max(this.peak.peakRssBytes, m.rssBytes);
    this.peak.maxProcesses = Math.max(this.peak.maxProcesses, m.processes);
    this.peak.samples += 1;
  }

  /** Starts a new peak (for the next phase). */
  reset(): void {
    this.peak = { peakPssBytes: 0, peakRssBytes: 0, maxProcesses: 0, samples: 0 };
  }

  read(): PeakMemory {
    return { ...this.peak };
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Bytes used by the files under a path (du). */
export function diskUsage(p: string): number {
  try {
    return Number(execFileSync('du', ['-s', '--block-size=1', p], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

/** CPU seconds the whole machine has been busy (all CPUs; /proc/stat), to tell other work apart. */
export function machineBusySeconds(): number {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return busy / ticksPerSecond();
  } catch {
    return NaN;
  }
}

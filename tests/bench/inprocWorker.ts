// The in-process target's own process, so that its memory and CPU are measured like a
// server's: forked by the benchmark with an IPC channel, it opens the snapshot files and
// runs the phases it is sent.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DuckDriver, type DuckTargetSpec } from './duckDriver.js';
import { treeCpuSeconds } from './procstat.js';
import { runPhase, type PhaseResult, type PhaseSpec } from './workloads.js';

type Request = { type: 'init'; spec: DuckTargetSpec } | { type: 'phase'; id: number; spec: PhaseSpec } | { type: 'close' };
type Reply = { type: 'ready' } | { type: 'result'; id: number; result: PhaseResult } | { type: 'error'; id: number; message: string };

/** The parent's handle on a worker. */
export class InprocWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: PhaseResult) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: Reply) => {
      if (m.type === 'ready') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.type === 'result') w.resolve(m.result);
      else w.reject(new Error(m.message));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`in-process worker exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(spec: DuckTargetSpec, env: NodeJS.ProcessEnv): Promise<InprocWorker> {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker = new InprocWorker(child);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply): void => {
        if (m.type === 'ready') {
          child.off('message', onMessage);
          resolve();
        } else if (m.type === 'error') reject(new Error(m.message));
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`in-process worker exited with ${code}`)));
      child.send({ type: 'init', spec } satisfies Request);
    });
    return worker;
  }

  runPhase(spec: PhaseSpec): Promise<PhaseResult> {
    if (this.exited) return Promise.reject(new Error('in-process worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ type: 'phase', id, spec } satisfies Request);
    });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' } satisfies Request);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await gone;
    clearTimeout(t);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------
// The child's side.

function serve(): void {
  let driver: DuckDriver | null = null;
  const reply = (m: Reply): void => void process.send!(m);
  // The parent going away ends the worker.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: Request) => {
    if (m.type === 'init') {
      driver = new DuckDriver(m.spec);
      reply({ type: 'ready' });
    } else if (m.type === 'phase') {
      if (!driver) return reply({ type: 'error', id: m.id, message: 'not initialised' });
      runPhase(driver, m.spec, () => treeCpuSeconds([process.pid])).then(
        (result) => reply({ type: 'result', id: m.id, result }),
        (e: unknown) => reply({ type: 'error', id: m.id, message: e instanceof Error ? e.message : String(e) }),
      );
    } else if (m.type === 'close') {
      void (async () => {
        await driver?.close();
        process.exit(0);
      })();
    }
  });
}

if (process.send && process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) serve();

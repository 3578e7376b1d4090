// Whatever the benchmark starts, it stops: every process and folder registers an undo
// action here; they run in reverse order at the end, on an exception, on SIGINT/SIGTERM
// and (their synchronous part) when the process exits.
import fs from 'node:fs';

interface Action {
  name: string;
  run: () => Promise<void> | void;
  /** Last resort when the process exits before run() could finish (must be synchronous). */
  onExit?: () => void;
}

const actions: Action[] = [];
let installed = false;
let cleaning: Promise<void> | null = null;

/** Runs a registered action early (and unregisters it); cancel() unregisters it without running it. */
export type CleanupHandle = (() => Promise<void>) & { cancel(): void };

/** Registers an undo action. */
export function onCleanup(name: string, run: () => Promise<void> | void, onExit?: () => void): CleanupHandle {
  install();
  const a: Action = { name, run, onExit };
  actions.push(a);
  const forget = (): boolean => {
    const i = actions.indexOf(a);
    if (i < 0) return false;
    actions.splice(i, 1);
    return true;
  };
  return Object.assign(
    async () => {
      if (forget()) await a.run();
    },
    { cancel: () => void forget() },
  );
}

/** A temporary folder removed at cleanup (unless keep is set). */
export function tempFolder(dir: string, keep: boolean): void {
  if (keep) return;
  onCleanup(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), () => fs.rmSync(dir, { recursive: true, force: true }));
}

/** Runs every registered action, newest first; errors are reported and do not stop the rest. */
export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (actions.length > 0) {
      const a = actions.pop()!;
      try {
        await a.run();
      } catch (e) {
        process.stderr.write(`bench: cleanup "${a.name}" failed: ${(e as Error).message}\n`);
      }
    }
  })();
  return cleaning;
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const a of [...actions].reverse()) {
      try {
        a.onExit?.();
      } catch {
        // best effort while exiting
      }
    }
  });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      process.stderr.write(`bench: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    signalled = true;
    process.stderr.write(`bench: ${signal}, cleaning up (processes, clusters, temp folders)...\n`);
    const hard = setTimeout(() => process.kill(process.pid, 'SIGKILL'), 60_000);
    hard.unref();
    // Everything is stopped and removed by then. The process itself ends with SIGKILL:
    // a normal exit would wait for DuckDB work still running on the thread pool (a data
    // generation or a load, which cannot be interrupted from here) to finish first.
    void cleanupAll().finally(() => {
      process.stderr.write('bench: cleaned up, exiting\n');
      process.kill(process.pid, 'SIGKILL');
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

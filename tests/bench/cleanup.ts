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

/** Registers an undo action; returns a function that runs and unregisters it early. */
export function onCleanup(name: string, run: () => Promise<void> | void, onExit?: () => void): () => Promise<void> {
  install();
  const a: Action = { name, run, onExit };
  actions.push(a);
  return async () => {
    const i = actions.indexOf(a);
    if (i < 0) return;
    actions.splice(i, 1);
    await a.run();
  };
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
    const hard = setTimeout(() => process.exit(130), 60_000);
    hard.unref();
    void cleanupAll().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

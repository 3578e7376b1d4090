// Running the operator CLI as a real process (`node --import tsx src/cli/main.ts ...`) and
// checking its results. Spawning costs ~0.5 s, so tests run independent commands in parallel.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect } from 'vitest';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'src', 'cli', 'main.ts');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tg(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, TENANTGATE_DATA: undefined, TENANTGATE_DEBUG: undefined, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Asserts a failure: the given exit status and exactly one line "tenantgate: ..." on stderr. */
export function expectError(r: Result, code: number, message: string | RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('tenantgate: warning:'));
  expect(r.code, r.stderr).toBe(code);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tenantgate: /);
  if (typeof message === 'string') expect(lines[0]).toContain(message);
  else expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

export function expectOk(r: Result): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(0);
}

/**
 * `tenantgate serve` as its own process, as an operator runs it: for tests that
 * measure the server (memory) or need it to outlive a client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { certsDir } from './gateway.js';

export interface ServerProcess {
  port: number;
  pid: number;
  child: ChildProcess;
  output: () => string;
  /** Peak resident memory of the process so far, in bytes (Linux VmHWM). */
  peakRss(): number;
  stop(): Promise<void>;
}

export async function startServerProcess(dataDir: string, config: Record<string, unknown> = {}): Promise<ServerProcess> {
  const certs = certsDir();
  const configFile = path.join(dataDir, 'test-config.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({ tls: { cert: path.join(certs, 'server.crt'), key: path.join(certs, 'server.key') }, ...config }),
  );
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--data', dataDir, '--host', '127.0.0.1', '--port', '0', '--config', configFile],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (e: Error) => {
      child.kill('SIGKILL');
      reject(e);
    };
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /tenantgate listening on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', check);
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    port,
    pid: child.pid!,
    child,
    output: () => out,
    peakRss() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : NaN;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

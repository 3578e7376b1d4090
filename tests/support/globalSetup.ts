import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Development certificates for the whole run, made once by the repository's own script. */
export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-test-certs-'));
  execFileSync('sh', [path.resolve('certs/make-dev-certs.sh'), dir], { stdio: 'ignore' });
  process.env.TENANTGATE_TEST_CERTS = dir;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}

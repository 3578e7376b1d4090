/**
 * Who may log in. SCRAM-SHA-256 only: the registry holds verifiers (salt, iterations,
 * StoredKey, ServerKey), never passwords.
 *
 * The tenant is the startup packet's `database` (clients default it to the user name,
 * and a tenant's first user is named like the tenant). An unknown tenant or user gets
 * a made-up verifier derived from a server secret: the exchange runs to the end and
 * fails exactly like a wrong password, with the same work and the same message, so
 * a client cannot learn which tenants or users exist. A suspended tenant is refused
 * only after a correct password, for the same reason.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { verifyScramSha256Password, type ScramSha256Data } from 'pg-gateway';
import type { LiveRegistry } from '../tenants/liveRegistry.js';
import { ADMIN_DATABASE } from '../tenants/ids.js';
import { SCRAM_ITERATIONS } from '../tenants/registry.js';

export interface Account {
  /** The tenant; for an admin, ADMIN_DATABASE. */
  tenantId: string;
  user: string;
  /** An admin credential: the session reads the admin database. */
  admin?: boolean;
}

export interface Credentials {
  scram: ScramSha256Data;
  /** null: no such tenant or user (the verifier is made up). */
  account: Account | null;
  suspended: boolean;
}

/** The server secret that made-up verifiers derive from; made once per data directory. */
export function loadServerSecret(dataDir: string): Buffer {
  const file = path.join(dataDir, 'server.secret');
  try {
    return fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32);
  try {
    fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file);
    throw e;
  }
}

export class Authenticator {
  constructor(
    private readonly live: LiveRegistry,
    private readonly secret: Buffer,
  ) {}

  private derive(label: string, database: string, user: string, bytes: number): string {
    return crypto
      .createHmac('sha256', this.secret)
      .update(`${label}\0${database}\0${user}`)
      .digest()
      .subarray(0, bytes)
      .toString('base64');
  }

  async credentials(database: string, user: string): Promise<Credentials> {
    if (database === ADMIN_DATABASE) {
      // Only admin credentials open the admin database; a tenant's user is unknown here.
      const record = (await this.live.current()).admins?.find((u) => u.name === user);
      if (record) return { scram: record.scram, account: { tenantId: ADMIN_DATABASE, user, admin: true }, suspended: false };
      return this.madeUp(database, user);
    }
    const tenant = await this.live.tenant(database);
    const record = tenant?.users.find((u) => u.name === user);
    if (tenant && record) {
      return { scram: record.scram, account: { tenantId: tenant.id, user }, suspended: tenant.status !== 'active' };
    }
    return this.madeUp(database, user);
  }

  /** A verifier no password matches, the same for the same names: an unknown login fails like a wrong password. */
  private madeUp(database: string, user: string): Credentials {
    return {
      scram: {
        salt: this.derive('salt', database, user, 16),
        iterations: SCRAM_ITERATIONS,
        storedKey: this.derive('stored', database, user, 32),
        serverKey: this.derive('server', database, user, 32),
      },
      account: null,
      suspended: false,
    };
  }

  /** The client's proof checks out against the verifier (the same work for made-up ones). */
  static verifyProof(authMessage: string, clientProof: string, scram: ScramSha256Data): Promise<boolean> {
    return verifyScramSha256Password({ authMessage, clientProof, storedKey: scram.storedKey });
  }
}

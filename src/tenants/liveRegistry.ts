/**
 * The registry as a running gateway sees it: read once, then read again whenever the
 * file changes (the CLI replaces it atomically, so a new inode or mtime means a new
 * version). Checked before every login and every query, so an operator's change is
 * in force for the next query after the command returns: no restart, no lost session.
 */
import fs from 'node:fs';
import { Registry, type RegistryData, type TenantRecord } from './registry.js';

export class LiveRegistry {
  readonly registry: Registry;
  private data: RegistryData | null = null;
  private stamp = '';
  private loading: Promise<RegistryData> | null = null;

  constructor(dataDir: string) {
    this.registry = new Registry(dataDir);
  }

  /**
   * The file's identity now. A synchronous stat: it is a few microseconds on a local
   * file, where an asynchronous one is a round trip through libuv's thread pool, taken
   * several times by every query.
   */
  private fileStamp(): string {
    try {
      const s = fs.statSync(this.registry.path, { bigint: true });
      return `${s.ino}:${s.mtimeNs}:${s.size}`;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
      throw e;
    }
  }

  /** The current registry; re-read when the file changed since the last look. */
  async current(): Promise<RegistryData> {
    const stamp = this.fileStamp();
    if (this.data && stamp === this.stamp) return this.data;
    if (!this.loading) {
      this.loading = (async () => {
        try {
          const data = await this.registry.read();
          this.data = data;
          this.stamp = stamp;
          return data;
        } finally {
          this.loading = null;
        }
      })();
    }
    return this.loading;
  }

  async tenant(id: string): Promise<TenantRecord | undefined> {
    const data = await this.current();
    return Object.hasOwn(data.tenants, id) ? data.tenants[id] : undefined;
  }
}

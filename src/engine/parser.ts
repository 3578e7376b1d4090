/**
 * DuckDB's parser as a service for the gate: one in-memory instance holding no data,
 * with external access off, used only to turn SQL into its AST and back.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement } from '@duckdb/node-api';
import type { EngineParser } from '../sql/gate.js';

interface Slot {
  conn: DuckDBConnection;
  serialize: DuckDBPreparedStatement;
  deserialize: DuckDBPreparedStatement;
}

export class DuckdbParser implements EngineParser {
  private readonly free: Slot[] = [];
  private readonly waiters: ((s: Slot) => void)[] = [];

  private constructor(private readonly instance: DuckDBInstance) {}

  /** `size` connections: parsing work runs on libuv's pool, this many at once. */
  static async create(size = 2): Promise<DuckdbParser> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: '1',
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      lock_configuration: 'true',
    });
    const p = new DuckdbParser(instance);
    for (let i = 0; i < size; i++) {
      const conn = await instance.connect();
      p.free.push({
        conn,
        serialize: await conn.prepare('SELECT json_serialize_sql($1::VARCHAR)'),
        deserialize: await conn.prepare('SELECT json_deserialize_sql($1::JSON)'),
      });
    }
    return p;
  }

  private async withSlot<T>(fn: (s: Slot) => Promise<T>): Promise<T> {
    const slot = this.free.pop() ?? (await new Promise<Slot>((resolve) => this.waiters.push(resolve)));
    try {
      return await fn(slot);
    } finally {
      const next = this.waiters.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }

  private static async scalar(stmt: DuckDBPreparedStatement, arg: string): Promise<string> {
    stmt.bindVarchar(1, arg);
    const reader = await stmt.runAndReadAll();
    return String(reader.getRows()[0]![0]);
  }

  serialize(sql: string): Promise<string> {
    return this.withSlot((s) => DuckdbParser.scalar(s.serialize, sql));
  }

  deserialize(json: string): Promise<string> {
    return this.withSlot((s) => DuckdbParser.scalar(s.deserialize, json));
  }

  close(): void {
    for (const s of this.free) s.conn.closeSync();
    this.free.length = 0;
    this.instance.closeSync();
  }
}

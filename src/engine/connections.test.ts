import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionPool, MAX_IDLE_CONNECTIONS, MAX_STATEMENTS_PER_CONNECTION, poolLease, preparedFor } from './connections.js';

describe('connections kept between queries', () => {
  let instance: DuckDBInstance;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => instance.closeSync());

  it('keeps each prepared statement per connection, by SQL, and drops the least recently used', async () => {
    const pool = new ConnectionPool(instance);
    const conn = await pool.take();
    const a = await preparedFor(conn, 'SELECT 1 AS a');
    expect(await preparedFor(conn, 'SELECT 1 AS a')).toBe(a);
    const other = await pool.take();
    expect(await preparedFor(other, 'SELECT 1 AS a')).not.toBe(a);
    for (let i = 0; i < MAX_STATEMENTS_PER_CONNECTION; i++) await preparedFor(conn, `SELECT ${i + 2} AS n`);
    // `a` was the least recently used: it was destroyed and is made again.
    await expect(a.run()).rejects.toThrow();
    const again = await preparedFor(conn, 'SELECT 1 AS a');
    expect(again).not.toBe(a);
    expect((await again.runAndReadAll()).getRowsJS()).toEqual([[1]]);
    pool.close();
  });

  it('reuses a connection given back clean, closes one that was not, and keeps a bounded number idle', async () => {
    const pool = new ConnectionPool(instance);
    const first = await pool.take();
    pool.give(first, true);
    expect(await pool.take()).toBe(first);
    pool.give(first, false);
    const next = await pool.take();
    expect(next).not.toBe(first);
    await expect(first.run('SELECT 1')).rejects.toThrow();
    const many = [next];
    for (let i = 0; i < MAX_IDLE_CONNECTIONS + 3; i++) many.push(await pool.take());
    for (const c of many) pool.give(c, true);
    const kept = new Set<unknown>();
    for (let i = 0; i < MAX_IDLE_CONNECTIONS + 3; i++) kept.add(await pool.take());
    expect(many.filter((c) => kept.has(c))).toHaveLength(MAX_IDLE_CONNECTIONS);
    pool.close();
  });

  it('hands out the idle connection that has the statement prepared already', async () => {
    const pool = new ConnectionPool(instance);
    const a = await pool.take();
    const b = await pool.take();
    await preparedFor(a, 'SELECT 1 AS on_a');
    await preparedFor(b, 'SELECT 1 AS on_b');
    pool.give(a, true);
    pool.give(b, true);
    expect(await pool.take('SELECT 1 AS on_a')).toBe(a);
    pool.give(a, true);
    expect(await pool.take('SELECT 1 AS on_b')).toBe(b);
    pool.give(b, true);
    // Nobody has it: the last one given back.
    expect(await pool.take('SELECT 1 AS elsewhere')).toBe(b);
    pool.close();
  });

  it("runs a statement again after an abandoned stream or an interrupt of the idle connection", async () => {
    const pool = new ConnectionPool(instance);
    const conn = await pool.take();
    const big = await preparedFor(conn, 'SELECT * FROM range(1000000) t(i)');
    await (await big.stream()).fetchChunk();
    pool.give(conn, true);
    const again = await pool.take();
    expect(again).toBe(conn);
    again.interrupt();
    const small = await preparedFor(again, 'SELECT 42 AS x');
    expect((await (await small.stream()).fetchChunk())?.getRows()).toEqual([[42]]);
    expect((await (await big.stream()).fetchChunk())?.rowCount).toBeGreaterThan(0);
    pool.close();
  });

  it("closes a lease's connections that were never given back, and refuses new ones after its end", async () => {
    const pool = new ConnectionPool(instance);
    let releases = 0;
    const lease = poolLease({ owner: 't', key: 'k', tables: new Map(), meta: undefined }, pool, () => releases++);
    const kept = await lease.connect();
    const lost = await lease.connect();
    lease.done(kept, true);
    lease.release();
    lease.release();
    expect(releases).toBe(1);
    await expect(lost.run('SELECT 1')).rejects.toThrow();
    await expect(lease.connect()).rejects.toThrow('lease already released');
    expect(await pool.take()).toBe(kept);
    pool.close();
    await expect(kept.run('SELECT 1')).rejects.toThrow();
  });
});

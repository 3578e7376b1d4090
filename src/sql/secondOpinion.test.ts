import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecondOpinion, type Opinion } from './secondOpinion.js';

/** ~20 s of exponential backtracking in node-sql-parser (or it runs out of memory), in 28 bytes. */
const HUNG = 'SELECT ' + '('.repeat(20) + '1';

const select = (...tables: string[]): Opinion => ({ status: 'parsed', kind: 'select', tables });
const write = (...tables: string[]): Opinion => ({ status: 'parsed', kind: 'write', tables });
const other = (...tables: string[]): Opinion => ({ status: 'parsed', kind: 'other', tables });
const unparsed: Opinion = { status: 'unparsed' };

/** Runs `wait` while a 10 ms interval ticks on the main thread; returns its result, the longest gap between ticks, and the elapsed time. */
async function timed<T>(wait: () => Promise<T>): Promise<{ result: T; maxGap: number; elapsed: number }> {
  const start = performance.now();
  let last = start;
  let maxGap = 0;
  const interval = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  try {
    const result = await wait();
    const end = performance.now();
    maxGap = Math.max(maxGap, end - last);
    return { result, maxGap, elapsed: end - start };
  } finally {
    clearInterval(interval);
  }
}

describe('SecondOpinion: kinds and tables', () => {
  let so: SecondOpinion;
  beforeAll(async () => {
    // A generous budget: these are about what node-sql-parser answers, not about time.
    so = SecondOpinion.create({ workers: 2, timeoutMs: 5_000 });
    await so.read('SELECT 1');
  });
  afterAll(() => so.close());

  const cases: Array<[string, Opinion]> = [
    // plain reads
    ['SELECT 1', select()],
    ['SELECT * FROM orders', select('orders')],
    ['SELECT * FROM Orders o JOIN customers c ON o.customer_id = c.id LEFT JOIN items USING (id)', select('customers', 'items', 'orders')],
    ['SELECT * FROM (SELECT * FROM orders) AS o', select('orders')],
    ['SELECT * FROM (SELECT * FROM orders) AS orders', select('orders')],
    ['SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers) AND EXISTS (SELECT 1 FROM items)', select('customers', 'items', 'orders')],
    ['SELECT (SELECT max(total) FROM orders) AS m, a FROM t', select('orders', 't')],
    ['SELECT * FROM a, LATERAL (SELECT * FROM b) l', select('a', 'b')],
    ['SELECT a FROM x UNION SELECT a FROM y EXCEPT SELECT a FROM z', select('x', 'y', 'z')],
    // qualification is dropped, names are lower-cased (quoted or not: node-sql-parser does not say)
    ['SELECT * FROM public.orders', select('orders')],
    ['SELECT * FROM tenant_db.main.orders', select('orders')],
    ['SELECT * FROM "Public"."Orders", "Customers"', select('customers', 'orders')],
    // CTEs
    ['WITH orders AS (SELECT 1) SELECT * FROM orders', select()],
    ['WITH x AS (SELECT * FROM orders) SELECT * FROM x', select('orders')],
    ['WITH a AS (SELECT 1), b AS (SELECT * FROM a) SELECT * FROM b', select()],
    // a non-recursive CTE does not see itself: the inner orders is the table
    ['WITH orders AS (SELECT * FROM orders) SELECT * FROM orders', select('orders')],
    // ...a recursive one does
    ['WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r', select()],
    // a CTE does not see the ones after it
    ['WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b', select('a')],
    // a qualified name is never a CTE
    ['WITH orders AS (SELECT 1) SELECT * FROM orders, public.orders', select('orders')],
    // the WITH of a subquery ends with the subquery
    ['SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x', select('x')],
    // ...and a parenthesised WITH ends at the parenthesis; unparenthesised, it covers the set operation
    ['(WITH x AS (SELECT 1) SELECT * FROM x) UNION SELECT * FROM x', select('x')],
    ['WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT * FROM x', select()],
    // file paths are listed as written; table functions are not listed
    ["SELECT * FROM 'Data/X.csv'", select('data/x.csv')],
    ["SELECT * FROM orders JOIN read_csv('y.csv') r ON true", select('orders')],
    ['SELECT * FROM generate_series(1, 3)', select()],
    // writes
    ['INSERT INTO orders VALUES (1)', write('orders')],
    ['INSERT INTO orders (a) SELECT a FROM staging', write('orders', 'staging')],
    ['UPDATE orders SET total = 0 WHERE id = 1', write('orders')],
    ['DELETE FROM orders WHERE id IN (SELECT id FROM old)', write('old', 'orders')],
    ['CREATE TABLE t (a int)', write('t')],
    ['DROP TABLE orders, public.customers', write('customers', 'orders')],
    ['TRUNCATE orders', write('orders')],
    ['ALTER TABLE orders ADD COLUMN b int', write('orders')],
    ['GRANT SELECT ON orders TO bob', write()], // node-sql-parser names no table here
    ['WITH d AS (INSERT INTO orders VALUES (1) RETURNING *) SELECT * FROM d', write('orders')],
    ['WITH u AS (UPDATE orders SET a = 1 RETURNING *) SELECT * FROM u', write('orders')],
    ['SELECT a INTO t FROM orders', write('orders')],
    ['SELECT a FROM orders INTO t', write('orders')],
    // everything else
    ['SET search_path = public', other()],
    ['SHOW search_path', other()],
    ['BEGIN', other()],
    ['SELECT 1; SELECT 2', other()],
    ['SELECT * FROM a; DELETE FROM b', other('a', 'b')],
    ['', other()],
    // node-sql-parser cannot read these: DuckDB's verdict alone decides
    ['SELECT * FROM t QUALIFY row_number() OVER () = 1', unparsed],
    ['FROM orders', unparsed],
    ['SELECT * EXCLUDE (a) FROM t', unparsed],
    ['PIVOT t ON a USING sum(b)', unparsed],
    ['WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', unparsed],
    ['VALUES (1), (2)', unparsed],
    ['EXPLAIN SELECT 1', unparsed],
    ['SELECT * FROM t FOR UPDATE', unparsed],
    ['SELECT ' + '('.repeat(5_000) + '1' + ')'.repeat(5_000), unparsed], // its stack overflows
    // node-sql-parser reads \' as an escaped quote, so it sees one harmless SELECT of a string;
    // DuckDB (standard strings) runs SELECT '\' and then the DELETE. The gate must not rely on this opinion.
    ["SELECT '\\'; DELETE FROM orders; --'", select()],
  ];

  it.each(cases)('%s', async (sql, expected) => {
    expect(await so.read(sql)).toEqual(expected);
  });

  it('answers many statements at once, each with its own opinion', async () => {
    const sqls = Array.from({ length: 40 }, (_, i) => `SELECT * FROM t${i}`);
    const opinions = await Promise.all(sqls.map((sql) => so.read(sql)));
    expect(opinions).toEqual(sqls.map((_, i) => select(`t${i}`)));
  });
});

describe('SecondOpinion: budgets', () => {
  it('keeps the event loop responsive while a worker chews on a 10 MB comment', async () => {
    const so = SecondOpinion.create({ timeoutMs: 250, maxBytes: 16 * 1024 * 1024 });
    try {
      await so.read('SELECT 1');
      const sql = 'SELECT 1 /*' + 'x'.repeat(10_000_000) + '*/';
      const { result, maxGap, elapsed } = await timed(() => so.read(sql));
      expect(result).toEqual({ status: 'overBudget' });
      expect(maxGap).toBeLessThan(200);
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(1_500);
      // the worker was replaced
      expect(await so.read('SELECT * FROM orders')).toEqual(select('orders'));
    } finally {
      await so.close();
    }
  });

  it('keeps the event loop responsive on a million-element IN list', async () => {
    const so = SecondOpinion.create({ timeoutMs: 250 });
    try {
      await so.read('SELECT 1');
      const sql = 'SELECT * FROM orders WHERE id IN (' + new Array(1_000_000).fill('1').join(',') + ')';
      const { result, maxGap, elapsed } = await timed(() => so.read(sql));
      expect(result).toEqual({ status: 'overBudget' });
      expect(maxGap).toBeLessThan(200);
      expect(elapsed).toBeGreaterThanOrEqual(240);
      expect(elapsed).toBeLessThan(1_500);
      expect(await so.read('SELECT * FROM orders')).toEqual(select('orders'));
    } finally {
      await so.close();
    }
  });

  it('refuses more than 4 MiB at once, without a worker', async () => {
    const so = SecondOpinion.create({ timeoutMs: 250 });
    try {
      const { result, elapsed } = await timed(() => so.read('SELECT 1 /*' + 'x'.repeat(10_000_000) + '*/'));
      expect(result).toEqual({ status: 'overBudget' });
      expect(elapsed).toBeLessThan(100);
      // bytes, not characters: 2.1 million two-byte characters are 4.2 MB
      expect(await so.read("SELECT '" + 'é'.repeat(2_100_000) + "'")).toEqual({ status: 'overBudget' });
      expect(await so.read('SELECT 1')).toEqual(select());
    } finally {
      await so.close();
    }
  });

  it('answers a statement queued behind a hung one without waiting for it', async () => {
    const so = SecondOpinion.create({ workers: 1, timeoutMs: 250 });
    try {
      await so.read('SELECT 1');
      const start = performance.now();
      const hung = so.read(HUNG).then((opinion) => ({ opinion, at: performance.now() - start }));
      const queued = so.read('SELECT * FROM orders').then((opinion) => ({ opinion, at: performance.now() - start }));
      const [h, q] = await Promise.all([hung, queued]);
      expect(h.opinion).toEqual({ status: 'overBudget' });
      expect(h.at).toBeGreaterThanOrEqual(240);
      expect(h.at).toBeLessThan(1_500);
      expect(q.opinion).toEqual(select('orders'));
      expect(q.at).toBeLessThan(2_000); // the hung parse alone would take ~20 s
      // and the one after that
      expect(await so.read('SELECT * FROM customers')).toEqual(select('customers'));
    } finally {
      await so.close();
    }
  });

  it('with several workers, a hung statement does not hold up the others at all', async () => {
    const so = SecondOpinion.create({ workers: 2, timeoutMs: 1_000 });
    try {
      await Promise.all([so.read('SELECT 1'), so.read('SELECT 2')]);
      const start = performance.now();
      let hungDone = false;
      const hung = so.read(HUNG).then((opinion) => {
        hungDone = true;
        return opinion;
      });
      for (let i = 0; i < 5; i++) {
        expect(await so.read(`SELECT * FROM t${i}`)).toEqual(select(`t${i}`));
      }
      expect(hungDone).toBe(false);
      expect(performance.now() - start).toBeLessThan(500);
      expect(await hung).toEqual({ status: 'overBudget' });
    } finally {
      await so.close();
    }
  });

  it('survives deep nesting: 5,000 nested parentheses and subqueries', async () => {
    const so = SecondOpinion.create({ workers: 1, timeoutMs: 1_000 });
    try {
      const parens = 'SELECT ' + '('.repeat(5_000) + '1' + ')'.repeat(5_000);
      const subqueries = 'SELECT * FROM ' + '(SELECT * FROM '.repeat(5_000) + 't' + ') s'.repeat(5_000);
      for (const sql of [parens, subqueries]) {
        expect(['unparsed', 'overBudget']).toContain((await so.read(sql)).status);
      }
      expect(await so.read('SELECT * FROM orders')).toEqual(select('orders'));
    } finally {
      await so.close();
    }
  });
});

describe('SecondOpinion: lifecycle', () => {
  it('rejects what is pending at close() and anything read after it', async () => {
    const so = SecondOpinion.create({ workers: 1, timeoutMs: 5_000 });
    await so.read('SELECT 1');
    const pending = Promise.allSettled([so.read(HUNG), so.read('SELECT 1')]);
    await so.close();
    for (const outcome of await pending) {
      expect(outcome.status).toBe('rejected');
      expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/closed/);
    }
    await expect(so.read('SELECT 1')).rejects.toThrow(/closed/);
    await so.close(); // idempotent
  });

  it('validates its options', () => {
    expect(() => SecondOpinion.create({ workers: 0 })).toThrow(RangeError);
    expect(() => SecondOpinion.create({ workers: 1.5 })).toThrow(RangeError);
    expect(() => SecondOpinion.create({ timeoutMs: 0 })).toThrow(RangeError);
  });

  it('leaves nothing that keeps the process alive: after close(), or when idle', async () => {
    const moduleUrl = new URL('./secondOpinion.ts', import.meta.url).href;
    const cwd = fileURLToPath(new URL('../..', import.meta.url));
    // A child process that would hang if a worker (busy or idle) held it open.
    const run = (body: string) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const code = `import { SecondOpinion } from ${JSON.stringify(moduleUrl)};\n${body}`;
        const child = execFile(
          process.execPath,
          ['--import', 'tsx', '--input-type=module', '-e', code],
          { cwd, timeout: 10_000 },
          (error, stdout, stderr) => resolve({ code: error ? (child.exitCode ?? -1) : 0, stdout, stderr }),
        );
      });
    const [closed, idle] = await Promise.all([
      run(`
        const so = SecondOpinion.create({ workers: 3, timeoutMs: 5000 });
        console.log(JSON.stringify(await so.read('SELECT * FROM t')));
        so.read(${JSON.stringify(HUNG)}).catch(() => console.log('rejected'));
        await so.close();
        console.log('closed');
      `),
      run(`
        const so = SecondOpinion.create({ workers: 2 });
        console.log(JSON.stringify(await so.read('SELECT * FROM t')));
      `),
    ]);
    expect(closed).toMatchObject({ code: 0, stdout: '{"status":"parsed","kind":"select","tables":["t"]}\nrejected\nclosed\n' });
    expect(idle).toMatchObject({ code: 0, stdout: '{"status":"parsed","kind":"select","tables":["t"]}\n' });
  });
});

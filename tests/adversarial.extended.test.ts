/**
 * The adversarial attacks (tests/support/attacks.ts) over both protocols: the simple Query
 * message, and the extended protocol (Parse/Bind/Describe/Execute/Sync), where the gate
 * runs at Parse. Each attack must end the same way over both, the client must receive
 * nothing of another tenant, and the connection must answer afterwards over the same
 * protocol. Then what only the extended protocol has: parameters as an attack vector.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  forbiddenFor,
  GROUPS,
  PW,
  render,
  seedAttackTenants,
  SEEDS,
  send,
  storedState,
  TIMED,
  type Attack,
  type Ctx,
  type Mode,
  type Protocol,
  type TimedAttack,
} from './support/attacks.js';
import { splitStatements } from '../src/sql/lexer.js';
import { pgConnect, rawTypes } from './support/clients.js';
import { startGateway, type TestGateway } from './support/gateway.js';

let gw: TestGateway;
let scratch: string;
const contexts = {} as Record<Mode, Ctx>;
const baseline = new Map<string, unknown>();
const everyone = Object.values(SEEDS);
const MODES: Mode[] = ['database', 'shared'];

const statementCount = (sql: string) => {
  try {
    return splitStatements(sql).length;
  } catch {
    return 1;
  }
};

const connect = (id: string) => pgConnect(gw, { tenant: id, password: PW }, { types: rawTypes });

beforeAll(async () => {
  gw = await startGateway();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-adversarial-extended-'));
  Object.assign(contexts, await seedAttackTenants(gw, scratch));
  for (const [k, v] of Object.entries(await storedState(gw))) baseline.set(k, v);
});

afterAll(async () => {
  await gw?.stop();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe.each(['simple', 'extended'] as const)('adversarial attacks over the %s protocol', (protocol: Protocol) => {
  const clients = {} as Record<Mode, pg.Client>;

  beforeAll(async () => {
    for (const mode of MODES) clients[mode] = await connect(contexts[mode].self.id);
  });
  afterAll(async () => {
    for (const c of Object.values(clients)) await c.end().catch(() => undefined);
  });

  /** The attacker's connection still answers over the same protocol (a new one after a FATAL). */
  async function stillServes(mode: Mode, fatal: boolean): Promise<void> {
    if (fatal) {
      await clients[mode].end().catch(() => undefined);
      clients[mode] = await connect(contexts[mode].self.id);
    }
    const got = await send(clients[mode], 'SELECT 1 AS one', protocol);
    expect(got.error).toBeNull();
    expect(got.rows).toEqual([[['1']]]);
  }

  async function check(mode: Mode, attack: Attack): Promise<void> {
    const c = contexts[mode];
    const sql = render(attack.sql, c);
    // Parse takes one statement: several in one text are refused whole, none of them run
    // (or the message itself is malformed, when the text holds a NUL).
    const expected = (mode === 'shared' && attack.shared) || attack.expect;
    const allowed = protocol === 'extended' && statementCount(sql) > 1 ? ['42601', ...expected.filter((c) => c === '08P01')] : expected;
    const got = await send(clients[mode], sql, protocol);
    const outcome = got.error ? String(got.error.code) : 'ok';
    const everything = got.messages.join('\n');
    for (const s of forbiddenFor(c, sql, everyone)) {
      expect(everything.includes(s), `${attack.name}: the client received ${JSON.stringify(s)}:\n${everything.slice(0, 2000)}`).toBe(false);
    }
    expect(allowed, `${attack.name}: ${got.error?.message ?? 'answered'}`).toContain(outcome);
    if (outcome === 'ok' && attack.rows) expect(got.rows[got.rows.length - 1]).toEqual(attack.rows(c));
    if (attack.cleanup) await send(clients[mode], attack.cleanup, protocol);
    await stillServes(mode, got.error?.severity === 'FATAL');
  }

  for (const mode of MODES) {
    describe(`${mode} isolation`, () => {
      for (const [group, attacks] of GROUPS) {
        describe(group, () => {
          const known = (a: Attack) => a.failsIn?.includes(mode) ?? false;
          it.each(attacks.filter((a) => !known(a)).map((a) => [a.name, a] as const))('%s', async (_name, attack) => check(mode, attack));
          for (const attack of attacks.filter(known)) it.fails(attack.name, () => check(mode, attack));
        });
      }

      // Over the simple protocol these run in tests/adversarial.test.ts already.
      describe.runIf(protocol === 'extended')('resource abuse under a statement timeout', () => {
        const timed = async (attack: TimedAttack) => {
          const client = await connect(contexts[mode].self.id);
          try {
            await client.query("SET statement_timeout = '500ms'");
            const got = await send(client, attack.sql, protocol);
            expect(attack.expect, got.error?.message ?? 'answered').toContain(got.error ? String(got.error.code) : 'ok');
            expect(got.ms).toBeLessThan(attack.withinMs);
            for (const s of forbiddenFor(contexts[mode], attack.sql, everyone)) expect(got.messages.join('\n')).not.toContain(s);
            expect((await send(client, 'SELECT 1', protocol)).rows).toEqual([[['1']]]);
          } finally {
            await client.end().catch(() => undefined);
          }
        };
        const known = (a: TimedAttack) => a.failsIn?.includes(mode) ?? false;
        it.each(TIMED.filter((a) => !known(a)).map((a) => [a.name, a] as const))('%s', async (_name, attack) => timed(attack));
        for (const attack of TIMED.filter(known)) it.fails(attack.name, () => timed(attack));
      });
    });
  }
});

describe('parameters as an attack vector (extended protocol)', () => {
  for (const mode of MODES) {
    describe(`${mode} isolation`, () => {
      let client: pg.Client;
      let c: Ctx;
      beforeAll(async () => {
        c = contexts[mode];
        client = await connect(c.self.id);
      });
      afterAll(() => client.end());

      async function attempt(sql: string, values: unknown[]): Promise<{ code: string; rows: unknown[][]; text: string }> {
        try {
          const r = await client.query({ text: render(sql, c), values: values.map((v) => (typeof v === 'string' ? render(v, c) : v)), rowMode: 'array' });
          return { code: 'ok', rows: r.rows, text: JSON.stringify(r.rows) };
        } catch (e) {
          const err = e as pg.DatabaseError;
          return { code: String(err.code), rows: [], text: JSON.stringify([err.message, err.detail, err.hint]) };
        }
      }

      it('a value is data, never SQL', async () => {
        for (const v of ["x' OR 1=1 --", "'; SELECT * FROM {V}.main.orders; --", "x'); DROP TABLE orders; --", '{V}.main.orders']) {
          const r = await attempt('SELECT count(*) FROM orders WHERE note = $1', [v]);
          expect(r).toMatchObject({ code: 'ok', rows: [['0']] });
        }
        const echo = await attempt('SELECT $1::VARCHAR AS v', ["' || (SELECT note FROM {V}.main.orders LIMIT 1) || '"]);
        expect(echo.code).toBe('ok');
        expect(echo.rows[0]![0]).toBe(`' || (SELECT note FROM ${c.victim.id}.main.orders LIMIT 1) || '`);
      });

      it('a value cannot name a table, a file or a function to read', async () => {
        const cases: [string, unknown[], string[]][] = [
          ['SELECT * FROM query_table($1)', ['{V}.main.orders'], ['42501']],
          ['SELECT * FROM query($1)', ['SELECT * FROM {V}.main.orders'], ['42501']],
          ['SELECT * FROM read_csv($1)', ['{CANARY}'], ['42501']],
          ['SELECT * FROM read_blob($1)', ['{VSNAP}'], ['42501']],
          // current_setting reads the session's settings, and only by a constant name.
          ['SELECT current_setting($1)', ['memory_limit'], ['0A000']],
          ['SELECT getvariable($1)', ['x'], ['42501']],
          ['SELECT * FROM $1', ['{V}.main.orders'], ['42601']],
          ['SELECT * FROM orders WHERE order_id = ANY($1::INTEGER[])', ['{1000,2000,4000}'], ['ok']],
          ['SELECT * FROM orders WHERE note = ANY($1::VARCHAR[])', ['{"x\\",(SELECT note FROM {V}.main.orders)"}'], ['ok']],
        ];
        for (const [sql, values, allowed] of cases) {
          const r = await attempt(sql, values);
          expect(allowed, `${sql}: ${r.text}`).toContain(r.code);
          for (const s of forbiddenFor(c, render(sql, c), everyone)) expect(r.text, sql).not.toContain(s);
        }
      });

      it('a size given as a parameter ends in bounded time', async () => {
        const timed = await connect(c.self.id);
        try {
          await timed.query("SET statement_timeout = '500ms'");
          const started = performance.now();
          const r = await timed.query({ text: "SELECT length(repeat('x', $1::BIGINT))", values: [300_000_000] }).then(
            () => 'ok',
            (e: pg.DatabaseError) => String(e.code),
          );
          expect(['54000', '57014', '53200']).toContain(r);
          expect(performance.now() - started).toBeLessThan(30_000);
          expect((await timed.query({ text: 'SELECT $1::int AS one', values: [1], rowMode: 'array' })).rows).toEqual([['1']]);
        } finally {
          await timed.end();
        }
      });
    });
  }
});

describe('afterwards', () => {
  it('wrote nothing: every tenant\'s stored data is as it was', async () => {
    const now = await storedState(gw);
    for (const [k, v] of baseline) expect(now[k], k).toEqual(v);
    expect(fs.readdirSync(contexts.database.outDir)).toEqual([]);
  });
});

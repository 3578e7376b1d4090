/**
 * Fixtures and helpers for the differential isolation test (tests/differential.test.ts).
 *
 * Each schema group gets one shared database file `shared.duckdb` (catalog `shared`)
 * whose every table starts with `tenant_id VARCHAR NOT NULL`, holding three tenants'
 * rows, and one database per tenant holding exactly that tenant's rows, without
 * tenant_id. The tenant databases are also named `shared.duckdb` (each in its own
 * folder) so that catalog-qualified names (`shared.main.orders`) mean the same thing on
 * both sides, and they carry a `public` schema of views over `main`, so that the
 * PostgreSQL-qualified names clients write (`public.orders`) run there unchanged.
 *
 * All data is generated with DuckDB SQL from integer formulas: no randomness, no files.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CatalogWriter, STATIC_DB, staticCatalogSql } from '../../src/catalog/build.js';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { CatalogTable, GateContext } from '../../src/sql/catalog.js';
import { readTables } from '../../src/engine/instances.js';
import { sharedTables } from '../../src/engine/tenantEngine.js';

export type GroupName = 'tpch' | 'app';

export interface TenantSpec {
  id: string;
  /** Varies every formula, so that tenants differ in values, not only in size. */
  seed: number;
  /** Rows of the main tables (TPC-H orders, app orders); the others scale with it. */
  size: number;
  /** Multiplier of money amounts: the third tenant's are huge, so a leak shows. */
  money: number;
  /** Marker written into every free-text value of this tenant (compared case-insensitively). */
  tag: string;
}

export const TENANTS: readonly TenantSpec[] = [
  { id: 'acme', seed: 3, size: 90, money: 1, tag: 'acme' },
  { id: 'globex', seed: 11, size: 140, money: 1, tag: 'globex' },
  { id: 'initech', seed: 7, size: 45, money: 1_000_000, tag: 'initech' },
];

/** Numbers at least this large exist only in the third tenant's data (per group). */
export const HUGE: Record<GroupName, number> = { tpch: 5e8, app: 1e7 };

// ---------------------------------------------------------------------------------------
// Schemas

const TPCH_DDL = `
CREATE TABLE region(tenant_id VARCHAR NOT NULL, r_regionkey INTEGER, r_name VARCHAR, r_comment VARCHAR);
CREATE TABLE nation(tenant_id VARCHAR NOT NULL, n_nationkey INTEGER, n_name VARCHAR, n_regionkey INTEGER, n_comment VARCHAR);
CREATE TABLE supplier(tenant_id VARCHAR NOT NULL, s_suppkey INTEGER, s_name VARCHAR, s_address VARCHAR, s_nationkey INTEGER,
  s_phone VARCHAR, s_acctbal DECIMAL(15,2), s_comment VARCHAR);
CREATE TABLE customer(tenant_id VARCHAR NOT NULL, c_custkey INTEGER, c_name VARCHAR, c_address VARCHAR, c_nationkey INTEGER,
  c_phone VARCHAR, c_acctbal DECIMAL(15,2), c_mktsegment VARCHAR, c_comment VARCHAR);
CREATE TABLE part(tenant_id VARCHAR NOT NULL, p_partkey INTEGER, p_name VARCHAR, p_mfgr VARCHAR, p_brand VARCHAR, p_type VARCHAR,
  p_size INTEGER, p_container VARCHAR, p_retailprice DECIMAL(15,2), p_comment VARCHAR);
CREATE TABLE partsupp(tenant_id VARCHAR NOT NULL, ps_partkey INTEGER, ps_suppkey INTEGER, ps_availqty INTEGER,
  ps_supplycost DECIMAL(15,2), ps_comment VARCHAR);
CREATE TABLE orders(tenant_id VARCHAR NOT NULL, o_orderkey INTEGER, o_custkey INTEGER, o_orderstatus VARCHAR,
  o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority VARCHAR, o_clerk VARCHAR, o_shippriority INTEGER, o_comment VARCHAR);
CREATE TABLE lineitem(tenant_id VARCHAR NOT NULL, l_orderkey INTEGER, l_partkey INTEGER, l_suppkey INTEGER, l_linenumber INTEGER,
  l_quantity DECIMAL(15,2), l_extendedprice DECIMAL(15,2), l_discount DECIMAL(15,2), l_tax DECIMAL(15,2),
  l_returnflag VARCHAR, l_linestatus VARCHAR, l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE,
  l_shipinstruct VARCHAR, l_shipmode VARCHAR, l_comment VARCHAR);
`;

const APP_DDL = `
CREATE TABLE customers(tenant_id VARCHAR NOT NULL, id INTEGER, name VARCHAR, email VARCHAR, region VARCHAR);
CREATE TABLE orders(tenant_id VARCHAR NOT NULL, o_id INTEGER, customer_id INTEGER, amount DECIMAL(14,2), status VARCHAR,
  created_at TIMESTAMP, meta JSON, tags VARCHAR[]);
CREATE TABLE employees(tenant_id VARCHAR NOT NULL, id INTEGER, name VARCHAR, manager_id INTEGER);
CREATE TABLE daily_sales(tenant_id VARCHAR NOT NULL, day DATE, total DECIMAL(14,2), cnt INTEGER);
CREATE TABLE trades(tenant_id VARCHAR NOT NULL, ticker VARCHAR, ts TIMESTAMP, qty INTEGER);
CREATE TABLE prices(tenant_id VARCHAR NOT NULL, ticker VARCHAR, ts TIMESTAMP, price DECIMAL(12,4));
`;

/** Row order of each table in every file: tenants' rows interleave in the shared file. */
const ORDER_KEYS: Record<GroupName, Record<string, string>> = {
  tpch: {
    region: 'r_regionkey', nation: 'n_nationkey', supplier: 's_suppkey', customer: 'c_custkey', part: 'p_partkey',
    partsupp: 'ps_partkey, ps_suppkey', orders: 'o_orderkey', lineitem: 'l_orderkey, l_linenumber',
  },
  app: {
    customers: 'id', orders: 'o_id', employees: 'id', daily_sales: 'day', trades: 'ts', prices: 'ts',
  },
};

// ---------------------------------------------------------------------------------------
// Data

/** `cents` (an integer SQL expression) times the tenant's multiplier, as DECIMAL(15,2). */
function money(cents: string, t: TenantSpec): string {
  return `CAST(CAST((${cents}) AS DECIMAL(18,0)) * ${t.money} * 0.01 AS DECIMAL(15,2))`;
}

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

function tpchData(t: TenantSpec): string {
  const S = t.seed;
  const T = q(t.id);
  const tag = t.tag;
  const nC = Math.round(t.size / 3); // customers
  const nS = Math.max(12, Math.round(t.size / 4)); // suppliers
  const nP = Math.round(t.size / 2); // parts
  const nO = t.size; // orders
  return `
INSERT INTO region SELECT ${T}, r, n, 'régions ${tag} ' || r FROM (VALUES
  (0, 'AFRICA'), (1, 'AMERICA'), (2, 'ASIA'), (3, 'EUROPE'), (4, 'MIDDLE EAST')) v(r, n);

INSERT INTO nation SELECT ${T}, k, n, r, CASE WHEN k % 6 = 1 THEN NULL ELSE 'nation ${tag} ' || k END FROM (VALUES
  (0, 'ALGERIA', 0), (1, 'ARGENTINA', 1), (2, 'BRAZIL', 1), (3, 'CANADA', 1), (4, 'EGYPT', 4), (5, 'ETHIOPIA', 0),
  (6, 'FRANCE', 3), (7, 'GERMANY', 3), (8, 'INDIA', 2), (9, 'INDONESIA', 2), (10, 'IRAN', 4), (11, 'IRAQ', 4),
  (12, 'JAPAN', 2), (13, 'JORDAN', 4), (14, 'KENYA', 0), (15, 'MOROCCO', 0), (16, 'MOZAMBIQUE', 0), (17, 'PERU', 1),
  (18, 'CHINA', 2), (19, 'ROMANIA', 3), (20, 'SAUDI ARABIA', 4), (21, 'VIETNAM', 2), (22, 'RUSSIA', 3),
  (23, 'UNITED KINGDOM', 3), (24, 'UNITED STATES', 1)) v(k, n, r);

INSERT INTO supplier SELECT ${T}, k,
  printf('Supplier#%09d ${tag}', k),
  ['Rue de la Paix ', '東京都 港区 ', 'Königstraße ', 'Dock 🚢 ', 'Main St '][1 + k % 5] || k || ' ${tag}',
  nk,
  printf('%02d-%03d-%03d-%04d', nk + 10, (k * 37) % 1000, (k * 91 + ${S}) % 1000, (k * 1013) % 10000),
  ${money(`(k * 7919 + ${S} * 13) % 1099999 - 99999`, t)},
  CASE WHEN k % 7 = 3 THEN 'wary Customer pending Complaints ${tag}' WHEN k % 5 = 2 THEN NULL
       ELSE 'carefully final deposits ${tag} ' || k END
FROM (SELECT k, CASE WHEN k = 2 THEN 3 ELSE (k * 7 + ${S}) % 25 END AS nk FROM range(1, ${nS + 1}) r(k));

INSERT INTO customer SELECT ${T}, k,
  printf('Customer#%09d ${tag}', k),
  ['Avenida Ñandú ', 'Øster Allé ', '北京 ', 'Elm St ', 'Ζωγράφου '][1 + (k * 3) % 5] || k || ' ${tag}',
  nk,
  printf('%02d-%03d-%03d-%04d', nk + 10, (k * 53) % 1000, (k * 17 + ${S}) % 1000, (k * 311) % 10000),
  CASE WHEN k % 17 = 5 THEN NULL ELSE ${money(`(k * 7561 + ${S} * 3) % 1099999 - 99999`, t)} END,
  ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'][1 + (k + ${S}) % 5],
  CASE WHEN k % 4 = 0 THEN NULL ELSE 'ironic requests ${tag} ' || k END
FROM (SELECT k, (k * 11 + ${S}) % 25 AS nk FROM range(1, ${nC + 1}) r(k));

CREATE TEMP TABLE part_stage AS SELECT k,
  CASE k WHEN 1 THEN 'forest green lace' WHEN 2 THEN 'khaki ivory navy' WHEN 3 THEN 'green almond peach'
    WHEN 4 THEN 'forest olive rose'
    ELSE ['almond', 'antique', 'aquamarine', 'azure', 'beige', 'blush', 'chiffon', 'coral', 'forest', 'green',
          'ivory', 'khaki', 'lavender', 'navy', 'olive', 'peach', 'rose', 'tomato'][1 + (k * 7 + ${S}) % 18]
      || ' ' || ['metallic', 'green', 'smoke', 'snow', 'spring', 'tan', 'thistle', 'violet'][1 + (k * 5) % 8]
      || ' ' || ['lace', 'linen', 'magenta', 'maroon', 'midnight', 'mint'][1 + (k * 3 + ${S}) % 6] END || ' ${tag}' AS p_name,
  1 + (k * 3) % 5 AS m,
  CASE k WHEN 2 THEN 'Brand#23' WHEN 3 THEN 'Brand#12' WHEN 5 THEN 'Brand#34'
    ELSE 'Brand#' || (1 + (k * 3) % 5) || (1 + (k * 7 + ${S}) % 5) END AS p_brand,
  CASE k WHEN 1 THEN 'LARGE PLATED BRASS' WHEN 2 THEN 'ECONOMY ANODIZED STEEL' WHEN 3 THEN 'PROMO BRUSHED TIN'
    WHEN 5 THEN 'PROMO POLISHED COPPER'
    ELSE ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'][1 + (k * 5 + ${S}) % 6]
      || ' ' || ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'][1 + (k * 3) % 5]
      || ' ' || ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'][1 + (k * 7) % 5] END AS p_type,
  CASE k WHEN 1 THEN 15 WHEN 2 THEN 7 WHEN 3 THEN 3 WHEN 5 THEN 12 ELSE 1 + (k * 13 + ${S}) % 50 END AS p_size,
  CASE k WHEN 2 THEN 'MED BOX' WHEN 3 THEN 'SM CASE' WHEN 5 THEN 'LG BOX'
    ELSE ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'][1 + (k * 11) % 5] || ' '
      || ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'][1 + (k * 3 + ${S}) % 8] END AS p_container,
  90000 + ((k * 317 + ${S}) % 20001) + 100 * (k % 1000) AS cents
FROM range(1, ${nP + 1}) r(k);

INSERT INTO part SELECT ${T}, k, p_name, 'Manufacturer#' || m, p_brand, p_type, p_size, p_container, ${money('cents', t)},
  CASE WHEN k % 3 = 0 THEN NULL ELSE 'pending accounts ${tag}' END
FROM part_stage;

INSERT INTO partsupp SELECT ${T}, k, ((k + j * (${Math.floor(nS / 4)} + (k - 1) // ${nS})) % ${nS}) + 1,
  1 + (k * 71 + j * 13 + ${S}) % 9999,
  ${money(`100 + (k * 233 + j * 97 + ${S} * 7) % 99901`, t)},
  'quiet packages ${tag}'
FROM range(1, ${nP + 1}) r(k), range(0, 4) s(j);

CREATE TEMP TABLE order_stage AS SELECT k,
  CASE WHEN x % 3 = 0 THEN x - 1 ELSE x END AS custkey,
  DATE '1992-01-01' + CAST((k * 337 + ${S} * 71) % 2400 AS INTEGER) AS odate
FROM (SELECT k, 1 + (k * 7 + ${S}) % ${nC} AS x FROM range(1, ${nO + 1}) r(k));

CREATE TEMP TABLE line_stage AS SELECT k, ln, partkey,
  ((partkey + j * (${Math.floor(nS / 4)} + (partkey - 1) // ${nS})) % ${nS}) + 1 AS suppkey,
  CASE WHEN k % 23 = 5 THEN least(50, 44 + ln) WHEN ln = 2 AND k % 10 = 4 THEN 1 + k % 10
       ELSE 1 + (k * 31 + ln * 17 + ${S}) % 50 END AS qty,
  odate + CAST(1 + (k * 7 + ln * 13) % 121 AS INTEGER) AS shipdate,
  odate + CAST(30 + (k * 11 + ln * 3) % 61 AS INTEGER) AS commitdate
FROM (
  SELECT o.k, ln, o.odate,
    CASE WHEN ln = 1 AND o.k % 10 = 3 THEN 1 WHEN ln = 2 AND o.k % 10 = 4 THEN 3
         ELSE 1 + ((o.k * 13 + ln * 7 + ${S}) % ${nP}) END AS partkey,
    CASE WHEN ln = 1 AND o.k % 10 = 3 THEN 0 ELSE (o.k + ln) % 4 END AS j
  FROM order_stage o, range(1, 8) r(ln)
  WHERE ln <= CASE WHEN o.k % 23 = 5 THEN 7 ELSE 1 + (o.k * 5 + ${S}) % 7 END);

INSERT INTO lineitem SELECT ${T}, l.k, l.partkey, l.suppkey, l.ln, CAST(l.qty AS DECIMAL(15,2)),
  CAST(l.qty * p.cents AS DECIMAL(18,0)) * ${t.money} * 0.01,
  CAST(((l.k * 3 + l.ln * 7) % 11) * 0.01 AS DECIMAL(15,2)),
  CAST(((l.k + l.ln * 5) % 9) * 0.01 AS DECIMAL(15,2)),
  CASE WHEN rdate <= DATE '1995-06-17' THEN CASE WHEN (l.k + l.ln) % 2 = 0 THEN 'R' ELSE 'A' END ELSE 'N' END,
  CASE WHEN l.shipdate > DATE '1995-06-17' THEN 'O' ELSE 'F' END,
  l.shipdate, l.commitdate, rdate,
  CASE WHEN l.ln = 2 AND l.k % 10 = 4 THEN 'DELIVER IN PERSON'
       ELSE ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'][1 + (l.k + l.ln * 3) % 4] END,
  CASE WHEN l.ln = 2 AND l.k % 10 = 4 THEN ['AIR', 'AIR REG', 'RAIL'][1 + l.k % 3]
       ELSE ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'][1 + (l.k * 2 + l.ln + ${S}) % 7] END,
  CASE WHEN (l.k + l.ln) % 10 = 0 THEN NULL ELSE 'furiously bold ${tag} ' || l.k || '-' || l.ln END
FROM (SELECT *, shipdate + CAST(1 + (k * 5 + ln * 11) % 30 AS INTEGER) AS rdate FROM line_stage) l
JOIN part_stage p ON p.k = l.partkey;
${t.id === 'globex' ? `INSERT INTO lineitem SELECT * FROM lineitem WHERE tenant_id = ${T} AND l_linenumber = 1 AND l_orderkey % 29 = 3;` : ''}

INSERT INTO orders SELECT ${T}, o.k, o.custkey,
  CASE WHEN bool_and(l.l_linestatus = 'F') THEN 'F' WHEN bool_and(l.l_linestatus = 'O') THEN 'O' ELSE 'P' END,
  CAST(sum(l.l_extendedprice * (1 + l.l_tax) * (1 - l.l_discount)) AS DECIMAL(15,2)),
  o.odate,
  ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'][1 + (o.k * 3 + ${S}) % 5],
  printf('Clerk#%09d', 1 + (o.k * 17) % 1000),
  0,
  CASE WHEN o.k % 11 = 7 THEN NULL WHEN o.k % 9 = 4 THEN 'quickly special deposits requests ${tag}'
       ELSE 'regular ideas ${tag} ' || o.k END
FROM order_stage o JOIN lineitem l ON l.tenant_id = ${T} AND l.l_orderkey = o.k
GROUP BY o.k, o.custkey, o.odate;

DROP TABLE part_stage; DROP TABLE order_stage; DROP TABLE line_stage;
`;
}

function appData(t: TenantSpec): string {
  const S = t.seed;
  const T = q(t.id);
  const tag = t.tag;
  const nO = t.size;
  const nC = Math.round(t.size / 6);
  const nE = Math.round(t.size / 9);
  const huge = t.money > 1;
  const amount = huge ? `CAST(10000000 + ((o * 7919 + ${S} * 101) % 30000) * 1000 + o AS DECIMAL(14,2))` : money(`50 + (o * 7919 + ${S} * 101) % 30000`, t);
  const firstDay = { acme: "DATE '2024-01-01'", globex: "DATE '2023-12-15'", initech: "DATE '2024-02-03'" }[t.id] ?? "DATE '2024-01-01'";
  return `
INSERT INTO customers SELECT ${T}, id,
  ['Alice', 'Bob', 'Ángel', 'björn', 'Chloé', 'Dmitri', 'Émile', 'Fatima', 'Günther', 'Hana', 'Ivan', 'Jürgen', 'Kenji',
   'Léa', 'Mårten', 'Noor', 'Olga', 'Pável', 'Quinn', 'Rüdiger', 'Søren', 'Tomás', 'Uwe', 'Vera', '王芳', 'Zoë'][1 + (id * 7 + ${S}) % 26]
    || ' ${tag}-' || id,
  CASE WHEN id % 5 = 0 THEN NULL WHEN id % 3 = 0 THEN 'contact.${tag}' || id || '@corp.io'
       ELSE 'user' || id || '.${tag}@example.com' END,
  CASE WHEN id % 7 = 6 THEN NULL ELSE ['eu', 'us', 'apac'][1 + (id + ${S}) % 3] END
FROM range(1, ${nC + 1}) r(id);
${t.id === 'globex' ? `INSERT INTO customers SELECT * FROM customers WHERE tenant_id = ${T} AND id = 3;` : ''}

INSERT INTO orders SELECT ${T}, o,
  CASE WHEN o % 13 = 0 THEN NULL WHEN o % 11 = 0 THEN ${nC + 5} ELSE 1 + (o * 7 + ${S}) % ${nC} END,
  CASE WHEN o = 4 THEN NULL ELSE ${amount} END,
  CASE (o * 3 + ${S}) % 8 WHEN 0 THEN 'paid' WHEN 1 THEN 'open' WHEN 2 THEN 'shipped' WHEN 3 THEN 'paid'
    WHEN 4 THEN 'open' WHEN 5 THEN '' WHEN 6 THEN NULL ELSE ${huge ? "'cancelled'" : "'paid'"} END,
  CASE WHEN o % 6 = 1 THEN TIMESTAMP '2024-01-01 08:00:00' + to_days(CAST(o % 10 AS INTEGER)) + to_seconds(o)
       ELSE TIMESTAMP '2023-01-01 00:00:00' + to_hours(CAST((o * 3571 + ${S} * 17) % 26280 AS BIGINT)) + to_seconds(o) END,
  CASE WHEN o % 8 = 2 THEN NULL
       ELSE CAST(json_object('channel', ['web', 'app', 'store'][1 + (o + ${S}) % 3], 'dims', json_object('w', o % 7, 'h', '${tag}')) AS JSON) END,
  CASE WHEN o % 9 = 0 THEN NULL WHEN o % 5 = 0 THEN [] ELSE ['x' || (o % 4), 'ünï' || (o % 3), '${tag}'] END
FROM range(1, ${nO + 1}) r(o);
${t.id === 'acme' ? `INSERT INTO orders SELECT * FROM orders WHERE tenant_id = ${T} AND o_id = 4;` : ''}

INSERT INTO employees SELECT ${T}, id, ['Ada', 'Grace', 'Линус', 'Ken', 'ヨシコ', 'Dennis'][1 + (id + ${S}) % 6] || ' ${tag} ' || id,
  CASE WHEN id = 1 ${t.id === 'globex' ? 'OR id = 5' : ''} THEN NULL ELSE 1 + (id * 7 + ${S}) % (id - 1) END
FROM range(1, ${nE + 1}) r(id);

INSERT INTO daily_sales SELECT ${T}, ${firstDay} + CAST(d AS INTEGER),
  ${huge ? `CAST(20000000 + d * 1000 + ${S} AS DECIMAL(14,2))` : money(`100000 + (d * 45131 + ${S} * 7) % 1000000`, t)},
  CASE WHEN d % 7 = 3 THEN NULL ELSE (d * 13 + ${S}) % 50 END
FROM range(0, ${Math.round(nO / 3)}) r(d);
${t.id === 'acme' ? `INSERT INTO daily_sales SELECT * FROM daily_sales WHERE tenant_id = ${T} AND day = ${firstDay} + 5;` : ''}

INSERT INTO trades SELECT ${T}, ['AAPL', 'MSFT', 'ÄÖÜ', '${tag.toUpperCase()}.X'][1 + (i * 5 + ${S}) % 4],
  TIMESTAMP '2024-03-01 09:30:00' + to_minutes(CAST(i * 7 + ${S} AS BIGINT)), (i * 37 + ${S}) % 100 + 1
FROM range(0, ${Math.round(nO / 4)}) r(i);

INSERT INTO prices SELECT ${T}, ['AAPL', 'MSFT', 'ÄÖÜ', '${tag.toUpperCase()}.X'][1 + (i + ${S}) % 4],
  TIMESTAMP '2024-03-01 09:25:00' + to_minutes(CAST(i * 4 + ${S} % 3 AS BIGINT)),
  ${huge ? `CAST(50000000 + i AS DECIMAL(12,4))` : `CAST(100 + ((i * 613 + ${S}) % 9000) * 0.0137 AS DECIMAL(12,4))`}
FROM range(0, ${Math.round(nO / 2)}) r(i);
`;
}

// ---------------------------------------------------------------------------------------
// Files

export interface GroupFiles {
  shared: string;
  tenants: Record<string, string>;
}

/** Builds the shared file and one file per tenant under `dir`; returns their paths. */
export async function buildGroup(dir: string, group: GroupName): Promise<GroupFiles> {
  const sharedDir = path.join(dir, group, 'shared');
  fs.mkdirSync(sharedDir, { recursive: true });
  const files: GroupFiles = { shared: path.join(sharedDir, 'shared.duckdb'), tenants: {} };
  const scratch = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await scratch.connect();
  try {
    await conn.run(group === 'tpch' ? TPCH_DDL : APP_DDL);
    for (const t of TENANTS) await conn.run(group === 'tpch' ? tpchData(t) : appData(t));
    const keys = ORDER_KEYS[group];
    await conn.run(`ATTACH ${q(files.shared)} AS shared`);
    await conn.run((group === 'tpch' ? TPCH_DDL : APP_DDL).replaceAll('CREATE TABLE ', 'CREATE TABLE shared.main.'));
    for (const [table, key] of Object.entries(keys)) {
      await conn.run(`INSERT INTO shared.main.${table} FROM memory.main.${table} ORDER BY ${key}, tenant_id`);
    }
    await conn.run('DETACH shared');
    for (const t of TENANTS) {
      const tdir = path.join(dir, group, t.id);
      fs.mkdirSync(tdir, { recursive: true });
      const file = path.join(tdir, 'shared.duckdb');
      files.tenants[t.id] = file;
      await conn.run(`ATTACH ${q(file)} AS own`);
      await conn.run('CREATE SCHEMA own.public');
      for (const [table, key] of Object.entries(keys)) {
        await conn.run(`CREATE TABLE own.main.${table} AS SELECT * EXCLUDE (tenant_id) FROM memory.main.${table} WHERE false`);
        await conn.run(`INSERT INTO own.main.${table} SELECT * EXCLUDE (tenant_id) FROM memory.main.${table} WHERE tenant_id = ${q(t.id)} ORDER BY ${key}`);
      }
      await conn.run('DETACH own');
      // Views are bound in the file they live in: create them with that file as the default catalog.
      const own = await DuckDBInstance.create(file, { threads: '1' });
      const oc = await own.connect();
      for (const table of Object.keys(keys)) await oc.run(`CREATE VIEW public.${table} AS SELECT * FROM main.${table}`);
      oc.closeSync();
      own.closeSync();
    }
  } finally {
    conn.closeSync();
    scratch.closeSync();
  }
  return files;
}

let staticCatalog: Promise<string> | null = null;

/** The static PostgreSQL catalog (its macros serve rewritten queries), written once per test file. */
function staticCatalogFile(): Promise<string> {
  staticCatalog ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantgate-catalog-'));
    const file = path.join(dir, 'static.duckdb');
    const writer = new CatalogWriter();
    await writer.write(file, STATIC_DB, staticCatalogSql());
    writer.close();
    return file;
  })();
  return staticCatalog;
}

/** Opens a database file as the engine opens a snapshot: read-only, the static catalog beside it, locked down. */
export async function openLocked(file: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  const instance = await DuckDBInstance.create(file, {
    access_mode: 'READ_ONLY',
    threads: '1',
    integer_division: 'true',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  await conn.run(`ATTACH ${q(await staticCatalogFile())} AS ${STATIC_DB} (READ_ONLY)`);
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
  return { instance, conn };
}

/** The gate's view of a shared file, read by the engine's own functions. */
export async function sharedCatalog(conn: DuckDBConnection): Promise<Map<string, CatalogTable>> {
  const all = await readTables(conn);
  const tables = sharedTables(all);
  if (tables.size !== all.size) throw new Error('every table of a shared fixture must start with tenant_id');
  return tables;
}

export function sharedContext(tenantId: string, tables: ReadonlyMap<string, CatalogTable>, version: string): GateContext {
  return { tenantId, isolation: 'shared', catalogName: 'shared', tables, version };
}

// ---------------------------------------------------------------------------------------
// Results

/** A value as exact text: bigints, decimals, dates, lists and structs by their DuckDB text. */
export function canonical(v: DuckDBValue): string | null {
  if (v === null) return null;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  return String(v);
}

export interface Result {
  columns: string[];
  types: string[];
  rows: (string | null)[][];
}

export async function run(conn: DuckDBConnection, sql: string): Promise<Result> {
  const reader = await conn.runAndReadAll(sql);
  return {
    columns: reader.columnNames(),
    types: reader.columnTypes().map(String),
    rows: reader.getRows().map((row) => row.map(canonical)),
  };
}

function rowKey(row: (string | null)[]): string {
  return JSON.stringify(row);
}

/** Rows sorted canonically, for comparison as multisets. */
export function sortedRows(rows: (string | null)[][]): string[] {
  return rows.map(rowKey).sort();
}

export function orderedRows(rows: (string | null)[][]): string[] {
  return rows.map(rowKey);
}

/** Whether the statement (json_serialize_sql's output) has an ORDER BY on its outermost query. */
export function hasTopLevelOrderBy(serialized: unknown): boolean {
  const node = (serialized as { statements?: { node?: { modifiers?: { type?: string }[] } }[] }).statements?.[0]?.node;
  return (node?.modifiers ?? []).some((m) => m.type === 'ORDER_MODIFIER');
}

// ---------------------------------------------------------------------------------------
// Leak markers

export interface Markers {
  /** Other tenants' tags: any result text containing one (case-insensitively) is a leak. */
  tags: string[];
  /** Exact values (strings, decimals >= 1000) found only in other tenants' rows. */
  foreignValues: Set<string>;
  /** Numbers at least this large exist only in another tenant's rows (Infinity: no such bound). */
  hugeFloor: number;
}

/** For each tenant, the values that exist only in the other tenants' rows of the shared file. */
export async function leakMarkers(conn: DuckDBConnection, tables: ReadonlyMap<string, CatalogTable>, group: GroupName): Promise<Map<string, Markers>> {
  const values = new Map<string, Set<string>>(TENANTS.map((t) => [t.id, new Set<string>()]));
  for (const table of tables.values()) {
    const r = await run(conn, `SELECT * FROM main."${table.name}"`);
    for (const row of r.rows) {
      const owner = values.get(row[0]!);
      if (!owner) throw new Error(`unexpected tenant ${row[0]} in ${table.name}`);
      row.slice(1).forEach((v, i) => {
        const type = r.types[i + 1]!;
        if (v === null) return;
        const distinctive = type === 'VARCHAR' ? v.length >= 5 : type.startsWith('DECIMAL') ? Math.abs(Number(v)) >= 1000 : false;
        if (distinctive) owner.add(v);
      });
    }
  }
  const out = new Map<string, Markers>();
  for (const t of TENANTS) {
    const own = values.get(t.id)!;
    const foreignValues = new Set<string>();
    for (const other of TENANTS) {
      if (other.id === t.id) continue;
      for (const v of values.get(other.id)!) if (!own.has(v)) foreignValues.add(v);
    }
    out.set(t.id, {
      tags: TENANTS.filter((o) => o.id !== t.id).map((o) => o.tag.toLowerCase()),
      foreignValues,
      hugeFloor: t.money > 1 ? Infinity : HUGE[group],
    });
  }
  return out;
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/** Descriptions of the cells of a result that hold another tenant's data (empty: none). */
export function leaks(result: Result, markers: Markers): string[] {
  const found: string[] = [];
  result.rows.forEach((row, r) => {
    row.forEach((v, c) => {
      if (v === null) return;
      const where = `row ${r}, column ${result.columns[c]}: ${v.length > 120 ? v.slice(0, 120) + '...' : v}`;
      const lowerV = v.toLowerCase();
      const tag = markers.tags.find((t) => lowerV.includes(t));
      if (tag) found.push(`${where} (holds another tenant's marker "${tag}")`);
      else if (markers.foreignValues.has(v)) found.push(`${where} (a value only other tenants have)`);
      else if (NUMERIC.test(result.types[c]!) && Math.abs(Number(v)) >= markers.hugeFloor) found.push(`${where} (as large as only another tenant's amounts)`);
    });
  });
  return found;
}

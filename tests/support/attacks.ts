/**
 * The adversarial suite's world: tenants with marker strings in their data, and the
 * attacks a tenant tries against them, grouped. tests/adversarial.test.ts runs every
 * attack over the simple protocol; tests/adversarial.extended.test.ts runs them over both
 * protocols. SQL placeholders ({V}, {CAT}, ...) are filled in by render().
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { getPlan } from '../../src/tenants/plans.js';
import { addTenant, getTenant, setPlan } from '../../src/tenants/registry.js';
import { loadMultiTenantTable, loadSharedTenantTable } from '../../src/tenants/shared.js';
import { addTestTenant, writeCsv, type TestGateway } from './gateway.js';
import { querySharedSnapshot, querySnapshot } from './snapshot.js';

export const PW = 'adversarial-test-password';

// ---------------------------------------------------------------------------------------
// Tenants and their marker strings

export type Mode = 'database' | 'shared';

export interface TenantSeed {
  id: string;
  /** Strings that only this tenant's data holds. */
  markers: string[];
  /** Names (tables, columns) that only this tenant's catalog holds. */
  names: string[];
}

export const SEEDS: Record<string, TenantSeed> = {
  acme: { id: 'acme', markers: ['ACME-SECRET-3', 'ACME-PII-2'], names: [] },
  globex: { id: 'globex', markers: ['GLOBEX-SECRET-7', 'GLOBEX-PII-9', 'GLOBEX-LEDGER-5'], names: ['globex_ledger', 'gx_private_col'] },
  initech: { id: 'initech', markers: ['INITECH-SECRET-1', 'INITECH-PII-6', 'INITECH-NEWS-4'], names: [] },
  umbrella: { id: 'umbrella', markers: ['UMBRELLA-SECRET-8', 'UMBRELLA-PII-5', 'UMBRELLA-NEWS-3'], names: [] },
};

/** Rows every shared tenant on the list may see: not a marker of anyone. */
export const COMMON_NEWS = 'COMMON-NEWS-0';

/** What a file on the machine holds; a tenant must never read it. */
export const FILE_MARKER = 'FILE-CANARY-42';

export const ORDER_BASE: Record<string, number> = { acme: 1000, globex: 2000, initech: 3000, umbrella: 4000 };
export const ORDER_ROWS = 5;

export const databaseSql = (t: TenantSeed): string[] => {
  const base = ORDER_BASE[t.id]!;
  const sql = [
    `CREATE TABLE orders (order_id INTEGER, customer VARCHAR, note VARCHAR, amount DECIMAL(10,2))`,
    `INSERT INTO orders SELECT ${base} + i, '${t.id}-customer-' || i, '${t.markers[0]}-' || i, i * 10 FROM range(${ORDER_ROWS}) r(i)`,
    `CREATE TABLE customers (id INTEGER, name VARCHAR, email VARCHAR)`,
    `INSERT INTO customers VALUES (1, '${t.markers[1]}', 'ceo@${t.id}.example')`,
  ];
  if (t.id === 'globex') {
    sql.push(`CREATE TABLE globex_ledger (gx_private_col VARCHAR)`, `INSERT INTO globex_ledger VALUES ('${t.markers[2]}')`);
  }
  return sql;
};

// ---------------------------------------------------------------------------------------
// Attacks

/** SQLSTATE codes an attack may be refused with, or 'ok': it may run, with only own rows. */
export type Outcome = string | 'ok';

export interface Attack {
  name: string;
  /** SQL with placeholders: {V} the victim's id, {CAT} the attacker's catalog, {DATA} the data directory, paths (see render). */
  sql: string;
  /** Allowed outcomes (database isolation). */
  expect: Outcome[];
  /** Allowed outcomes in shared isolation, when they differ. */
  shared?: Outcome[];
  /** For an answered attack: the exact rows (as arrays of text) its last result must hold. */
  rows?: (c: Ctx) => (string | null)[][];
  /** Sent after the attack, whatever happened (e.g. ROLLBACK). */
  cleanup?: string;
  /**
   * Isolation modes in which this case is known to fail today (it.fails), with a comment
   * at the case saying why: a breach, or a valid query that is refused.
   */
  failsIn?: Mode[];
}

export interface Ctx {
  mode: Mode;
  self: TenantSeed;
  victim: TenantSeed;
  /** DuckDB catalog name of the attacker's own data. */
  catalog: string;
  dataDir: string;
  selfSnapshot: string;
  victimSnapshot: string;
  globexSnapshot: string;
  sharedSnapshot: string;
  canary: string;
  outDir: string;
}

export function render(sql: string, c: Ctx): string {
  return sql
    .replaceAll('{V}', c.victim.id)
    .replaceAll('{VH}', String.fromCharCode(c.victim.id.charCodeAt(0) + 0xfee0) + c.victim.id.slice(1))
    .replaceAll('{CAT}', c.catalog)
    .replaceAll('{DATA}', c.dataDir)
    .replaceAll('{SSNAP}', c.selfSnapshot)
    .replaceAll('{VSNAP}', c.victimSnapshot)
    .replaceAll('{GSNAP}', c.globexSnapshot)
    .replaceAll('{SHSNAP}', c.sharedSnapshot)
    .replaceAll('{CANARY}', c.canary)
    .replaceAll('{OUT}', c.outDir);
}

export const REFUSED_NAME = ['42P01'];
/** Refusals of a smuggled name: by the gate, or by DuckDB's own lockdown behind it. */
export const STAR_REFUSED = ['42501', '42601', '42P01', '0A000', '42000'];
export const PRIV = ['42501'];
export const WRITE = ['25006'];
export const OK = ['ok'];

/** The attacker's own orders, as the gateway must return them. */
export const ownOrders = (c: Ctx) =>
  Array.from({ length: ORDER_ROWS }, (_, i) => [String(ORDER_BASE[c.self.id]! + i), `${c.self.markers[0]}-${i}`]);

export const CROSS_TENANT: Attack[] = [
  { name: 'catalog-qualified victim table', sql: 'SELECT * FROM {V}.orders', expect: REFUSED_NAME },
  { name: 'three-part victim name', sql: 'SELECT * FROM {V}.main.orders', expect: REFUSED_NAME },
  { name: 'quoted three-part victim name', sql: 'SELECT * FROM "{V}".main."orders"', expect: REFUSED_NAME },
  { name: 'fully quoted victim name', sql: 'SELECT * FROM "{V}"."main"."orders"', expect: REFUSED_NAME },
  { name: 'victim public schema', sql: 'SELECT * FROM {V}.public.orders', expect: REFUSED_NAME },
  { name: 'comment between name parts', sql: 'SELECT * FROM {V}/**/./**/orders', expect: REFUSED_NAME },
  { name: 'spaces between name parts', sql: 'SELECT * FROM {V} . main . orders', expect: REFUSED_NAME },
  { name: 'FROM-first victim table', sql: 'FROM {V}.main.orders', expect: REFUSED_NAME },
  { name: 'TABLE victim', sql: 'TABLE {V}.main.orders', expect: [...REFUSED_NAME, '42601'] },
  { name: 'victim table in a join', sql: 'SELECT o.note, g.note FROM orders o JOIN {V}.main.orders g ON true', expect: REFUSED_NAME },
  { name: 'victim table in a CTE', sql: 'WITH x AS (SELECT * FROM {V}.main.orders) SELECT * FROM x', expect: REFUSED_NAME },
  { name: 'victim table in a scalar subquery', sql: 'SELECT (SELECT note FROM {V}.main.orders LIMIT 1) AS n', expect: REFUSED_NAME },
  { name: 'victim table after UNION ALL', sql: 'SELECT note FROM orders UNION ALL SELECT note FROM {V}.main.orders', expect: REFUSED_NAME },
  { name: 'victim table in EXISTS', sql: "SELECT 1 WHERE EXISTS (SELECT 1 FROM {V}.main.orders WHERE note LIKE '%SECRET%')", expect: REFUSED_NAME },
  { name: 'victim table in LATERAL', sql: 'SELECT * FROM (VALUES (1)) v(a), LATERAL (SELECT note FROM {V}.main.orders) g', expect: REFUSED_NAME },
  { name: 'victim table in a table function argument', sql: 'SELECT * FROM unnest((SELECT list(note) FROM {V}.main.orders))', expect: REFUSED_NAME },
  { name: 'victim table in range() argument', sql: 'SELECT * FROM range((SELECT count(*) FROM {V}.main.orders))', expect: REFUSED_NAME },
  { name: 'victim table with time travel', sql: 'SELECT * FROM {V}.main.orders AT (VERSION => 1)', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'CTE named like the victim, qualified reference', sql: 'WITH {V} AS (SELECT 1 AS a) SELECT * FROM {V}.orders', expect: REFUSED_NAME },
  { name: 'CTE named like a dotted victim name', sql: 'WITH "{V}.orders" AS (SELECT 1 AS a) SELECT * FROM "{V}.orders"', expect: OK, rows: () => [['1']] },
  { name: 'column qualified with the victim catalog', sql: 'SELECT {V}.main.orders.note FROM orders', expect: ['42P01', '42703', '42000', '42601'] },
  { name: 'alias named like the victim', sql: 'SELECT {V}.order_id, {V}.note FROM orders AS {V} ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'recursive CTE anchored on the victim', sql: 'WITH RECURSIVE r AS (SELECT note FROM {V}.main.orders UNION ALL SELECT note FROM r) SELECT * FROM r', expect: REFUSED_NAME },
  { name: 'recursive CTE shadowing orders', sql: 'WITH RECURSIVE orders AS (SELECT * FROM {V}.main.orders) SELECT * FROM orders', expect: REFUSED_NAME },
  { name: 'fullwidth first letter of the victim name', sql: 'SELECT * FROM {VH}.main.orders', expect: REFUSED_NAME },
  { name: 'own catalog, qualified', sql: 'SELECT order_id, note FROM {CAT}.main.orders ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'own catalog with public schema', sql: 'SELECT order_id, note FROM "{CAT}"."public"."orders" ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'fully qualified column of own table', sql: 'SELECT {CAT}.main.orders.order_id, note FROM {CAT}.main.orders ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'DuckDB system catalog', sql: 'SELECT * FROM system.main.duckdb_tables', expect: REFUSED_NAME },
  { name: 'system catalog databases', sql: 'SELECT * FROM "system"."main"."duckdb_databases"', expect: REFUSED_NAME },
  { name: 'temp catalog', sql: 'SELECT * FROM temp.main.orders', expect: REFUSED_NAME },
  { name: 'memory catalog', sql: 'SELECT * FROM memory.main.orders', expect: REFUSED_NAME },
  { name: 'the shared catalog by name', sql: 'SELECT order_id, note FROM shared.main.orders ORDER BY 1', expect: REFUSED_NAME, shared: OK, rows: ownOrders },
  { name: 'the shared catalog, two parts', sql: 'SELECT * FROM shared.orders', expect: REFUSED_NAME },
  // The PostgreSQL catalog answers, with the tenant's own objects only (the victim's id,
  // tables and markers must not appear).
  { name: 'information_schema.tables', sql: 'SELECT * FROM information_schema.tables', expect: OK },
  { name: 'information_schema.columns', sql: 'SELECT table_catalog, table_name, column_name FROM information_schema.columns', expect: OK },
  { name: 'information_schema.schemata', sql: 'SELECT * FROM information_schema.schemata', expect: OK },
  { name: 'catalog tables by tenant id', sql: "SELECT * FROM {V}.information_schema.tables", expect: REFUSED_NAME },
  { name: 'the tenant catalog database by name', sql: 'SELECT * FROM pg_tenant.main.pg_class', expect: REFUSED_NAME },
  { name: 'the tenant catalog database, stored name', sql: 'SELECT * FROM pg_tenant.main."information_schema.tables"', expect: REFUSED_NAME },
  { name: 'a tenant catalog macro called for the victim', sql: "SELECT pg_tenant.main.pg_get_userbyid('{V}', 10)", expect: PRIV },
  { name: 'regclass of a victim table', sql: "SELECT '{V}.main.orders'::regclass", expect: ['42P01'] },
  { name: 'pg_get_userbyid of other roles', sql: 'SELECT pg_get_userbyid(r) FROM range(0, 20000, 1) t(r) WHERE pg_get_userbyid(r) NOT LIKE \'unknown%\'', expect: OK },
  { name: 'system information_schema', sql: 'SELECT * FROM system.information_schema.tables', expect: REFUSED_NAME },
  { name: 'pg_catalog.pg_class', sql: 'SELECT relname FROM pg_catalog.pg_class', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'pg_catalog.pg_database', sql: 'SELECT datname FROM pg_catalog.pg_database', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'pg_catalog.pg_namespace', sql: 'SELECT nspname FROM pg_catalog.pg_namespace', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'pg_catalog.pg_settings', sql: 'SELECT name, setting FROM pg_catalog.pg_settings', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'unqualified pg_class', sql: 'SELECT relname FROM pg_class', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'unqualified pg_tables', sql: 'SELECT * FROM pg_tables', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'duckdb_tables view, unqualified', sql: 'SELECT * FROM duckdb_tables', expect: REFUSED_NAME },
  { name: 'duckdb_tables()', sql: 'SELECT * FROM duckdb_tables()', expect: PRIV },
  { name: 'duckdb_databases()', sql: 'SELECT database_name, path FROM duckdb_databases()', expect: PRIV },
  { name: 'duckdb_columns()', sql: 'SELECT * FROM duckdb_columns()', expect: PRIV },
  { name: 'duckdb_schemas()', sql: 'SELECT * FROM duckdb_schemas()', expect: PRIV },
  { name: 'duckdb_views()', sql: 'SELECT * FROM duckdb_views()', expect: PRIV },
  { name: 'duckdb_settings()', sql: 'SELECT * FROM duckdb_settings()', expect: PRIV },
  { name: 'duckdb_functions()', sql: 'SELECT * FROM duckdb_functions()', expect: PRIV },
  { name: 'duckdb_extensions()', sql: 'SELECT * FROM duckdb_extensions()', expect: PRIV },
  { name: 'duckdb_secrets()', sql: 'SELECT * FROM duckdb_secrets()', expect: PRIV },
  { name: 'duckdb_temporary_files()', sql: 'SELECT * FROM duckdb_temporary_files()', expect: PRIV },
  { name: 'duckdb_dependencies()', sql: 'SELECT * FROM duckdb_dependencies()', expect: PRIV },
  { name: 'duckdb_memory()', sql: 'SELECT * FROM duckdb_memory()', expect: PRIV },
  { name: 'system-qualified duckdb_tables()', sql: 'SELECT * FROM system.main.duckdb_tables()', expect: [...PRIV, ...REFUSED_NAME] },
  { name: 'pragma_database_list()', sql: 'SELECT * FROM pragma_database_list()', expect: PRIV },
  { name: 'pragma_table_info on the victim', sql: "SELECT * FROM pragma_table_info('{V}.main.orders')", expect: PRIV },
  { name: 'pragma_storage_info', sql: "SELECT * FROM pragma_storage_info('orders')", expect: PRIV },
  { name: 'pragma_show_tables', sql: 'SELECT * FROM pragma_show_tables()', expect: PRIV },
  { name: 'SHOW ALL TABLES', sql: 'SHOW ALL TABLES', expect: ['42601', ...PRIV, ...WRITE, '0A000'] },
  { name: 'SHOW TABLES', sql: 'SHOW TABLES', expect: ['ok', ...PRIV, ...WRITE, '0A000'] },
  { name: 'SHOW DATABASES', sql: 'SHOW DATABASES', expect: [...PRIV, ...WRITE, '0A000'] },
  { name: 'DESCRIBE the victim table', sql: 'DESCRIBE {V}.main.orders', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'DESCRIBE a query on the victim', sql: 'DESCRIBE SELECT * FROM {V}.main.orders', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'DESCRIBE duckdb_databases', sql: 'DESCRIBE duckdb_databases', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'SUMMARIZE the victim table', sql: 'SUMMARIZE {V}.main.orders', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'SUMMARIZE duckdb_databases', sql: 'SUMMARIZE duckdb_databases', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'SUMMARIZE system duckdb_settings', sql: 'SUMMARIZE system.main.duckdb_settings', expect: [...REFUSED_NAME, ...PRIV] },
  { name: 'SUMMARIZE a query on duckdb_databases()', sql: 'SUMMARIZE SELECT * FROM duckdb_databases()', expect: PRIV },
  { name: 'DESCRIBE own table', sql: 'DESCRIBE orders', expect: OK, shared: PRIV },
  { name: 'ATTACH the victim snapshot', sql: "ATTACH '{VSNAP}' AS v (READ_ONLY)", expect: PRIV },
  { name: 'ATTACH in memory', sql: "ATTACH ':memory:' AS m", expect: PRIV },
  { name: 'USE the victim', sql: 'USE {V}', expect: PRIV },
  { name: 'USE system', sql: 'USE system.main', expect: PRIV },
  { name: 'DETACH own catalog', sql: 'DETACH {CAT}', expect: PRIV },
  { name: 'DETACH DATABASE the victim', sql: 'DETACH DATABASE IF EXISTS {V}', expect: PRIV },
  { name: 'guess a prefixed victim table', sql: 'SELECT * FROM {V}_orders', expect: REFUSED_NAME },
  { name: 'misspelt own table (no suggestion)', sql: 'SELECT * FROM ordrs', expect: REFUSED_NAME },
  { name: 'guess the victim ledger', sql: 'SELECT * FROM ledger', expect: REFUSED_NAME },
  { name: 'unknown column (no suggestion)', sql: 'SELECT gx_privat FROM orders', expect: ['42703'] },
  { name: 'unknown schema', sql: 'SELECT * FROM secret_schema.orders', expect: REFUSED_NAME },
  { name: 'current_database and friends', sql: 'SELECT current_database() AS db, current_schema() AS s', expect: OK, rows: (c) => [[c.self.id, 'public']] },
  { name: 'current_user and session_user', sql: 'SELECT current_user AS u, session_user AS s', expect: ['ok', '42703', '42883'] },
  { name: 'pg_roles', sql: 'SELECT rolname FROM pg_catalog.pg_roles', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'pg_user', sql: 'SELECT usename FROM pg_user', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'pg_stat_activity', sql: 'SELECT datname, usename, query FROM pg_stat_activity', expect: [...REFUSED_NAME, 'ok'] },
  { name: 'VALUES with a victim subquery', sql: 'VALUES ((SELECT note FROM {V}.main.orders LIMIT 1))', expect: REFUSED_NAME },
  { name: 'PIVOT the victim table', sql: 'PIVOT {V}.main.orders ON amount IN (0, 10) USING count(*)', expect: REFUSED_NAME },
  { name: 'PIVOT subquery on the victim table', sql: 'SELECT * FROM (PIVOT {V}.main.orders ON amount IN (0, 10) USING count(*))', expect: REFUSED_NAME },
  // Without an IN list DuckDB needs a second statement to find the values: refused either way.
  { name: 'PIVOT the victim table without IN list', sql: 'PIVOT {V}.main.orders ON note USING count(*)', expect: [...REFUSED_NAME, ...PRIV, ...WRITE, '0A000'] },
  { name: 'UNPIVOT the victim table', sql: 'UNPIVOT {V}.main.orders ON order_id, amount INTO NAME k VALUE v', expect: REFUSED_NAME },
  { name: 'NATURAL JOIN the victim', sql: 'SELECT * FROM orders NATURAL JOIN {V}.main.orders', expect: REFUSED_NAME },
  { name: 'POSITIONAL JOIN the victim', sql: 'SELECT * FROM orders POSITIONAL JOIN {V}.main.orders', expect: REFUSED_NAME },
];

export const FILES: Attack[] = [
  { name: 'replacement scan of /etc/passwd', sql: "SELECT * FROM '/etc/passwd'", expect: PRIV },
  { name: 'FROM-first replacement scan', sql: "FROM '/etc/passwd'", expect: PRIV },
  { name: 'replacement scan of the registry (relative)', sql: "SELECT * FROM 'data/registry.json'", expect: PRIV },
  { name: 'replacement scan of the registry (absolute)', sql: "SELECT * FROM '{DATA}/registry.json'", expect: PRIV },
  { name: 'registry as a quoted identifier', sql: 'SELECT * FROM "{DATA}/registry.json"', expect: PRIV },
  { name: 'bare file name', sql: "SELECT * FROM 'registry.json'", expect: PRIV },
  { name: 'replacement scan of a canary csv', sql: "SELECT * FROM '{CANARY}'", expect: PRIV },
  { name: 'replacement scan of the victim snapshot', sql: "SELECT * FROM '{VSNAP}'", expect: PRIV },
  { name: 'replacement scan of the server secret', sql: "SELECT * FROM '{DATA}/server.secret'", expect: PRIV },
  { name: 'file URL', sql: "SELECT * FROM 'file:///etc/passwd'", expect: PRIV },
  { name: 'https URL', sql: "SELECT * FROM 'https://example.com/x.csv'", expect: PRIV },
  { name: 'read_csv', sql: "SELECT * FROM read_csv('/etc/passwd')", expect: PRIV },
  { name: 'read_csv_auto on the canary', sql: "SELECT * FROM read_csv_auto('{CANARY}')", expect: PRIV },
  { name: 'read_csv with a list of files', sql: "SELECT * FROM read_csv(['{CANARY}', '/etc/passwd'])", expect: PRIV },
  { name: 'read_text', sql: "SELECT content FROM read_text('/etc/passwd')", expect: PRIV },
  { name: 'read_text of the registry', sql: "SELECT content FROM read_text('{DATA}/registry.json')", expect: PRIV },
  { name: 'read_blob of the victim snapshot', sql: "SELECT content FROM read_blob('{VSNAP}')", expect: PRIV },
  { name: 'read_blob of the own snapshot', sql: "SELECT size FROM read_blob('{SSNAP}')", expect: PRIV },
  { name: 'read_blob of the shared snapshot', sql: "SELECT size FROM read_blob('{SHSNAP}')", expect: PRIV },
  { name: 'read_blob of another tenant snapshot', sql: "SELECT content FROM read_blob('{GSNAP}')", expect: PRIV },
  { name: 'read_parquet', sql: "SELECT * FROM read_parquet('{VSNAP}')", expect: PRIV },
  { name: 'parquet_scan', sql: "SELECT * FROM parquet_scan('/x.parquet')", expect: PRIV },
  { name: 'read_json', sql: "SELECT * FROM read_json('{DATA}/registry.json')", expect: PRIV },
  { name: 'read_json_auto', sql: "SELECT * FROM read_json_auto('{DATA}/registry.json')", expect: PRIV },
  { name: 'read_ndjson_objects', sql: "SELECT * FROM read_ndjson_objects('{DATA}/registry.json')", expect: PRIV },
  { name: 'glob of the data directory', sql: "SELECT * FROM glob('{DATA}/**')", expect: PRIV },
  { name: 'glob of /', sql: "SELECT * FROM glob('/*')", expect: PRIV },
  { name: 'sniff_csv', sql: "SELECT * FROM sniff_csv('{CANARY}')", expect: PRIV },
  { name: 'parquet_metadata', sql: "SELECT * FROM parquet_metadata('/x.parquet')", expect: PRIV },
  { name: 'parquet_schema', sql: "SELECT * FROM parquet_schema('/x.parquet')", expect: PRIV },
  { name: 'main-qualified read_csv', sql: "SELECT * FROM main.read_csv('/etc/passwd')", expect: PRIV },
  { name: 'system-qualified read_text', sql: "SELECT * FROM system.main.read_text('/etc/passwd')", expect: PRIV },
  { name: 'file reader inside a join', sql: "SELECT * FROM range(1) r, read_text('{CANARY}') f", expect: PRIV },
  { name: 'file reader inside a subquery', sql: "SELECT (SELECT content FROM read_text('{CANARY}')) AS c", expect: PRIV },
  { name: 'file reader inside a CTE', sql: "WITH f AS (SELECT * FROM read_text('{CANARY}')) SELECT * FROM f", expect: PRIV },
  { name: 'sqlite_scan', sql: "SELECT * FROM sqlite_scan('{VSNAP}', 'orders')", expect: PRIV },
  { name: 'query()', sql: "SELECT * FROM query('SELECT * FROM {V}.main.orders')", expect: PRIV },
  { name: 'query() reading a file', sql: "SELECT * FROM query('FROM ''/etc/passwd''')", expect: PRIV },
  { name: 'query_table()', sql: "SELECT * FROM query_table('orders')", expect: PRIV },
  { name: 'query_table() with a list', sql: "SELECT * FROM query_table(['orders', '{V}.main.orders'])", expect: PRIV },
  { name: 'getenv()', sql: "SELECT getenv('HOME')", expect: PRIV },
  // COPY is answered by the gateway: to STDOUT only; a file is server file access (42501).
  { name: 'COPY table TO a file', sql: "COPY orders TO '{OUT}/orders.csv'", expect: PRIV },
  { name: 'COPY query TO a file', sql: "COPY (SELECT * FROM orders) TO '{OUT}/q.csv' (FORMAT csv)", expect: PRIV },
  { name: 'COPY a victim table TO STDOUT', sql: 'COPY {V}.main.orders TO STDOUT', expect: REFUSED_NAME },
  { name: 'COPY a file reader TO STDOUT', sql: "COPY (SELECT * FROM read_csv('{CANARY}')) TO STDOUT", expect: PRIV },
  { name: 'a cursor over a victim table', sql: 'DECLARE c CURSOR WITH HOLD FOR SELECT * FROM {V}.main.orders', expect: REFUSED_NAME },
  { name: 'COPY FROM a file', sql: "COPY orders FROM '{CANARY}'", expect: WRITE },
  { name: 'COPY FROM DATABASE', sql: 'COPY FROM DATABASE {CAT} TO {V}', expect: WRITE },
  { name: 'EXPORT DATABASE', sql: "EXPORT DATABASE '{OUT}/export'", expect: PRIV },
  { name: 'IMPORT DATABASE', sql: "IMPORT DATABASE '{OUT}/export'", expect: WRITE },
  { name: 'LOAD an extension from a path', sql: "LOAD '{OUT}/evil.duckdb_extension'", expect: PRIV },
  { name: 'INSTALL httpfs', sql: 'INSTALL httpfs', expect: PRIV },
  { name: 'FORCE INSTALL', sql: "FORCE INSTALL httpfs FROM 'http://127.0.0.1:1'", expect: PRIV },
  { name: 'file path that looks like own table', sql: "SELECT order_id, note FROM 'orders' ORDER BY 1", expect: ['ok', ...PRIV], rows: ownOrders },
];

export const SMUGGLING: Attack[] = [
  { name: 'backslash quote hides a DELETE', sql: String.raw`SELECT '\'; DELETE FROM orders; --'`, expect: WRITE },
  { name: 'backslash quote hides an ATTACH', sql: String.raw`SELECT '\'; ATTACH ':memory:' AS m; --'`, expect: PRIV },
  { name: 'E-string with escaped quote', sql: String.raw`SELECT E'\'; DELETE FROM orders; --' AS s`, expect: ['ok', '42601'] },
  { name: 'E-string with backslash before the quote', sql: String.raw`SELECT E'\\'; DELETE FROM orders; --'`, expect: [...WRITE, '42601'] },
  { name: 'nested comment hides a DELETE', sql: 'SELECT 1 AS a /* /* */ ; DELETE FROM orders; */', expect: ['ok', '42601'] },
  { name: 'nested comment before a DELETE', sql: '/* /* */ DELETE FROM orders /* */ */ SELECT 1 AS a', expect: ['ok', '42601'] },
  { name: 'unterminated nested comment', sql: '/* /* */ SELECT 1; DELETE FROM orders', expect: ['42601'] },
  { name: 'dollar quote with a semicolon', sql: 'SELECT $$; DELETE FROM orders; $$ AS s', expect: ['ok', '42601'] },
  { name: 'tagged dollar quote', sql: 'SELECT $a$ ; DELETE FROM orders; $a$ AS s', expect: ['ok', '42601'] },
  { name: 'dollar quotes nested', sql: 'SELECT $a$ $b$; DELETE FROM orders; $b$ $a$ AS s', expect: ['ok', '42601'] },
  { name: 'dollar quote with $1 inside', sql: 'SELECT $t$ $1 ; DROP TABLE orders; $t$ AS s', expect: ['ok', '42601'] },
  { name: 'CR-only line ending ends a comment', sql: 'SELECT 1 AS a -- hidden?\rDELETE FROM orders', expect: ['ok', '42601', ...WRITE] },
  { name: 'CR-only line ending before a semicolon', sql: 'SELECT 1 AS a --\r; DELETE FROM orders', expect: WRITE },
  { name: 'CR-only line ending before ATTACH', sql: "SELECT 1 AS a --\r; ATTACH ':memory:' AS m", expect: PRIV },
  { name: 'comment to LF hides nothing', sql: 'SELECT 1 AS a -- x\n; DROP TABLE orders', expect: WRITE },
  { name: 'unicode escape string', sql: String.raw`SELECT U&'d\0027; DELETE FROM orders; --' AS s`, expect: ['ok', '42601', ...WRITE] },
  { name: 'unicode escape identifier', sql: String.raw`SELECT * FROM U&"\0067lobex".main.orders`, expect: [...REFUSED_NAME, '42601'] },
  { name: 'null byte in the query', sql: 'SELECT 1\u0000; DELETE FROM orders', expect: ['08P01', '42601'] },
  // Over the free plan's 64 KiB text limit (54000) before any parser sees it.
  { name: 'very long identifier', sql: `SELECT * FROM "${'g'.repeat(100_000)}"`, expect: [...REFUSED_NAME, '54000'] },
  { name: 'very long column alias', sql: `SELECT 1 AS "${'x'.repeat(100_000)}"`, expect: ['ok', '42601', '42622', '54000'] },
  // The SQL that runs is regenerated from DuckDB's AST (json_deserialize_sql): a name that
  // is not quoted again on the way back out turns text of a quoted identifier into SQL that
  // the gate never saw. Where DuckDB's own lockdown stops the smuggled SQL, the refusal
  // comes from the engine (42000 unknown catalog, 42501 file access).
  { name: 'qualified star whose name is SQL (victim catalog)', sql: 'SELECT "(SELECT list(note) FROM {V}.main.orders) AS leak, orders".* FROM orders', expect: [...STAR_REFUSED] },
  { name: 'qualified star whose name is SQL (file reader)', sql: `SELECT "(SELECT content FROM read_text('{CANARY}')) AS leak, orders".* FROM orders`, expect: [...STAR_REFUSED] },
  // Was a breach until the gate's round-trip check: a qualified star's relation name is written back unquoted,
  // so `SELECT "(SELECT string_agg(note, ',') FROM shared.main.orders) AS leak, orders".* FROM orders`
  // runs as `SELECT (SELECT string_agg(note, ',') FROM shared.main.orders) AS leak, orders.* FROM
  // (<confined orders>) AS orders`: the smuggled subquery reads the raw shared table and
  // initech received every tenant's notes, UMBRELLA-SECRET-8-0..4 included. (In database
  // isolation DuckDB answers 42000 Catalog "shared" does not exist.)
  { name: 'qualified star whose name is SQL (raw shared table)', sql: `SELECT "(SELECT string_agg(note, ',') FROM shared.main.orders) AS leak, orders".* FROM orders`, expect: [...STAR_REFUSED] },
  // Was a breach: the same with a star EXCLUDE, reading the raw customers
  // table: initech received UMBRELLA-PII-5.
  { name: 'qualified star EXCLUDE whose name is SQL (raw shared table)', sql: `SELECT "(SELECT string_agg(name, ',') FROM shared.main.customers) AS leak, orders".* EXCLUDE (customer) FROM orders`, expect: [...STAR_REFUSED] },
  // Was a breach (who else exists): the same, listing the tenant ids of the raw
  // shared table: initech received "umbrella".
  { name: 'qualified star whose name is SQL (tenant ids)', sql: 'SELECT "(SELECT list(DISTINCT tenant_id ORDER BY tenant_id) FROM shared.main.orders) AS t, orders".* FROM orders', expect: [...STAR_REFUSED] },
  // Was a breach (file paths): the smuggled SQL calls the table function
  // duckdb_databases() that the gate refuses: the client received the instance file's path,
  // /tmp/tenantgate-test-XXXX/tmp/gateway-<pid>/<owner>-<hex>/<owner>.duckdb, data directory
  // included (result rows are not scrubbed; only error messages are).
  { name: 'qualified star whose name is SQL (catalog function)', sql: 'SELECT "(SELECT list(path) FROM duckdb_databases()) AS leak, orders".* FROM orders', expect: [...STAR_REFUSED] },
  // Was a breach (settings): the smuggled SQL calls current_setting(), which the
  // gate refuses: the client received temp_directory, <data dir>/tmp/gateway-<pid>/<owner>-<hex>/spill.
  { name: 'qualified star whose name is SQL (setting)', sql: `SELECT "current_setting('temp_directory') AS leak, orders".* FROM orders`, expect: [...STAR_REFUSED] },
  { name: 'quoted named parameter', sql: `SELECT $"x, (SELECT list(note) FROM shared.main.orders) AS leak --"`, expect: ['42601', '42501'] },
  { name: 'read before a write', sql: 'SELECT * FROM orders; DELETE FROM orders', expect: WRITE },
  { name: 'read before an UPDATE', sql: "SELECT 1; UPDATE orders SET note = 'pwned'", expect: WRITE },
  { name: 'read before ATTACH', sql: "SELECT 1; ATTACH '{VSNAP}' AS v", expect: PRIV },
  { name: 'read before USE', sql: 'SELECT 1; USE {V}', expect: PRIV },
  { name: 'read before a victim read', sql: 'SELECT 1; SELECT * FROM {V}.main.orders', expect: REFUSED_NAME },
  { name: 'empty statements before DROP', sql: 'SELECT 1;; ;DROP TABLE orders', expect: WRITE },
  { name: 'lower-case delete', sql: '  delete from orders', expect: WRITE },
  { name: 'comment before DELETE', sql: '/* hi */ DELETE FROM orders', expect: WRITE },
  { name: 'parenthesised DELETE', sql: '(DELETE FROM orders)', expect: ['42601', ...WRITE] },
  { name: 'CTE with DELETE', sql: 'WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d', expect: [...WRITE, '42601'] },
  { name: 'CTE with INSERT', sql: "WITH i AS (INSERT INTO orders VALUES (1, 'x', 'x', 1) RETURNING *) SELECT * FROM i", expect: [...WRITE, '42601'] },
  { name: 'CTE then DELETE', sql: 'WITH x AS (SELECT 1) DELETE FROM orders', expect: [...WRITE, '42601'] },
  { name: 'CTE then UPDATE', sql: "WITH x AS (SELECT 1) UPDATE orders SET note = 'x'", expect: [...WRITE, '42601'] },
  { name: 'CTE then INSERT', sql: 'WITH x AS (SELECT 1) INSERT INTO orders SELECT * FROM orders', expect: [...WRITE, '42601'] },
  { name: 'SELECT INTO', sql: 'SELECT * INTO stolen FROM orders', expect: WRITE },
  { name: 'SELECT INTO TEMP', sql: 'SELECT note INTO TEMP t FROM orders', expect: WRITE },
  { name: 'INSERT', sql: "INSERT INTO orders VALUES (1, 'x', 'x', 1)", expect: WRITE },
  { name: 'INSERT OR REPLACE', sql: "INSERT OR REPLACE INTO orders VALUES (1, 'x', 'x', 1)", expect: WRITE },
  { name: 'UPDATE', sql: "UPDATE orders SET note = 'pwned'", expect: WRITE },
  { name: 'DELETE', sql: 'DELETE FROM orders', expect: WRITE },
  { name: 'MERGE', sql: 'MERGE INTO orders USING orders o ON true WHEN MATCHED THEN DELETE', expect: WRITE },
  { name: 'TRUNCATE', sql: 'TRUNCATE orders', expect: WRITE },
  { name: 'DROP TABLE', sql: 'DROP TABLE IF EXISTS orders', expect: WRITE },
  { name: 'ALTER TABLE', sql: 'ALTER TABLE orders RENAME TO o2', expect: WRITE },
  { name: 'CREATE TEMP TABLE', sql: 'CREATE TEMP TABLE t AS SELECT 1', expect: WRITE },
  { name: 'CREATE OR REPLACE TABLE', sql: 'CREATE OR REPLACE TABLE orders AS SELECT 1 AS a', expect: WRITE },
  { name: 'CREATE VIEW', sql: 'CREATE VIEW v AS SELECT * FROM orders', expect: WRITE },
  { name: 'CREATE MACRO', sql: 'CREATE MACRO m() AS 1', expect: WRITE },
  { name: 'CREATE SECRET', sql: "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')", expect: WRITE },
  { name: 'CREATE SEQUENCE', sql: 'CREATE SEQUENCE s', expect: WRITE },
  { name: 'CREATE TYPE', sql: "CREATE TYPE mood AS ENUM ('a')", expect: WRITE },
  { name: 'UPDATE EXTENSIONS', sql: 'UPDATE EXTENSIONS', expect: WRITE },
  { name: 'CHECKPOINT', sql: 'CHECKPOINT', expect: PRIV },
  { name: 'FORCE CHECKPOINT', sql: 'FORCE CHECKPOINT', expect: PRIV },
  { name: 'VACUUM', sql: 'VACUUM', expect: WRITE },
  { name: 'ANALYZE', sql: 'ANALYZE orders', expect: WRITE },
  // PREPARE passes its statement through the gate: a write is refused as a write.
  { name: 'PREPARE a DELETE', sql: 'PREPARE p AS DELETE FROM orders', expect: WRITE },
  { name: 'EXECUTE', sql: 'EXECUTE p', expect: ['26000'] },
  { name: 'EXECUTE with an argument that is SQL', sql: "PREPARE q AS SELECT $1::text AS v; EXECUTE q ((SELECT note FROM {V}.main.orders LIMIT 1))", expect: ['0A000', '42P01'], cleanup: 'DEALLOCATE ALL' },
  { name: 'EXPLAIN on the victim', sql: 'EXPLAIN SELECT * FROM {V}.main.orders', expect: PRIV },
  { name: 'EXPLAIN ANALYZE a DELETE', sql: 'EXPLAIN ANALYZE DELETE FROM orders', expect: PRIV },
  { name: 'DO block', sql: 'DO $$ BEGIN DELETE FROM orders; END $$', expect: PRIV },
  { name: 'BEGIN then DELETE', sql: 'BEGIN; DELETE FROM orders; COMMIT', expect: WRITE, cleanup: 'ROLLBACK' },
  { name: 'BEGIN READ WRITE then DELETE', sql: 'BEGIN READ WRITE; DELETE FROM orders', expect: WRITE, cleanup: 'ROLLBACK' },
  { name: 'SET TRANSACTION READ WRITE then DELETE', sql: 'SET TRANSACTION READ WRITE; DELETE FROM orders', expect: WRITE },
  { name: 'default_transaction_read_only off then DELETE', sql: 'SET default_transaction_read_only = off; DELETE FROM orders', expect: [...WRITE, '42704', '22023'] },
  { name: 'SET VARIABLE from the victim', sql: 'SET VARIABLE x = (SELECT note FROM {V}.main.orders LIMIT 1)', expect: ['42601', '42704', ...PRIV, ...REFUSED_NAME] },
  { name: 'set_variable()', sql: "SELECT set_variable('x', 1)", expect: PRIV },
  { name: 'getvariable()', sql: "SELECT getvariable('x')", expect: PRIV },
  { name: 'recursive CTE, legitimate', sql: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r ORDER BY n', expect: OK, rows: () => [['1'], ['2'], ['3']] },
  { name: 'CTE shadowing orders with fake rows', sql: "WITH orders AS (SELECT 'fake' AS note) SELECT note FROM orders", expect: OK, rows: () => [['fake']] },
  { name: 'CTE body sees a later CTE', sql: 'WITH a AS (SELECT * FROM b), b AS (SELECT * FROM {V}.main.orders) SELECT * FROM a', expect: REFUSED_NAME },
  { name: 'own table in a recursive term', sql: 'WITH RECURSIVE r AS (SELECT 0 AS n UNION ALL SELECT n + 1 FROM r, orders WHERE n < 1) SELECT count(*) FROM r', expect: OK, rows: () => [[String(1 + ORDER_ROWS)]] },
  { name: 'materialized CTE shadowing own table', sql: 'WITH orders AS MATERIALIZED (SELECT * FROM orders) SELECT order_id, note FROM orders ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'lambda with a subquery on the victim', sql: 'SELECT list_transform([1], x -> (SELECT count(*) FROM {V}.main.orders)) AS l', expect: [...REFUSED_NAME, '42000'] },
  { name: 'FOR UPDATE', sql: 'SELECT * FROM orders FOR UPDATE', expect: ['ok', '42601', '0A000', ...WRITE] },
  { name: 'alias with quotes and JSON characters', sql: 'SELECT "o"",""x\\".order_id, note FROM orders AS "o"",""x\\" ORDER BY 1', expect: OK, rows: ownOrders },
];

export const SETTINGS: Attack[] = [
  { name: 'SET threads', sql: 'SET threads = 1', expect: ['42704'] },
  { name: 'SET threads TO', sql: 'SET threads TO 64', expect: ['42704'] },
  { name: 'SET memory_limit', sql: "SET memory_limit = '100GB'", expect: ['42704'] },
  { name: 'SET max_memory', sql: "SET max_memory = '1TB'", expect: ['42704'] },
  { name: 'SET enable_external_access', sql: 'SET enable_external_access = true', expect: ['42704'] },
  { name: 'SET quoted enable_external_access', sql: `SET "enable_external_access" = 'true'`, expect: ['42704'] },
  { name: 'SET lock_configuration', sql: 'SET lock_configuration = false', expect: ['42704'] },
  { name: 'SET access_mode', sql: "SET access_mode = 'READ_WRITE'", expect: ['42704'] },
  { name: 'SET allowed_directories', sql: "SET allowed_directories = '/'", expect: ['42704'] },
  { name: 'SET temp_directory', sql: "SET temp_directory = '/tmp'", expect: ['42704'] },
  { name: 'SET allow_unsigned_extensions', sql: 'SET allow_unsigned_extensions = true', expect: ['42704'] },
  { name: 'SET autoload_known_extensions', sql: 'SET autoload_known_extensions = 1', expect: ['42704'] },
  { name: 'SET custom_extension_repository', sql: "SET custom_extension_repository = 'http://127.0.0.1:1'", expect: ['42704'] },
  { name: 'SET GLOBAL threads', sql: 'SET GLOBAL threads = 1', expect: ['42704', '42601'] },
  { name: 'SET SESSION memory_limit', sql: "SET SESSION memory_limit = '1TB'", expect: ['42704'] },
  { name: 'SET LOCAL threads in a block', sql: 'BEGIN; SET LOCAL threads = 1', expect: ['42704'], cleanup: 'ROLLBACK' },
  { name: 'read then SET memory_limit', sql: "SELECT 1; SET memory_limit = '1TB'", expect: ['42704'] },
  { name: 'SET search_path to the victim', sql: 'SET search_path = {V}; SELECT order_id, note FROM orders ORDER BY 1', expect: ['ok', '22023', '42704', '3F000'], rows: ownOrders, cleanup: 'RESET search_path' },
  { name: 'SET search_path to system', sql: "SET search_path TO 'system.main'; SELECT order_id, note FROM orders ORDER BY 1", expect: ['ok', '22023', '42704', '3F000'], rows: ownOrders, cleanup: 'RESET search_path' },
  { name: 'SET SCHEMA to the victim', sql: "SET SCHEMA '{V}'; SELECT order_id, note FROM orders ORDER BY 1", expect: ['ok', '22023', '42704', '3F000'], rows: ownOrders, cleanup: 'RESET search_path' },
  { name: 'SET GLOBAL search_path', sql: "SET GLOBAL search_path = '{V}'", expect: ['42704', '42601'] },
  { name: 'SET ROLE', sql: 'SET ROLE {V}', expect: PRIV },
  { name: 'SET SESSION AUTHORIZATION', sql: 'SET SESSION AUTHORIZATION {V}', expect: PRIV },
  { name: 'RESET threads', sql: 'RESET threads', expect: ['42704'] },
  { name: 'RESET lock_configuration', sql: 'RESET lock_configuration', expect: ['42704'] },
  { name: 'RESET ALL then read own rows', sql: 'RESET ALL; SELECT order_id, note FROM orders ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'PRAGMA threads', sql: 'PRAGMA threads = 1', expect: PRIV },
  { name: 'PRAGMA database_list', sql: 'PRAGMA database_list', expect: PRIV },
  { name: 'PRAGMA show_tables', sql: 'PRAGMA show_tables', expect: PRIV },
  { name: 'PRAGMA table_info of the victim', sql: "PRAGMA table_info('{V}.main.orders')", expect: PRIV },
  { name: 'PRAGMA enable_profiling', sql: "PRAGMA enable_profiling = 'json'", expect: PRIV },
  { name: 'CALL pragma_database_list', sql: 'CALL pragma_database_list()', expect: PRIV },
  { name: 'CALL duckdb_settings', sql: 'CALL duckdb_settings()', expect: PRIV },
  // current_setting reads the session's PostgreSQL settings: DuckDB's are unknown names there.
  { name: 'current_setting(memory_limit)', sql: "SELECT current_setting('memory_limit')", expect: ['42704'] },
  { name: 'current_setting(temp_directory)', sql: "SELECT current_setting('temp_directory')", expect: ['42704'] },
  { name: 'current_setting in pg_catalog', sql: "SELECT pg_catalog.current_setting('threads')", expect: ['42704'] },
  { name: 'current_setting quoted', sql: `SELECT "current_setting"('enable_external_access')`, expect: ['42704'] },
  { name: 'current_setting qualified by system', sql: "SELECT system.main.current_setting('threads')", expect: PRIV },
  { name: 'current_setting in a WHERE', sql: "SELECT 1 WHERE current_setting('lock_configuration') = 'true'", expect: ['42704'] },
  { name: 'set_config()', sql: "SELECT set_config('search_path', '{V}', false)", expect: ['42883', ...PRIV] },
  { name: 'SHOW an engine setting', sql: 'SHOW memory_limit', expect: ['42704'] },
  { name: 'SHOW temp_directory', sql: 'SHOW temp_directory', expect: ['42704'] },
];

/** A predicate that raises an error on any row of the victim (an oracle if ever evaluated there). */
export const ORACLE = "CASE WHEN starts_with(note, upper('{V}')) THEN error('found') ELSE true END";
export const count = (n: number) => () => [[String(n)]];

export const CONFINEMENT: Attack[] = [
  { name: 'count(*) of own table', sql: 'SELECT count(*) FROM orders', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'min and max of own table', sql: 'SELECT min(order_id), max(order_id) FROM orders', expect: OK, rows: (c) => [[String(ORDER_BASE[c.self.id]!), String(ORDER_BASE[c.self.id]! + ORDER_ROWS - 1)]] },
  { name: 'sum over own table', sql: 'SELECT CAST(sum(amount) AS INTEGER) FROM orders', expect: OK, rows: () => [['100']] },
  { name: 'select the tenant column', sql: 'SELECT tenant_id FROM orders', expect: ['42703'] },
  { name: 'filter on the tenant column', sql: "SELECT * FROM orders WHERE tenant_id = '{V}'", expect: ['42703'] },
  { name: 'qualified tenant column', sql: 'SELECT o.tenant_id FROM orders o', expect: ['42703', '42000'] },
  { name: 'quoted upper-case tenant column', sql: 'SELECT "TENANT_ID" FROM orders', expect: ['42703'] },
  { name: 'tenant column of the shared catalog table', sql: 'SELECT {CAT}.main.orders.tenant_id FROM {CAT}.main.orders', expect: ['42703', '42000'] },
  { name: 'more column aliases than columns', sql: 'SELECT * FROM orders AS o(a, b, c, d, e)', expect: ['42000', '42601', '42703'] },
  { name: 'join USING the tenant column', sql: 'SELECT count(*) FROM orders JOIN customers USING (tenant_id)', expect: ['42000', '42703'] },
  { name: 'COLUMNS() matching the tenant column', sql: "SELECT COLUMNS('tenant.*') FROM orders", expect: ['42000', '42703'] },
  { name: 'whole row as a struct', sql: 'SELECT o FROM orders o ORDER BY o.order_id LIMIT 1', expect: OK },
  { name: 'whole row as JSON', sql: 'SELECT to_json(o) FROM orders o ORDER BY o.order_id LIMIT 1', expect: OK },
  { name: 'column aliases over the confined table', sql: 'SELECT a, c FROM orders AS o(a, b, c, d) ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'star EXCLUDE', sql: 'SELECT * EXCLUDE (customer, amount) FROM orders ORDER BY 1', expect: OK, rows: ownOrders },
  { name: 'self cross join', sql: 'SELECT count(*) FROM orders o1, orders o2', expect: OK, rows: count(ORDER_ROWS * ORDER_ROWS) },
  { name: 'join with the catalog-qualified table', sql: 'SELECT count(*) FROM orders o1 JOIN {CAT}.main.orders o2 USING (order_id)', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'NATURAL JOIN with itself', sql: 'SELECT count(*) FROM orders NATURAL JOIN orders o2', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'POSITIONAL JOIN with itself', sql: 'SELECT count(*) FROM orders POSITIONAL JOIN customers', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'ASOF JOIN with itself', sql: 'SELECT count(*) FROM orders o1 ASOF JOIN orders o2 ON o1.order_id >= o2.order_id', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'LATERAL on itself', sql: 'SELECT count(*) FROM orders o, LATERAL (SELECT * FROM orders x WHERE x.order_id = o.order_id) l', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'correlated subquery', sql: 'SELECT (SELECT count(*) FROM orders x WHERE x.order_id >= o.order_id) FROM orders o ORDER BY 1', expect: OK, rows: () => [['1'], ['2'], ['3'], ['4'], ['5']] },
  { name: 'IN subquery on the qualified table', sql: 'SELECT count(*) FROM orders WHERE order_id IN (SELECT order_id FROM {CAT}.main.orders)', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'FROM-first subquery', sql: 'SELECT count(*) FROM (FROM orders)', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'aliases swapping table names', sql: 'SELECT count(*) FROM customers AS orders, orders AS customers', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'mixed-case quoted names', sql: 'SELECT count(*) FROM "main"."orders", Public.Customers', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'USING SAMPLE 100%', sql: 'SELECT count(*) FROM orders USING SAMPLE 100%', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'TABLESAMPLE 100%', sql: 'SELECT count(*) FROM orders TABLESAMPLE 100%', expect: OK, shared: PRIV, rows: count(ORDER_ROWS) },
  { name: 'time travel on own table', sql: 'SELECT count(*) FROM orders AT (VERSION => 1)', expect: PRIV },
  { name: 'rowid of own table', sql: 'SELECT count(rowid) FROM orders', expect: ['ok', '42703'], rows: count(ORDER_ROWS) },
  { name: 'PIVOT own table in a subquery', sql: 'SELECT count(*) FROM (PIVOT orders ON amount IN (0, 10) USING count(*))', expect: OK, rows: count(ORDER_ROWS) },
  { name: 'UNPIVOT own table', sql: 'SELECT count(*) FROM (UNPIVOT orders ON order_id, amount INTO NAME k VALUE v)', expect: OK, rows: count(2 * ORDER_ROWS) },
  { name: 'UNPIVOT own table with COLUMNS(*)', sql: 'SELECT DISTINCT k FROM (UNPIVOT (SELECT CAST(COLUMNS(*) AS VARCHAR) FROM orders) ON COLUMNS(*) INTO NAME k VALUE v) ORDER BY k', expect: OK, rows: () => [['amount'], ['customer'], ['note'], ['order_id']] },
  { name: 'list of own notes', sql: 'SELECT list(note ORDER BY note) FROM orders', expect: OK },
  { name: 'own customers', sql: 'SELECT name FROM customers', expect: OK, rows: (c) => [[c.self.markers[1]!]] },
  { name: 'rows shared by a tenant list', sql: 'SELECT headline FROM announcements ORDER BY 1', expect: REFUSED_NAME, shared: OK, rows: (c) => [[COMMON_NEWS], [c.self.markers[2]!]] },
  { name: 'the tenant list column', sql: 'SELECT tenant_ids FROM announcements', expect: ['42P01', '42703'] },
  { name: 'unnest the tenant list', sql: 'SELECT unnest(tenant_ids) FROM announcements', expect: ['42P01', '42703'] },
  // PostgreSQL reads the anchor's `orders` as the CTE itself (an error there), DuckDB as the
  // table: the two parsers disagree, and a refusal is as good as the confined answer.
  { name: 'recursive CTE shadowing own table', sql: 'WITH RECURSIVE orders AS (SELECT order_id FROM orders UNION ALL SELECT order_id FROM orders WHERE false) SELECT count(*) FROM orders', expect: ['ok', ...PRIV], rows: count(ORDER_ROWS) },
  // Error oracles: a predicate that fails on the victim's rows must never run on them.
  { name: 'error() oracle in WHERE', sql: `SELECT count(*) FROM orders WHERE ${ORACLE}`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'cast oracle in WHERE', sql: "SELECT count(*) FROM orders WHERE CAST(CASE WHEN starts_with(note, upper('{V}')) THEN note ELSE '1' END AS INTEGER) = 1", expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle in a join condition', sql: `SELECT count(*) FROM orders JOIN range(1) r(x) ON ${ORACLE}`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle in a scalar subquery', sql: `SELECT (SELECT count(*) FROM orders WHERE ${ORACLE})`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle in an IN subquery', sql: `SELECT count(*) FROM orders WHERE order_id IN (SELECT order_id FROM orders WHERE ${ORACLE})`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle in a CTE', sql: `WITH x AS (SELECT * FROM orders WHERE ${ORACLE}) SELECT count(*) FROM x`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle in ORDER BY', sql: `SELECT order_id, note FROM orders ORDER BY CASE WHEN starts_with(note, upper('{V}')) THEN error('found')::INTEGER ELSE order_id END`, expect: OK, rows: ownOrders },
  { name: 'error() oracle in an aggregate FILTER', sql: `SELECT count(*) FILTER (WHERE ${ORACLE}) FROM orders`, expect: OK, rows: count(ORDER_ROWS) },
  { name: 'error() oracle on customers', sql: "SELECT count(*) FROM customers WHERE CASE WHEN starts_with(name, upper('{V}')) THEN error('found') ELSE true END", expect: OK, rows: count(1) },
  { name: 'error() oracle on list-shared rows', sql: "SELECT count(*) FROM announcements WHERE CASE WHEN starts_with(headline, upper('{V}')) THEN error('found') ELSE true END", expect: REFUSED_NAME, shared: OK, rows: count(2) },
  { name: 'victim prefix never matches', sql: "SELECT count(*) FROM orders WHERE starts_with(note, upper('{V}'))", expect: OK, rows: count(0) },
];

export const REPEAT_BIG = "SELECT length(repeat('x', 1000000000)) AS n";

export function bigSelectList(n: number): string {
  return `SELECT ${Array.from({ length: n }, (_, i) => `1 AS c${i}`).join(', ')}`;
}

export const RESOURCES: Attack[] = [
  { name: "repeat('x', 1e9)", sql: REPEAT_BIG, expect: ['54000'] },
  { name: 'rpad to 1e9', sql: "SELECT length(rpad('x', 1000000000, 'y'))", expect: ['54000'] },
  { name: 'range(1e12) as a scalar list', sql: 'SELECT range(1e12)', expect: ['54000'] },
  { name: 'generate_series(1e12) as a scalar list', sql: 'SELECT generate_series(1, 1000000000000)', expect: ['54000'] },
  { name: 'list_resize to 1e12', sql: 'SELECT list_resize([1], 1000000000000)', expect: ['54000'] },
  { name: '50,000 select-list columns', sql: bigSelectList(50_000), expect: ['54000', '54001'] },
  { name: '100,000 OR terms', sql: `SELECT count(*) FROM orders WHERE ${Array.from({ length: 100_000 }, () => '1=0').join(' OR ')}`, expect: ['54000', '54001'] },
  { name: '100,000-element IN list', sql: `SELECT 1 WHERE 1 IN (${Array.from({ length: 100_000 }, (_, i) => i).join(',')})`, expect: ['54000', '54001'] },
  { name: '5,000 nested parentheses', sql: `SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`, expect: ['54001'] },
  { name: '5,000 nested brackets', sql: `SELECT ${'['.repeat(5000)}1${']'.repeat(5000)}`, expect: ['54001'] },
  { name: '1,000 nested subqueries', sql: `${'SELECT ('.repeat(1000)}1${')'.repeat(1000)}`, expect: ['54001'] },
  // DuckDB's own parser refuses these as syntax errors (expression depth, parser stack).
  { name: '100,000 chained additions', sql: `SELECT 1${' + 1'.repeat(100_000)}`, expect: ['54000', '54001', '42601'] },
  { name: '100,000 chained NOTs', sql: `SELECT ${'NOT '.repeat(100_000)}true`, expect: ['54000', '54001', '42601'] },
  { name: '2 MB query text', sql: `SELECT '${'x'.repeat(2 * 1024 * 1024)}'`, expect: ['54000'] },
  { name: '2 MB comment', sql: `SELECT 1 /* ${'x'.repeat(2 * 1024 * 1024)} */`, expect: ['54000'] },
  { name: 'pg_sleep', sql: 'SELECT pg_sleep(10)', expect: PRIV },
  { name: 'pg_catalog.pg_sleep', sql: 'SELECT pg_catalog.pg_sleep(10)', expect: PRIV },
  { name: 'sleep_ms', sql: 'SELECT sleep_ms(10000)', expect: PRIV },
];

/** Attacks that must end with an error in bounded time under a statement timeout. */
export interface TimedAttack {
  name: string;
  sql: string;
  expect: Outcome[];
  /** Longest the attack may take, timeout included. */
  withinMs: number;
  failsIn?: Mode[];
}

export const TIMED: TimedAttack[] = [
  { name: 'cross join of large ranges', sql: 'SELECT count(*) FROM range(10000000) a, range(10000000) b', expect: ['57014'], withinMs: 15_000 },
  { name: 'range(1e12) as a table', sql: 'SELECT count(*) FROM range(1000000000000)', expect: ['57014'], withinMs: 15_000 },
  { name: 'unbounded recursive CTE', sql: 'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r', expect: ['57014', '53200'], withinMs: 15_000 },
  // Ended by the statement timeout or, first, by the plan's result-row cap (54000).
  { name: 'streaming a huge result', sql: 'SELECT * FROM range(10000000) a, range(10000000) b', expect: ['57014', '54000'], withinMs: 15_000 },
  { name: 'string_agg of 10 MB strings', sql: "SELECT length(string_agg(repeat('x', 10000000), '')) FROM range(1000)", expect: ['57014', '53200'], withinMs: 15_000 },
  // Sizes that are not constants escape the up-front size check; DuckDB cannot interrupt
  // the work, so these end when it is done (about a second), with 57014.
  { name: 'repeat() with a computed size', sql: "SELECT length(repeat('x', 1000000 * 300))", expect: ['54000', '57014', '53200'], withinMs: 30_000 },
  { name: 'repeat() of a repeat()', sql: "SELECT length(repeat(repeat('x', 10000000), 30))", expect: ['54000', '57014', '53200'], withinMs: 30_000 },
];

export const GROUPS: [string, Attack[]][] = [
  ['cross-tenant names and catalogs', CROSS_TENANT],
  ['files', FILES],
  ['smuggling', SMUGGLING],
  ['settings', SETTINGS],
  ['confinement of the attacker\'s own tables', CONFINEMENT],
  ['resource abuse', RESOURCES],
];

/** Strings the attacker must never see, given the text it sent. */
export function forbiddenFor(c: Ctx, sql: string, everyone: TenantSeed[]): string[] {
  const lower = sql.toLowerCase();
  const out: string[] = [c.dataDir, FILE_MARKER, 'root:x:0:0', 'Did you mean', 'Candidate'];
  // The tenant column of shared tables is never shown, nor its list form.
  if (c.mode === 'shared' && !lower.includes('tenant_id')) out.push('tenant_id');
  for (const t of everyone) {
    if (t.id === c.self.id) continue;
    out.push(...t.markers);
    for (const n of [t.id, ...t.names]) if (!lower.includes(n.toLowerCase())) out.push(n);
  }
  return out;
}


// ---------------------------------------------------------------------------------------
// Running an attack and recording everything the client received

export type Protocol = 'simple' | 'extended';

export interface Received {
  /** Every backend message during the attack, as JSON. */
  messages: string[];
  error: pg.DatabaseError | null;
  /** Rows of every statement's result, as text arrays. */
  rows: (string | null)[][][];
  ms: number;
}

type Conn = pg.Client & { connection: import('node:events').EventEmitter };

/** Sends one attack, over the simple protocol or the extended one (Parse/Bind/Execute/Sync). */
export async function send(client: pg.Client, sql: string, protocol: Protocol = 'simple'): Promise<Received> {
  const conn = (client as Conn).connection;
  const messages: string[] = [];
  const rows: (string | null)[][][] = [];
  const onMessage = (msg: { name: string; fields?: unknown[] }) => {
    messages.push(JSON.stringify(msg, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('utf8') : v)));
    if (msg.name === 'rowDescription') rows.push([]);
    if (msg.name === 'dataRow') {
      if (rows.length === 0) rows.push([]);
      rows[rows.length - 1]!.push((msg.fields ?? []).map((f) => (f === null ? null : String(f))));
    }
  };
  conn.on('message', onMessage);
  const started = performance.now();
  let error: pg.DatabaseError | null = null;
  try {
    await client.query({ text: sql, rowMode: 'array', ...(protocol === 'extended' ? { queryMode: 'extended' } : {}) } as pg.QueryArrayConfig);
  } catch (e) {
    error = e as pg.DatabaseError;
  } finally {
    conn.off('message', onMessage);
  }
  const ms = performance.now() - started;
  if (error) messages.push(JSON.stringify({ message: error.message, detail: error.detail, hint: error.hint, where: error.where }));
  return { messages, error, rows, ms };
}


// ---------------------------------------------------------------------------------------
// Setting up the world

/**
 * Creates the four tenants (acme and globex with files of their own; initech and umbrella
 * in the shared tables, with rows shared by a tenant list) and a canary file in `scratch`;
 * returns the attacker's context for each isolation mode.
 */
export async function seedAttackTenants(gw: TestGateway, scratch: string): Promise<Record<Mode, Ctx>> {
  const outDir = path.join(scratch, 'out');
  fs.mkdirSync(outDir);
  const canary = writeCsv(scratch, 'canary.csv', 'secret', [FILE_MARKER]);

  // The attackers run on the free plan's limits, but for its rate: the attacks send far
  // more than 60 queries a minute, and each must be refused (or answered) for what it is.
  await setPlan(gw.registry, { ...getPlan('free'), queriesPerMinute: null });

  // Database isolation: each tenant its own file.
  await addTestTenant(gw.registry, 'acme', PW, { plan: 'free', sql: databaseSql(SEEDS.acme!) });
  await addTestTenant(gw.registry, 'globex', PW, { plan: 'pro', sql: databaseSql(SEEDS.globex!) });

  // Shared isolation: both tenants' rows in the same tables of one shared file.
  for (const id of ['initech', 'umbrella']) {
    await addTenant(gw.registry, { id, plan: 'free', password: PW, isolation: 'shared' });
    const t = SEEDS[id]!;
    const base = ORDER_BASE[id]!;
    const orders = writeCsv(
      scratch,
      `${id}-orders.csv`,
      'order_id,customer,note,amount',
      Array.from({ length: ORDER_ROWS }, (_, i) => `${base + i},${id}-customer-${i},${t.markers[0]}-${i},${i * 10}`),
    );
    await loadSharedTenantTable(gw.registry, id, 'orders', orders, 'create');
    const customers = writeCsv(scratch, `${id}-customers.csv`, 'id,name,email', [`1,${t.markers[1]},ceo@${id}.example`]);
    await loadSharedTenantTable(gw.registry, id, 'customers', customers, 'create');
  }
  const news = writeCsv(scratch, 'announcements.csv', 'tenant_ids,headline', [
    `"[initech, umbrella]",${COMMON_NEWS}`,
    `[initech],${SEEDS.initech!.markers[2]}`,
    `[umbrella],${SEEDS.umbrella!.markers[2]}`,
  ]);
  await loadMultiTenantTable(gw.registry, 'announcements', news, 'create');

  const data = await gw.registry.read();
  const snap = async (id: string) => gw.registry.snapshotPath(await getTenant(gw.registry, id))!;
  const sharedSnapshot = gw.registry.sharedSnapshotPath(data)!;
  const common = { dataDir: gw.dataDir, globexSnapshot: await snap('globex'), sharedSnapshot, canary, outDir };
  return {
    database: {
      ...common,
      mode: 'database',
      self: SEEDS.acme!,
      victim: SEEDS.globex!,
      catalog: 'acme',
      selfSnapshot: await snap('acme'),
      victimSnapshot: await snap('globex'),
    },
    shared: {
      ...common,
      mode: 'shared',
      self: SEEDS.initech!,
      victim: SEEDS.umbrella!,
      catalog: 'shared',
      selfSnapshot: sharedSnapshot,
      victimSnapshot: sharedSnapshot,
    },
  };
}

/** Each tenant's data as stored, read from its snapshot files (not through the gateway). */
export async function storedState(gw: TestGateway): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const id of ['acme', 'globex']) {
    out[id] = await querySnapshot(gw.registry, id, 'SELECT (SELECT count(*) FROM orders)::VARCHAR, (SELECT string_agg(note, \',\' ORDER BY note) FROM orders), (SELECT string_agg(name, \',\') FROM customers)');
  }
  out.shared = await querySharedSnapshot(
    gw.registry,
    "SELECT (SELECT string_agg(tenant_id || ':' || note, ',' ORDER BY note) FROM orders), (SELECT string_agg(tenant_id || ':' || name, ',' ORDER BY name) FROM customers), (SELECT string_agg(headline, ',' ORDER BY headline) FROM announcements)",
  );
  return JSON.parse(JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) as Record<string, unknown>;
}

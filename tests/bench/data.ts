// The benchmark's data: T tenants × R rows of the demo `orders` schema (src/tenants/demo.ts),
// generated inside DuckDB from range() with Weyl-sequence pseudo-random columns, so the
// rows depend only on (tenant number, row number) and never on DuckDB's random state,
// thread count or hash functions. One global table with tenant_id first, written as
// Parquet (for `tenantgate split`) and CSV (for PostgreSQL's COPY).
import { DuckDBInstance } from '@duckdb/node-api';
import { DEMO_CHANNELS, DEMO_COMMON_PRODUCTS, DEMO_STATUSES } from '../../src/tenants/demo.js';
import { quoteLiteral } from '../../src/tenants/ids.js';
import { onCleanup } from './cleanup.js';

export interface BenchTenant {
  /** 1-based tenant number: the seed of its rows and the high part of its order ids. */
  k: number;
  id: string;
  password: string;
}

export function tenantId(k: number): string {
  return `t${String(k).padStart(4, '0')}`;
}

export function benchTenant(k: number): BenchTenant {
  const id = tenantId(k);
  return { k, id, password: `bench-${id}-password` };
}

export function benchTenants(count: number): BenchTenant[] {
  return Array.from({ length: count }, (_, i) => benchTenant(i + 1));
}

/** order_id of row i (1-based) of tenant k: unique over all tenants. */
export function orderId(k: number, i: number): number {
  return k * 100_000_000 + i;
}

/** The last day of the generated history; orders span the 731 days up to it. */
export const LAST_DAY = '2025-12-31';

/** The columns of `orders`, in order, with PostgreSQL types (tenant_id comes first in shared tables). */
export const ORDER_COLUMNS: readonly [string, string][] = [
  ['order_id', 'bigint'],
  ['order_date', 'date'],
  ['product', 'text'],
  ['category', 'text'],
  ['quantity', 'integer'],
  ['unit_price', 'numeric(10,2)'],
  ['cost_price', 'numeric(10,2)'],
  ['channel', 'text'],
  ['status', 'text'],
];

/** Products only some tenants sell: `{t}` becomes the tenant id. */
const EXCLUSIVE_PRODUCTS = [
  { product: '{t} rocket skates 🚀', category: 'Gadgets', unitPrice: 149, costPrice: 61 },
  { product: '{t} anvil', category: 'Hardware', unitPrice: 89.5, costPrice: 40 },
  { product: '{t} volcano lamp 🌋', category: 'Home', unitPrice: 59.9, costPrice: 21 },
];

const list = (values: readonly string[]): string => `[${values.map(quoteLiteral).join(', ')}]`;

/**
 * A SELECT of every row of tenants 1..tenants, rows 1..rows each, ordered by
 * (tenant_id, order_id): tenant_id, then the columns of ORDER_COLUMNS.
 */
export function ordersSql(tenants: number, rows: number): string {
  const products = [...DEMO_COMMON_PRODUCTS, ...EXCLUSIVE_PRODUCTS];
  const productRows = products
    .map((p, i) => `(${i}, ${quoteLiteral(p.product)}, ${quoteLiteral(p.category)}, ${p.unitPrice}, ${p.costPrice})`)
    .join(', ');
  // h(a): a value in [0, 65536) from the top bits of (i + seed) * a mod 2^32; seed < 2^24
  // and i < 2^31 keep the product below 2^63.
  const h = (a: number): string => `(((i + seed) * ${a}) % 4294967296) // 65536`;
  return `
    WITH products(idx, product, category, unit_price, cost_price) AS (VALUES ${productRows}),
    tenants AS (
      SELECT k, printf('t%04d', k) AS tenant_id, (k * 7919) % 16777216 AS seed,
             0.8 + (k % 7) * 0.1 AS price_factor
      FROM range(1, ${tenants + 1}) AS t(k)
    ),
    gen AS (
      SELECT k, tenant_id, price_factor, i,
        ${h(2654435761)} AS h_date,
        ${h(2246822519)} AS h_product,
        ${h(3266489917)} AS h_quantity,
        ${h(668265263)} AS h_channel,
        ${h(374761393)} AS h_status
      FROM tenants, range(1, ${rows + 1}) AS r(i)
    )
    SELECT
      tenant_id,
      CAST(k * 100000000 + i AS BIGINT) AS order_id,
      DATE '${LAST_DAY}' - CAST(730 - h_date % 731 AS INTEGER) AS order_date,
      replace(p.product, '{t}', tenant_id) AS product,
      p.category,
      CAST(CASE WHEN h_quantity % 40 = 0 THEN 10 + (h_quantity // 40) % 15 ELSE 1 + h_quantity % 5 END AS INTEGER) AS quantity,
      CAST(p.unit_price * price_factor AS DECIMAL(10,2)) AS unit_price,
      CAST(p.cost_price * price_factor AS DECIMAL(10,2)) AS cost_price,
      ${list(DEMO_CHANNELS)}[1 + h_channel % ${DEMO_CHANNELS.length}] AS channel,
      ${list(DEMO_STATUSES)}[1 + h_status % ${DEMO_STATUSES.length}] AS status
    FROM gen JOIN products p ON p.idx = h_product % ${products.length}
    ORDER BY tenant_id, order_id`;
}

export interface GeneratedFiles {
  parquet: string;
  csv: string | null;
  rows: number;
  ms: number;
  duckdbVersion: string;
}

/**
 * Writes the global table as Parquet and, when csv is given, as a CSV without header
 * (PostgreSQL's COPY ... CSV).
 */
export async function generateFiles(tenants: number, rows: number, parquet: string, csv: string | null, threads: number): Promise<GeneratedFiles> {
  const t0 = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await instance.connect();
  const interrupt = onCleanup('interrupt data generation', () => conn.interrupt());
  try {
    await conn.run(`CREATE TABLE orders_all AS ${ordersSql(tenants, rows)}`);
    await conn.run(`COPY orders_all TO ${quoteLiteral(parquet)} (FORMAT parquet, ROW_GROUP_SIZE 122880)`);
    if (csv) await conn.run(`COPY orders_all TO ${quoteLiteral(csv)} (FORMAT csv, HEADER false)`);
    const n = await conn.runAndReadAll('SELECT count(*), version() FROM orders_all');
    const row = n.getRows()[0] ?? [];
    return { parquet, csv, rows: Number(row[0] ?? 0), ms: performance.now() - t0, duckdbVersion: String(row[1] ?? '') };
  } finally {
    interrupt.cancel();
    conn.closeSync();
    instance.closeSync();
  }
}

/** A checksum of the generated rows (for the determinism test): count and sum of row hashes. */
export async function checksumOf(tenants: number, rows: number): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await instance.connect();
  try {
    const r = await conn.runAndReadAll(
      `SELECT count(*), sum(hash(tenant_id, order_id, order_date, product, category, quantity, unit_price, cost_price, channel, status) % 1000000007)
       FROM (${ordersSql(tenants, rows)})`,
    );
    return (r.getRows()[0] ?? []).map(String).join(':');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

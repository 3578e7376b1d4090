// Demo tenants with deterministic, tenant-specific sample data, generated inside DuckDB.
//
// The passwords below are public demo values, printed in the README so its psql commands
// work as shown. Never use the demo tenants for anything but a local trial.
import type { DuckDBConnection } from '@duckdb/node-api';
import { rm } from 'node:fs/promises';
import { TenantError, quoteLiteral } from './ids.js';
import { makeVerifier, newTenantRecord, type Registry } from './registry.js';
import { buildSnapshot } from './snapshots.js';

export interface DemoTenant {
  id: string;
  plan: string;
  user: string;
  password: string;
  /** false when the tenant already existed (ifMissing) and was left alone. */
  created: boolean;
}

export interface DemoProduct {
  product: string;
  category: string;
  unitPrice: number;
  costPrice: number;
}

export interface DemoTenantSpec {
  id: string;
  name: string;
  plan: string;
  password: string;
  /** Rows in `orders`. */
  orders: number;
  /** order_id = orderIdBase + 1 .. orderIdBase + orders */
  orderIdBase: number;
  /** Multiplies every list price and cost. */
  priceFactor: number;
  /** Varies the generated sequence between tenants. */
  seed: number;
  /** Products only this tenant sells (their names start with the tenant's name). */
  exclusiveProducts: DemoProduct[];
}

/** Products every demo tenant sells. */
export const DEMO_COMMON_PRODUCTS: readonly DemoProduct[] = [
  { product: 'Café crème', category: 'Beverages', unitPrice: 3.8, costPrice: 1.1 },
  { product: 'Espresso beans 1 kg', category: 'Beverages', unitPrice: 24.9, costPrice: 11.5 },
  { product: 'Größe M T-shirt', category: 'Apparel', unitPrice: 19.99, costPrice: 6.4 },
  { product: 'Hoodie — navy', category: 'Apparel', unitPrice: 49, costPrice: 18.75 },
  { product: '寿司セット', category: 'Food', unitPrice: 28.5, costPrice: 12 },
  { product: 'Crème brûlée kit', category: 'Food', unitPrice: 14.25, costPrice: 5.1 },
  { product: 'Notebook A5 ✏️', category: 'Stationery', unitPrice: 6.5, costPrice: 1.9 },
  { product: 'USB-C cable 2 m', category: 'Electronics', unitPrice: 12.99, costPrice: 3.2 },
  { product: 'Noise-cancelling headphones 🎧', category: 'Electronics', unitPrice: 199, costPrice: 92 },
  { product: 'Party pack 🎉', category: 'Party', unitPrice: 34, costPrice: 13.6 },
];

export const DEMO_CHANNELS: readonly string[] = ['web', 'mobile app 📱', 'retail store', 'partner', 'phone'];

/** Weighted: each entry is one tenth of the orders. */
export const DEMO_STATUSES: readonly string[] = [
  'completed', 'completed', 'completed', 'completed', 'completed',
  'shipped', 'shipped', 'pending', 'cancelled', 'refunded',
];

export const DEMO_TENANTS: readonly DemoTenantSpec[] = [
  {
    id: 'acme',
    name: 'Acme Corporation',
    plan: 'free',
    password: 'acme-demo-password',
    orders: 2000,
    orderIdBase: 100_000,
    priceFactor: 1,
    seed: 11,
    exclusiveProducts: [
      { product: 'Acme Rocket Skates 🚀', category: 'Gadgets', unitPrice: 149, costPrice: 61 },
      { product: 'Acme Anvil', category: 'Hardware', unitPrice: 89.5, costPrice: 40 },
      { product: 'Acme Giant Magnet', category: 'Gadgets', unitPrice: 39.99, costPrice: 15 },
    ],
  },
  {
    id: 'globex',
    name: 'Globex Corporation',
    plan: 'pro',
    password: 'globex-demo-password',
    orders: 3500,
    orderIdBase: 200_000,
    priceFactor: 1.1,
    seed: 23,
    exclusiveProducts: [
      { product: 'Globex Hammock', category: 'Outdoor', unitPrice: 79, costPrice: 30 },
      { product: 'Globex Volcano Lamp 🌋', category: 'Home', unitPrice: 59.9, costPrice: 21 },
      { product: 'Globex Monorail Pass', category: 'Travel', unitPrice: 15, costPrice: 2.5 },
    ],
  },
  {
    id: 'initech',
    name: 'Initech',
    plan: 'enterprise',
    password: 'initech-demo-password',
    orders: 5000,
    orderIdBase: 300_000,
    priceFactor: 0.95,
    seed: 37,
    exclusiveProducts: [
      { product: 'Initech Red Stapler', category: 'Stationery', unitPrice: 17.49, costPrice: 4.8 },
      { product: 'Initech TPS Report Binder', category: 'Stationery', unitPrice: 9.99, costPrice: 2.1 },
      { product: 'Initech Jump to Conclusions Mat', category: 'Games', unitPrice: 29.95, costPrice: 9 },
    ],
  },
];

function sqlList(values: readonly string[]): string {
  return `[${values.map(quoteLiteral).join(', ')}]`;
}

/**
 * The SQL that creates and fills `orders` and `daily_summary` for one demo tenant.
 * Pseudo-random fields come from Weyl sequences (i * odd constant mod 2^32), so the data
 * depend only on the spec, never on DuckDB's hash functions or random state.
 */
export function demoDataSql(spec: DemoTenantSpec): string[] {
  const products = [...DEMO_COMMON_PRODUCTS, ...spec.exclusiveProducts];
  const productRows = products
    .map(
      (p, i) =>
        `(${i}, ${quoteLiteral(p.product)}, ${quoteLiteral(p.category)}, ` +
        `${(p.unitPrice * spec.priceFactor).toFixed(2)}, ${(p.costPrice * spec.priceFactor).toFixed(2)})`,
    )
    .join(',\n      ');
  // h(k): a value in [0, 65536) from the top bits of (i + seed) * A_k mod 2^32.
  const h = (a: number): string => `(((i + ${spec.seed}) * ${a}) % 4294967296) // 65536`;
  return [
    `CREATE TABLE orders (
      order_id BIGINT,
      order_date DATE,
      product VARCHAR,
      category VARCHAR,
      quantity INTEGER,
      unit_price DECIMAL(10,2),
      cost_price DECIMAL(10,2),
      channel VARCHAR,
      status VARCHAR
    )`,
    `INSERT INTO orders
    WITH products(idx, product, category, unit_price, cost_price) AS (VALUES
      ${productRows}
    ),
    gen AS (
      SELECT i,
        ${h(2654435761)} AS h_date,
        ${h(2246822519)} AS h_product,
        ${h(3266489917)} AS h_quantity,
        ${h(668265263)} AS h_channel,
        ${h(374761393)} AS h_status
      FROM range(1, ${spec.orders + 1}) AS r(i)
    )
    SELECT
      ${spec.orderIdBase} + i,
      DATE '2024-01-01' + CAST(h_date % 731 AS INTEGER),
      p.product,
      p.category,
      CAST(CASE WHEN h_quantity % 40 = 0 THEN 10 + (h_quantity // 40) % 15 ELSE 1 + h_quantity % 5 END AS INTEGER),
      CAST(p.unit_price AS DECIMAL(10,2)),
      CAST(p.cost_price AS DECIMAL(10,2)),
      ${sqlList(DEMO_CHANNELS)}[1 + h_channel % ${DEMO_CHANNELS.length}],
      ${sqlList(DEMO_STATUSES)}[1 + h_status % ${DEMO_STATUSES.length}]
    FROM gen JOIN products p ON p.idx = h_product % ${products.length}
    ORDER BY 1`,
    `CREATE TABLE daily_summary (
      report_date DATE,
      revenue DECIMAL(12,2),
      cost DECIMAL(12,2),
      profit DECIMAL(12,2),
      order_count INTEGER,
      avg_order DECIMAL(10,2)
    )`,
    // Revenue counts orders that were not cancelled or refunded.
    `INSERT INTO daily_summary
    SELECT
      order_date,
      CAST(sum(quantity * unit_price) AS DECIMAL(12,2)),
      CAST(sum(quantity * cost_price) AS DECIMAL(12,2)),
      CAST(sum(quantity * (unit_price - cost_price)) AS DECIMAL(12,2)),
      CAST(count(*) AS INTEGER),
      CAST(round(sum(quantity * unit_price) / count(*), 2) AS DECIMAL(10,2))
    FROM orders
    WHERE status NOT IN ('cancelled', 'refunded')
    GROUP BY order_date
    ORDER BY order_date`,
  ];
}

/** Fills a demo tenant's database (used inside buildSnapshot's transaction). */
export async function writeDemoData(conn: DuckDBConnection, spec: DemoTenantSpec): Promise<void> {
  for (const sql of demoDataSql(spec)) await conn.run(sql);
}

/**
 * Creates the demo tenants acme (free), globex (pro) and initech (enterprise), each with
 * one user named like the tenant and its demo data. Without ifMissing an existing demo
 * tenant is an error and nothing is created; with it, existing ones are left alone.
 */
export async function createDemo(registry: Registry, opts: { ifMissing?: boolean } = {}): Promise<DemoTenant[]> {
  const verifiers = await Promise.all(DEMO_TENANTS.map((s) => makeVerifier(s.password)));
  const created = await registry.update((data) => {
    const fresh = new Set<string>();
    DEMO_TENANTS.forEach((spec, i) => {
      if (Object.hasOwn(data.tenants, spec.id)) {
        if (opts.ifMissing) return;
        throw new TenantError(`demo tenant ${spec.id} already exists (use --if-missing to keep existing tenants)`);
      }
      const scram = verifiers[i];
      if (!scram) throw new Error('missing verifier');
      data.tenants[spec.id] = newTenantRecord({ id: spec.id, name: spec.name, plan: spec.plan, isolation: 'database', scram });
      fresh.add(spec.id);
    });
    return fresh;
  });

  try {
    for (const spec of DEMO_TENANTS) {
      if (created.has(spec.id)) await buildSnapshot(registry, spec.id, (conn) => writeDemoData(conn, spec));
    }
  } catch (e) {
    // Take back the tenants this call created, so a retry starts clean.
    await registry
      .update((data) => {
        for (const id of created) delete data.tenants[id];
      })
      .catch(() => undefined);
    for (const id of created) await rm(registry.tenantDir(id), { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }

  return DEMO_TENANTS.map((s) => ({
    id: s.id,
    plan: s.plan,
    user: s.id,
    password: s.password,
    created: created.has(s.id),
  }));
}

/** A conninfo value, quoted for libpq when it contains spaces, quotes or backslashes. */
function conninfoValue(v: string): string {
  if (v !== '' && !/[\s'\\]/.test(v)) return v;
  return `'${v.replace(/['\\]/g, (c) => `\\${c}`)}'`;
}

/** A word for a POSIX shell, single-quoted unless it is plainly safe. */
function shellWord(v: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(v)) return v;
  return `'${v.replaceAll("'", `'\\''`)}'`;
}

/**
 * The shell command that connects psql to a demo tenant over verified TLS, e.g.
 * PGPASSWORD=acme-demo-password psql "host=127.0.0.1 port=6432 dbname=acme user=acme sslmode=verify-full sslrootcert=certs/ca.crt"
 */
export function psqlCommandLine(t: DemoTenant, host: string, port: number, caPath: string): string {
  const conninfo = [
    `host=${conninfoValue(host)}`,
    `port=${port}`,
    `dbname=${conninfoValue(t.id)}`,
    `user=${conninfoValue(t.user)}`,
    'sslmode=verify-full',
    `sslrootcert=${conninfoValue(caPath)}`,
  ].join(' ');
  // Inside double quotes the shell still expands $, ` and \ and ends at ".
  const quoted = conninfo.replace(/[$`"\\]/g, (c) => `\\${c}`);
  return `PGPASSWORD=${shellWord(t.password)} psql "${quoted}"`;
}

// The workload's statements. Every target runs the same text: `orders` is the tenant's
// table (its own file, its own schema, or the shared table behind RLS or the gateway's
// tenant filter). Only the in-process shared target substitutes the filter itself, as the
// gateway does for shared tenants.
import { LAST_DAY, orderId } from './data.js';

export interface BenchQuery {
  name: string;
  /** The statement, with `from` as the relation to read (normally `orders`). */
  sql(from: string): string;
  /** Parameters for one execution ($1 ...), or none. */
  params?(k: number, rows: number, rnd: () => number): (string | number)[];
}

/** 30 days up to LAST_DAY, inclusive. */
const FIRST_OF_LAST_30 = new Date(Date.parse(`${LAST_DAY}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);

export const DASHBOARD: readonly BenchQuery[] = [
  {
    name: 'revenue_30d',
    sql: (from) =>
      `SELECT order_date, sum(quantity * unit_price) AS revenue, count(*) AS orders FROM ${from} ` +
      `WHERE order_date >= DATE '${FIRST_OF_LAST_30}' AND status NOT IN ('cancelled', 'refunded') ` +
      `GROUP BY order_date ORDER BY order_date`,
  },
  {
    name: 'top_products',
    sql: (from) =>
      `SELECT product, sum(quantity * (unit_price - cost_price)) AS profit FROM ${from} ` +
      `GROUP BY product ORDER BY profit DESC LIMIT 10`,
  },
  {
    name: 'channel_rollup',
    sql: (from) =>
      `SELECT channel, category, sum(quantity * unit_price) AS revenue, count(*) AS orders FROM ${from} ` +
      `GROUP BY ROLLUP (channel, category) ORDER BY channel, category`,
  },
  {
    name: 'point_lookup',
    sql: (from) => `SELECT * FROM ${from} WHERE order_id = $1`,
    params: (k, rows, rnd) => [orderId(k, 1 + Math.floor(rnd() * rows))],
  },
  { name: 'select_1', sql: () => 'SELECT 1' },
];

/** A tenant's whole table: the export. */
export const EXPORT_SQL = (from: string): string => `SELECT * FROM ${from}`;

/**
 * The noisy neighbour's statement: a self-join on the day (R²/731 pairs), aggregated to
 * one row, so it burns CPU and memory without a large result.
 */
export const HEAVY: BenchQuery = {
  name: 'heavy_join',
  sql: (from) =>
    `SELECT count(*) AS pairs, sum(a.quantity * b.quantity) AS units FROM ${from} a JOIN ${from} b ` +
    `ON a.order_date = b.order_date WHERE a.channel <> b.channel`,
};

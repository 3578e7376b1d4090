import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';

const UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A PostgreSQL time setting ("30s", "500", "1min") in milliseconds; a bare number is
 * in `defaultUnit`, as for statement_timeout.
 */
export function parseDuration(value: string, defaultUnit: 'ms' | 's'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
  if (!m) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for a time setting: "${value}"`, {
      hint: 'Valid units are "us", "ms", "s", "min", "h", and "d".',
    });
  }
  return Math.round(Number(m[1]) * UNITS[m[2] ?? defaultUnit]!);
}

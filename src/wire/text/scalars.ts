// numeric, interval, bytea, bit, uuid and geometry in PostgreSQL's text form.
import type { DuckDBGeometryValue, DuckDBUUIDValue } from '@duckdb/node-api';
import { PAD2, ZEROS, fractionText, pad2 } from './digits.js';

/** numeric text of an unscaled integer and a scale: trailing zeros kept to the scale. */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return String(unscaled);
  const neg = unscaled < 0n;
  let s = String(neg ? -unscaled : unscaled);
  if (s.length <= scale) s = ZEROS.slice(0, scale - s.length + 1) + s;
  const cut = s.length - scale;
  return (neg ? '-' : '') + s.slice(0, cut) + '.' + s.slice(cut);
}

let ivZero = true;
let ivBefore = false;
/** PostgreSQL's AddPostgresIntPart. */
function ivPart(out: string, value: number, unit: string): string {
  if (value === 0) return out;
  out += (ivZero ? '' : ' ') + (ivBefore && value > 0 ? '+' : '') + value + unit + (value !== 1 ? 's' : '');
  ivBefore = value < 0; // each nonzero field sets is_before for the next one only
  ivZero = false;
  return out;
}

/** IntervalStyle 'postgres' (PostgreSQL's EncodeInterval). */
export function intervalText(months: number, days: number, micros: bigint): string {
  ivZero = true;
  ivBefore = false;
  let out = ivPart('', Math.trunc(months / 12), ' year');
  out = ivPart(out, months % 12, ' mon');
  out = ivPart(out, days, ' day');
  const isZero = ivZero;
  const isBefore = ivBefore;
  if (isZero || micros !== 0n) {
    const minus = micros < 0n;
    const abs = minus ? -micros : micros;
    let hours: number | bigint;
    let rest: number;
    const n = Number(abs);
    if (Number.isSafeInteger(n)) {
      rest = n % 3_600_000_000;
      hours = (n - rest) / 3_600_000_000;
    } else {
      hours = abs / 3_600_000_000n;
      rest = Number(abs % 3_600_000_000n);
    }
    const mins = Math.floor(rest / 60_000_000);
    const secsMicros = rest - mins * 60_000_000;
    const secs = Math.floor(secsMicros / 1_000_000);
    out +=
      (isZero ? '' : ' ') +
      (minus ? '-' : isBefore ? '+' : '') +
      (typeof hours === 'number' ? pad2(hours) : String(hours).padStart(2, '0')) +
      ':' +
      PAD2[mins] +
      ':' +
      PAD2[secs] +
      fractionText(secsMicros - secs * 1_000_000);
  }
  return out;
}

const HEX_UPPER = Array.from({ length: 256 }, (_, i) => (i < 16 ? '0' : '') + i.toString(16).toUpperCase());
const BYTE_BITS: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(2).padStart(8, '0'));

export function hexLower(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('hex');
}

export function byteaText(bytes: Uint8Array): string {
  return '\\x' + hexLower(bytes);
}

/** varbit text: DuckDB stores the count of padding bits in byte 0, then the bits MSB first. */
export function bitText(data: Uint8Array): string {
  if (data.length < 2) return '';
  let out = BYTE_BITS[data[1]!]!.slice(data[0]!);
  for (let i = 2; i < data.length; i++) out += BYTE_BITS[data[i]!];
  return out;
}

const UUID_FLIP = 1n << 127n;
const U128_MASK = (1n << 128n) - 1n;
export function uuidText(v: DuckDBUUIDValue): string {
  const h = ((v.hugeint ^ UUID_FLIP) & U128_MASK).toString(16).padStart(32, '0');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

export function geometryText(g: DuckDBGeometryValue): string {
  let out = '';
  for (const b of g.bytes) out += HEX_UPPER[b];
  return out;
}

// PostgreSQL's text input syntax for parameter values of the scalar types: what boolin,
// int2in/int4in/int8in, float4in/float8in, numeric_in, uuid_in and byteain accept, with
// their error codes and messages.
import { PgError } from '../../errors/PgError.js';
import { SqlState } from '../../errors/sqlstate.js';

export function invalidSyntax(typeName: string, text: string): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, `invalid input syntax for type ${typeName}: "${text}"`);
}

function outOfRange(typeName: string, text: string): PgError {
  return new PgError(SqlState.NumericValueOutOfRange, `value "${text}" is out of range for type ${typeName}`);
}

/** boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, any case, any unique prefix, surrounding spaces. */
export function parseBool(text: string): boolean {
  const s = text.trim().toLowerCase();
  const prefixOf = (word: string, min = 1) => s.length >= min && word.startsWith(s);
  if (prefixOf('true') || prefixOf('yes') || s === 'on' || s === '1') return true;
  if (prefixOf('false') || prefixOf('no') || prefixOf('off', 2) || s === '0') return false;
  throw invalidSyntax('boolean', text);
}

const INT_RANGES = {
  smallint: [-(2n ** 15n), 2n ** 15n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  bigint: [-(2n ** 63n), 2n ** 63n - 1n],
} as const;

/**
 * int2in/int4in/int8in (PostgreSQL 16): optional sign, decimal digits or 0x/0o/0b digits,
 * single underscores between digits, surrounding spaces.
 */
export function parseInteger(text: string, typeName: keyof typeof INT_RANGES): bigint {
  const m = /^\s*([+-]?)(0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+|\d(?:_?\d)*)\s*$/.exec(text);
  if (!m) throw invalidSyntax(typeName, text);
  const digits = m[2]!.replace(/_/g, '');
  const abs = BigInt(digits.length > 1 && /^0[oO]/.test(digits) ? '0o' + digits.slice(2) : digits);
  const value = m[1] === '-' ? -abs : abs;
  const [lo, hi] = INT_RANGES[typeName];
  if (value < lo || value > hi) throw outOfRange(typeName, text);
  return value;
}

const FLOAT4_MAX = 3.4028234663852886e38;

/** float4in/float8in: decimal and exponent notation, NaN, Infinity and inf, any case. */
export function parseFloat(text: string, typeName: 'real' | 'double precision'): number {
  const s = text.trim();
  let value: number;
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') {
      if (special[1] !== '') throw invalidSyntax(typeName, text);
      return NaN;
    }
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw invalidSyntax(typeName, text);
  value = Number(s);
  const max = typeName === 'real' ? FLOAT4_MAX : Number.MAX_VALUE;
  if (!Number.isFinite(value) || Math.abs(value) > max) {
    throw new PgError(SqlState.NumericValueOutOfRange, `"${s}" is out of range for type ${typeName}`);
  }
  if (typeName === 'real') value = Math.fround(value);
  return value;
}

/** The most digits a DuckDB DECIMAL holds. */
export const MAX_DECIMAL_WIDTH = 38;

export type NumericInput =
  | { kind: 'finite'; unscaled: bigint; width: number; scale: number }
  | { kind: 'special'; value: number }; // NaN, Infinity, -Infinity

/**
 * numeric_in: digits with an optional point and exponent, underscores between digits,
 * NaN and (PostgreSQL 14+) Infinity. A finite value becomes DuckDB's DECIMAL, which holds
 * 38 digits: more fractional digits are rounded away (half away from zero, as numeric
 * rounding does); more than 38 integer digits are out of range (22003).
 */
export function parseNumeric(text: string): NumericInput {
  const s = text.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return { kind: 'special', value: NaN };
    return { kind: 'special', value: special[1] === '-' ? -Infinity : Infinity };
  }
  const m = /^([+-]?)(\d(?:_?\d)*)?(?:\.((?:\d(?:_?\d)*)?))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m || (m[2] === undefined && !m[3])) throw invalidSyntax('numeric', text);
  let intDigits = (m[2] ?? '').replace(/_/g, '');
  let fracDigits = (m[3] ?? '').replace(/_/g, '');
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  if (Math.abs(exp) > 1000) throw new PgError(SqlState.NumericValueOutOfRange, 'value overflows numeric format');
  if (exp > 0) {
    const moved = fracDigits.slice(0, exp).padEnd(exp, '0');
    intDigits += moved;
    fracDigits = fracDigits.slice(exp);
  } else if (exp < 0) {
    const n = -exp;
    const padded = intDigits.padStart(n, '0');
    fracDigits = padded.slice(padded.length - n) + fracDigits;
    intDigits = padded.slice(0, padded.length - n);
  }
  intDigits = intDigits.replace(/^0+/, '');
  if (intDigits.length > MAX_DECIMAL_WIDTH) {
    throw new PgError(SqlState.NumericValueOutOfRange, `numeric value "${s}" has more than ${MAX_DECIMAL_WIDTH} digits before the decimal point`);
  }
  let scale = fracDigits.length;
  let unscaled = BigInt(intDigits + fracDigits || '0');
  const room = MAX_DECIMAL_WIDTH - intDigits.length;
  if (scale > room) {
    const drop = 10n ** BigInt(scale - room);
    unscaled = (unscaled + drop / 2n) / drop; // half away from zero (unscaled is not negative here)
    scale = room;
  }
  if (m[1] === '-') unscaled = -unscaled;
  const width = Math.max(1, scale, String(unscaled < 0n ? -unscaled : unscaled).length);
  return { kind: 'finite', unscaled, width: Math.min(MAX_DECIMAL_WIDTH, width), scale };
}

/** uuid_in: 32 hex digits, optionally in braces, with a hyphen allowed after any group of four. */
export function parseUuid(text: string): bigint {
  let s = text;
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  let hex = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '-' && hex.length > 0 && hex.length % 4 === 0 && i + 1 < s.length && s[i + 1] !== '-') continue;
    if (!/[0-9a-fA-F]/.test(c)) throw invalidSyntax('uuid', text);
    hex += c;
  }
  if (hex.length !== 32) throw invalidSyntax('uuid', text);
  return BigInt('0x' + hex);
}

/** byteain: `\x` followed by hex pairs (spaces between pairs allowed), or the escape format. */
export function parseBytea(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const out: number[] = [];
    for (let i = 2; i < text.length; ) {
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        i++;
        continue;
      }
      const pair = text.slice(i, i + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(pair)) {
        throw new PgError(SqlState.InvalidParameterValue, pair.length < 2 ? 'invalid hexadecimal data: odd number of digits' : `invalid hexadecimal digit: "${pair.match(/[^0-9a-fA-F]/)?.[0] ?? pair}"`);
      }
      out.push(parseInt(pair, 16));
      i += 2;
    }
    return Uint8Array.from(out);
  }
  const bytes = Buffer.from(text, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b !== 0x5c) {
      out.push(b);
      i++;
    } else if (bytes[i + 1] === 0x5c) {
      out.push(0x5c);
      i += 2;
    } else {
      const oct = bytes.subarray(i + 1, i + 4).toString('latin1');
      if (!/^[0-3][0-7][0-7]$/.test(oct)) throw invalidSyntax('bytea', text);
      out.push(parseInt(oct, 8));
      i += 4;
    }
  }
  return Uint8Array.from(out);
}

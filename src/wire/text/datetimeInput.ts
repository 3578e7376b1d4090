// PostgreSQL's text input for date, time, timestamp, timestamptz and interval parameters:
// the ISO 8601 forms clients send (`2024-01-02`, `2024-01-02 03:04:05.678+01`,
// `2024-01-02T03:04:05Z`, `... Europe/Paris`, ` BC`), the special values infinity,
// -infinity and epoch, and intervals in the postgres and ISO 8601 styles.
import { PgError } from '../../errors/PgError.js';
import { SqlState } from '../../errors/sqlstate.js';
import { localMicrosToUtc, zoneFor } from './datetime.js';
import { invalidSyntax } from './input.js';

const USECS_PER_DAY = 86_400_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
/** DuckDB's infinities. */
export const DATE_INFINITY = 2 ** 31 - 1;
export const TIMESTAMP_INFINITY = INT64_MAX;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 0 is 1 BC). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

type TypeName = 'date' | 'time without time zone' | 'timestamp without time zone' | 'timestamp with time zone';

interface DateTime {
  /** Days since 1970-01-01, or ±Infinity. */
  days: number;
  /** Microseconds since midnight; may be 24:00:00 exactly. */
  micros: number;
  /** Seconds east of UTC, or a zone name, when the text gave one. */
  zone: number | string | null;
}

const fieldOverflow = (text: string) => new PgError(SqlState.DatetimeFieldOverflow, `date/time field value out of range: "${text}"`);

function timeOfDay(text: string, h: string, mi: string, s: string | undefined, frac: string | undefined): number {
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  const f = frac ?? '';
  const fracMicros = f === '' ? 0 : Math.round(Number('0.' + f) * 1e6);
  if (minute > 59 || second > 60 || hour > 24 || (hour === 24 && (minute > 0 || second > 0 || fracMicros > 0))) {
    throw fieldOverflow(text);
  }
  return ((hour * 60 + minute) * 60 + second) * 1_000_000 + fracMicros;
}

const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d*))?)?`;
const OFFSET = String.raw`(Z|[+-]\d{1,2}(?::?\d{2}(?::?\d{2})?)?)`;
const DATE_TIME = new RegExp(String.raw`^(\d{1,7})-(\d{1,2})-(\d{1,2})(?:(?:T|\s+)${TIME})?\s*${OFFSET}?(?:\s+(.*))?$`, 'i');
const TIME_ONLY = new RegExp(String.raw`^${TIME}\s*${OFFSET}?(?:\s+(.*))?$`, 'i');

/** The zone of a date/time text: an offset right after the time, then words (a zone name, BC/AD). */
function readZone(text: string, offset: string | undefined, rest: string | undefined): { zone: number | string | null; bc: boolean } {
  let zone: number | string | null = null;
  if (offset !== undefined) {
    const off = /^([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(offset);
    if (off) {
      const [h, mi, se] = [Number(off[2]), Number(off[3] ?? 0), Number(off[4] ?? 0)];
      if (h > 15 || mi > 59 || se > 59) {
        throw new PgError(SqlState.DatetimeFieldOverflow, `time zone displacement out of range: "${text}"`);
      }
      zone = (off[1] === '-' ? -1 : 1) * (h * 3600 + mi * 60 + se);
    } else {
      zone = 0; // Z
    }
  }
  let bc = false;
  for (const word of (rest ?? '').split(/\s+/).filter(Boolean)) {
    const upper = word.toUpperCase();
    if (upper === 'BC' || upper === 'AD') {
      bc = upper === 'BC';
    } else if (zone === null && (upper === 'UTC' || upper === 'GMT' || upper === 'Z')) {
      zone = 0;
    } else if (zone === null && /^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(word)) {
      zone = word;
    } else {
      throw invalidSyntax('timestamp', text);
    }
  }
  return { zone, bc };
}

function parseDateTime(text: string, typeName: TypeName): DateTime {
  const s = text.trim();
  const lower = s.toLowerCase();
  if (lower === 'infinity' || lower === '+infinity') return { days: Infinity, micros: 0, zone: null };
  if (lower === '-infinity') return { days: -Infinity, micros: 0, zone: null };
  if (lower === 'epoch') return { days: 0, micros: 0, zone: 0 };
  const m = DATE_TIME.exec(s);
  if (!m) throw invalidSyntax(typeName, text);
  const { zone, bc } = readZone(text, m[8], m[9]);
  let year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year === 0 || month < 1 || month > 12) throw fieldOverflow(text);
  if (bc) year = 1 - year;
  if (day < 1 || day > daysInMonth(year, month)) throw fieldOverflow(text);
  const micros = m[4] === undefined ? 0 : timeOfDay(text, m[4], m[5]!, m[6], m[7]);
  return { days: daysFromCivil(year, month, day), micros, zone };
}

/** date_in: days since 1970-01-01 (DuckDB's DATE), ±DATE_INFINITY for the infinities. */
export function parseDate(text: string): number {
  const dt = parseDateTime(text, 'date');
  if (dt.days === Infinity) return DATE_INFINITY;
  if (dt.days === -Infinity) return -DATE_INFINITY;
  // PostgreSQL's range: 4713 BC to 5874897 AD.
  if (dt.days < daysFromCivil(-4712, 1, 1) || dt.days > daysFromCivil(5_874_897, 12, 31)) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `date out of range: "${text}"`);
  }
  return dt.days;
}

/** time_in: microseconds since midnight; a date or zone in the text is ignored, as PostgreSQL does. */
export function parseTime(text: string): bigint {
  const s = text.trim();
  if (s.toLowerCase() === 'allballs') return 0n;
  const m = TIME_ONLY.exec(s);
  if (m) {
    readZone(text, m[5], m[6]);
    return BigInt(timeOfDay(text, m[1]!, m[2]!, m[3], m[4]));
  }
  const dt = parseDateTime(text, 'time without time zone');
  if (!Number.isFinite(dt.days)) throw invalidSyntax('time without time zone', text);
  return BigInt(dt.micros);
}

/**
 * timestamp_in / timestamptz_in: microseconds since 1970-01-01 00:00 (UTC for timestamptz),
 * ±TIMESTAMP_INFINITY for the infinities. A timestamp without time zone ignores a zone in
 * the text (as PostgreSQL does); a timestamptz without one is read in the session's TimeZone.
 */
export function parseTimestamp(text: string, withZone: boolean, sessionTimeZone: string): bigint {
  const dt = parseDateTime(text, withZone ? 'timestamp with time zone' : 'timestamp without time zone');
  if (dt.days === Infinity) return TIMESTAMP_INFINITY;
  if (dt.days === -Infinity) return -TIMESTAMP_INFINITY;
  // PostgreSQL's lower bound (4713 BC) and DuckDB's upper bound (294247 AD).
  if (dt.days < daysFromCivil(-4712, 1, 1) || dt.days > daysFromCivil(294_246, 12, 31)) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `timestamp out of range: "${text}"`);
  }
  const local = BigInt(dt.days) * USECS_PER_DAY + BigInt(dt.micros);
  if (!withZone) return local;
  if (typeof dt.zone === 'number') return local - BigInt(dt.zone) * 1_000_000n;
  const name = dt.zone ?? sessionTimeZone;
  let zone;
  try {
    zone = zoneFor(name);
  } catch {
    throw new PgError(SqlState.InvalidParameterValue, `time zone "${name}" not recognized`);
  }
  return localMicrosToUtc(local, zone);
}

export interface IntervalInput {
  months: number;
  days: number;
  micros: bigint;
}

const MICROS: Record<string, number> = {
  microsecond: 1, microseconds: 1, usec: 1, usecs: 1, us: 1,
  millisecond: 1e3, milliseconds: 1e3, msec: 1e3, msecs: 1e3, ms: 1e3,
  second: 1e6, seconds: 1e6, sec: 1e6, secs: 1e6, s: 1e6,
  minute: 6e7, minutes: 6e7, min: 6e7, mins: 6e7, m: 6e7,
  hour: 3.6e9, hours: 3.6e9, hr: 3.6e9, hrs: 3.6e9, h: 3.6e9,
};
const DAYS: Record<string, number> = { day: 1, days: 1, d: 1, week: 7, weeks: 7, w: 7 };
const MONTHS: Record<string, number> = {
  month: 1, months: 1, mon: 1, mons: 1,
  year: 12, years: 12, yr: 12, yrs: 12, y: 12,
  decade: 120, decades: 120, dec: 120, decs: 120,
  century: 1200, centuries: 1200, cent: 1200, c: 1200,
  millennium: 12000, millennia: 12000, mil: 12000, mils: 12000,
};

class IntervalSum {
  months = 0;
  days = 0;
  micros = 0;

  add(value: number, unit: string, text: string): void {
    if (unit in MICROS) {
      this.micros += value * MICROS[unit]!;
    } else if (unit in DAYS) {
      const d = value * DAYS[unit]!;
      this.days += Math.trunc(d);
      this.micros += (d - Math.trunc(d)) * 86_400e6;
    } else if (unit in MONTHS) {
      const per = MONTHS[unit]!;
      if (per === 1) {
        // A fractional month is 30 days, and a fractional day 24 hours (PostgreSQL's rule).
        this.months += Math.trunc(value);
        const d = (value - Math.trunc(value)) * 30;
        this.days += Math.trunc(d);
        this.micros += (d - Math.trunc(d)) * 86_400e6;
      } else {
        this.months += Math.round(value * per); // years and longer: whole months
      }
    } else {
      throw invalidSyntax('interval', text);
    }
  }
}

function isoInterval(s: string, text: string): IntervalSum {
  const m = /^p(?:([\d.]+)y)?(?:([\d.]+)m)?(?:([\d.]+)w)?(?:([\d.]+)d)?(?:t(?:([\d.]+)h)?(?:([\d.]+)m)?(?:([\d.]+)s)?)?$/.exec(s);
  if (!m || m.slice(1).every((x) => x === undefined) || s.endsWith('t')) throw invalidSyntax('interval', text);
  const sum = new IntervalSum();
  const units = ['year', 'month', 'week', 'day', 'hour', 'minute', 'second'];
  m.slice(1).forEach((v, i) => {
    if (v === undefined) return;
    if (!/^(\d+\.?\d*|\.\d+)$/.test(v)) throw invalidSyntax('interval', text);
    sum.add(Number(v), units[i]!, text);
  });
  return sum;
}

/**
 * interval_in (IntervalStyle postgres input): `1 year 2 mons 3 days 04:05:06.7`, `@ 1 hour ago`,
 * `-1 days +02:00:00`, `1 12:00:00` (days and a time), a bare number (seconds), and
 * ISO 8601 `P1Y2M3DT4H5M6S`.
 */
export function parseInterval(text: string): IntervalInput {
  const s = text.trim().toLowerCase();
  let sum: IntervalSum;
  if (s.startsWith('p')) {
    sum = isoInterval(s, text);
  } else {
    sum = new IntervalSum();
    const tokens = s.replace(/^@/, '').match(/[+-]?\d+:\d{1,2}(?::\d{1,2}(?:\.\d*)?)?|[+-]?(?:\d+\.?\d*|\.\d+)|[a-z]+|\S/g) ?? [];
    if (tokens.length === 0) throw invalidSyntax('interval', text);
    let pending: number | null = null;
    let ago = false;
    for (const t of tokens) {
      if (/^[+-]?\d+:/.test(t)) {
        if (pending !== null) sum.add(pending, 'day', text);
        pending = null;
        const tm = /^([+-]?)(\d+):(\d{1,2})(?::(\d{1,2})(?:\.(\d*))?)?$/.exec(t)!;
        if (Number(tm[3]) > 59 || Number(tm[4] ?? 0) > 59) throw fieldOverflow(text);
        const micros = (Number(tm[2]) * 3600 + Number(tm[3]) * 60 + Number(tm[4] ?? 0)) * 1e6 + (tm[5] ? Math.round(Number('0.' + tm[5]) * 1e6) : 0);
        sum.micros += tm[1] === '-' ? -micros : micros;
      } else if (/^[+-]?[\d.]/.test(t)) {
        if (pending !== null) throw invalidSyntax('interval', text);
        pending = Number(t);
      } else if (t === 'ago') {
        ago = true;
      } else if (/^[a-z]+$/.test(t) && pending !== null) {
        sum.add(pending, t, text);
        pending = null;
      } else if (t !== ',') {
        throw invalidSyntax('interval', text);
      }
    }
    if (pending !== null) sum.add(pending, 'second', text);
    if (ago) {
      sum.months = 0 - sum.months;
      sum.days = 0 - sum.days;
      sum.micros = 0 - sum.micros;
    }
  }
  const micros = BigInt(Math.round(sum.micros));
  const int32 = (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31;
  if (!int32(sum.months) || !int32(sum.days) || micros > INT64_MAX || micros < -INT64_MAX) {
    throw new PgError(SqlState.DatetimeFieldOverflow, `interval out of range: "${text}"`);
  }
  return { months: sum.months, days: sum.days, micros };
}

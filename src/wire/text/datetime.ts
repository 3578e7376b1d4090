// Dates, times, timestamps and time-zone offsets in PostgreSQL's text form (DateStyle ISO).
import { PAD2, fractionText, pad2 } from './digits.js';

const INT64_MAX = 2n ** 63n - 1n; // DuckDB's +infinity for every timestamp type
const INT64_INF_NEG = -INT64_MAX; // and -infinity
const DATE_INF = 2 ** 31 - 1;
const USECS_PER_DAY = 86_400_000_000;
const USECS_PER_DAY_N = 86_400_000_000n;
/** Days from 1970-01-01 to 0001-01-01: anything earlier is printed with " BC". */
const FIRST_AD_DAY = -719_162;

function yearText(y: number): string {
  return y >= 1000 ? String(y) : y >= 100 ? '0' + y : y >= 10 ? '00' + y : '000' + y;
}

/** 'YYYY-MM-DD' for days since 1970-01-01, proleptic Gregorian, year printed as PostgreSQL does (BC years positive). */
function ymdText(days: number): string {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  let y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y <= 0) y = 1 - y; // astronomical year 0 is 1 BC
  return yearText(y) + '-' + PAD2[m] + '-' + PAD2[d];
}

/** 'HH:MM:SS[.ffffff]' for microseconds since midnight (0 .. 24:00:00). */
export function timeOfDayText(micros: number): string {
  const secs = Math.floor(micros / 1_000_000);
  const h = Math.floor(secs / 3600);
  return pad2(h) + ':' + PAD2[Math.floor(secs / 60) % 60] + ':' + PAD2[secs % 60] + fractionText(micros - secs * 1_000_000);
}

/** Splits microseconds since the epoch into days and microseconds of the day. */
let splitDays = 0;
let splitTime = 0;
function splitMicros(micros: bigint, offsetSeconds: number): void {
  const m = Number(micros);
  const n = m + offsetSeconds * 1_000_000;
  if (Number.isSafeInteger(m) && Number.isSafeInteger(n)) {
    let t = n % USECS_PER_DAY;
    if (t < 0) t += USECS_PER_DAY;
    splitDays = (n - t) / USECS_PER_DAY;
    splitTime = t;
  } else {
    const b = micros + BigInt(offsetSeconds) * 1_000_000n;
    let t = b % USECS_PER_DAY_N;
    if (t < 0n) t += USECS_PER_DAY_N;
    splitDays = Number((b - t) / USECS_PER_DAY_N);
    splitTime = Number(t);
  }
}

export function timestampMicrosText(micros: bigint): string {
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_INF_NEG) return '-infinity';
  splitMicros(micros, 0);
  const days = splitDays;
  return ymdText(days) + ' ' + timeOfDayText(splitTime) + (days < FIRST_AD_DAY ? ' BC' : '');
}

export function dateText(days: number): string {
  if (days === DATE_INF) return 'infinity';
  if (days === -DATE_INF) return '-infinity';
  return days < FIRST_AD_DAY ? ymdText(days) + ' BC' : ymdText(days);
}

const OFFSET_TEXT = new Map<number, string>();
/** PostgreSQL's EncodeTimezone: '+HH', '+HH:MM' or '+HH:MM:SS' for seconds east of UTC. */
export function offsetText(secondsEast: number): string {
  let s = OFFSET_TEXT.get(secondsEast);
  if (s === undefined) {
    const a = Math.abs(secondsEast);
    const h = Math.floor(a / 3600);
    const m = Math.floor(a / 60) % 60;
    const sec = a % 60;
    s = (secondsEast < 0 ? '-' : '+') + pad2(h);
    if (m !== 0 || sec !== 0) s += ':' + PAD2[m];
    if (sec !== 0) s += ':' + PAD2[sec];
    if (OFFSET_TEXT.size < 10_000) OFFSET_TEXT.set(secondsEast, s);
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// Time zones: the offset at an instant comes from Intl (which carries the full tz history,
// including local mean time before standard time). Offsets are cached per zone and hour.

export interface Zone {
  /** Fixed offset in seconds east, or null for a zone with rules. */
  readonly fixed: number | null;
  readonly fmt: Intl.DateTimeFormat | null;
  /** hour since epoch -> offset in that hour, NaN when a transition falls inside it. */
  readonly hours: Map<number, number>;
}

const ZONES = new Map<string, Zone>();
const UTC_NAMES = new Set(['utc', 'gmt', 'etc/utc', 'etc/gmt', 'etc/uct', 'uct', 'z', 'zulu', 'universal', 'etc/universal', 'etc/zulu', 'gmt0', 'etc/gmt0', 'greenwich', 'etc/greenwich']);
const MAX_DATE_MS = 8.64e15;

export function zoneFor(name: string): Zone {
  let zone = ZONES.get(name);
  if (zone) return zone;
  if (UTC_NAMES.has(name.toLowerCase())) {
    zone = { fixed: 0, fmt: null, hours: new Map() };
  } else {
    let fmt: Intl.DateTimeFormat;
    try {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone: name, timeZoneName: 'longOffset' });
    } catch {
      throw new RangeError(`time zone "${name}" is not recognized`);
    }
    zone = { fixed: null, fmt, hours: new Map() };
  }
  ZONES.set(name, zone);
  return zone;
}

/** Whether textEncoderFor accepts this TimeZone setting. */
export function isSupportedTimeZone(name: string): boolean {
  try {
    zoneFor(name);
    return true;
  } catch {
    return false;
  }
}

function intlOffset(fmt: Intl.DateTimeFormat, epochSeconds: number): number {
  const ms = Math.max(-MAX_DATE_MS, Math.min(MAX_DATE_MS, epochSeconds * 1000));
  const parts = fmt.formatToParts(ms);
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    if (p.type !== 'timeZoneName') continue;
    const v = p.value; // 'GMT', 'GMT+05:30', 'GMT-04:56:02' (the minus may be U+2212)
    if (v.length <= 3) return 0;
    const sign = v.charCodeAt(3) === 43 ? 1 : -1;
    const h = Number(v.slice(4, 6));
    const m = v.length >= 9 ? Number(v.slice(7, 9)) : 0;
    const s = v.length >= 12 ? Number(v.slice(10, 12)) : 0;
    return sign * (h * 3600 + m * 60 + s);
  }
  return 0;
}

function zoneOffset(zone: Zone, epochSeconds: number): number {
  if (zone.fixed !== null) return zone.fixed;
  const fmt = zone.fmt!;
  const hour = Math.floor(epochSeconds / 3600);
  let off = zone.hours.get(hour);
  if (off === undefined) {
    const a = intlOffset(fmt, hour * 3600);
    const b = intlOffset(fmt, hour * 3600 + 3599);
    off = a === b ? a : NaN;
    if (zone.hours.size >= 100_000) zone.hours.clear();
    zone.hours.set(hour, off);
  }
  return off === off ? off : intlOffset(fmt, epochSeconds);
}

export function timestampTZText(micros: bigint, zone: Zone): string {
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_INF_NEG) return '-infinity';
  const off = zone.fixed ?? zoneOffset(zone, Math.floor(Number(micros) / 1_000_000));
  splitMicros(micros, off);
  const days = splitDays;
  return ymdText(days) + ' ' + timeOfDayText(splitTime) + offsetText(off) + (days < FIRST_AD_DAY ? ' BC' : '');
}

// TIMESTAMP_S, TIMESTAMP_MS and TIMESTAMP_NS to microseconds; the infinities stay as they are.
export function secondsToMicros(s: bigint): bigint {
  return s === INT64_MAX || s === INT64_INF_NEG ? s : s * 1_000_000n;
}
export function millisToMicros(ms: bigint): bigint {
  return ms === INT64_MAX || ms === INT64_INF_NEG ? ms : ms * 1000n;
}
export function nanosToMicros(ns: bigint): bigint {
  if (ns === INT64_MAX || ns === INT64_INF_NEG) return ns;
  const q = ns / 1000n;
  return ns < 0n && q * 1000n !== ns ? q - 1n : q; // floor, so the date never moves forward
}

/**
 * Microseconds since the epoch (UTC) of a wall-clock time in a zone, resolved as
 * PostgreSQL does: a time that falls in a gap (clocks jump forward) takes the offset from
 * before the jump; an ambiguous time (clocks go back) takes the offset from after it.
 */
export function localMicrosToUtc(local: bigint, zone: Zone): bigint {
  if (zone.fixed !== null) return local - BigInt(zone.fixed) * 1_000_000n;
  const seconds = Math.floor(Number(local) / 1_000_000);
  const early = zoneOffset(zone, seconds - 86_400);
  const late = zoneOffset(zone, seconds + 86_400);
  const lateFits = zoneOffset(zone, seconds - late) === late;
  return local - BigInt(lateFits ? late : early) * 1_000_000n;
}

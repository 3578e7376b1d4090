// DuckDB values -> the exact text PostgreSQL prints for the same value (the text result
// format of the wire protocol, DateStyle ISO, IntervalStyle postgres).
//
// textEncoderFor() is called once per result column and does all per-type work up front;
// the encoder it returns runs once per value and is the hot path of every query.
import {
  DuckDBArrayValue,
  DuckDBBitValue,
  DuckDBBlobValue,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBGeometryValue,
  DuckDBIntervalValue,
  DuckDBListValue,
  DuckDBMapValue,
  DuckDBStructValue,
  DuckDBTimeNSValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTimeTZValue,
  DuckDBTimeValue,
  DuckDBTypeId,
  DuckDBUnionValue,
  DuckDBUUIDValue,
  DuckDBVariantValue,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';

export interface TextFormatSettings {
  /** Session TimeZone: 'UTC' or an IANA zone name. */
  timeZone: string;
  /** Session extra_float_digits (PostgreSQL: -15..3, default 1). */
  extraFloatDigits: number;
}

/** Encodes one non-null value. SQL NULL is the caller's business. */
export type TextEncoder = (value: DuckDBValue) => string;

// ---------------------------------------------------------------------------------------
// Small helpers

const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);
const ZEROS = '0'.repeat(120);
const INT64_MAX = 2n ** 63n - 1n; // DuckDB's +infinity for every timestamp type
const INT64_INF_NEG = -INT64_MAX; // and -infinity
const DATE_INF = 2 ** 31 - 1;
const USECS_PER_DAY = 86_400_000_000;
const USECS_PER_DAY_N = 86_400_000_000n;
/** Days from 1970-01-01 to 0001-01-01: anything earlier is printed with " BC". */
const FIRST_AD_DAY = -719_162;

function pad2(n: number): string {
  return n < 100 ? PAD2[n]! : String(n);
}

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

/** '.ffffff' without trailing zeros, or '' for 0. */
function fractionText(micros: number): string {
  if (micros === 0) return '';
  const s = String(micros + 1_000_000);
  let end = 7;
  while (s.charCodeAt(end - 1) === 48) end--;
  return '.' + s.slice(1, end);
}

/** 'HH:MM:SS[.ffffff]' for microseconds since midnight (0 .. 24:00:00). */
function timeOfDayText(micros: number): string {
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

function timestampMicrosText(micros: bigint): string {
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_INF_NEG) return '-infinity';
  splitMicros(micros, 0);
  const days = splitDays;
  return ymdText(days) + ' ' + timeOfDayText(splitTime) + (days < FIRST_AD_DAY ? ' BC' : '');
}

function dateText(days: number): string {
  if (days === DATE_INF) return 'infinity';
  if (days === -DATE_INF) return '-infinity';
  return days < FIRST_AD_DAY ? ymdText(days) + ' BC' : ymdText(days);
}

const OFFSET_TEXT = new Map<number, string>();
/** PostgreSQL's EncodeTimezone: '+HH', '+HH:MM' or '+HH:MM:SS' for seconds east of UTC. */
function offsetText(secondsEast: number): string {
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

interface Zone {
  /** Fixed offset in seconds east, or null for a zone with rules. */
  readonly fixed: number | null;
  readonly fmt: Intl.DateTimeFormat | null;
  /** hour since epoch -> offset in that hour, NaN when a transition falls inside it. */
  readonly hours: Map<number, number>;
}

const ZONES = new Map<string, Zone>();
const UTC_NAMES = new Set(['utc', 'gmt', 'etc/utc', 'etc/gmt', 'etc/uct', 'uct', 'z', 'zulu', 'universal', 'etc/universal', 'etc/zulu', 'gmt0', 'etc/gmt0', 'greenwich', 'etc/greenwich']);
const MAX_DATE_MS = 8.64e15;

function zoneFor(name: string): Zone {
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

function timestampTZText(micros: bigint, zone: Zone): string {
  if (micros === INT64_MAX) return 'infinity';
  if (micros === INT64_INF_NEG) return '-infinity';
  const off = zone.fixed ?? zoneOffset(zone, Math.floor(Number(micros) / 1_000_000));
  splitMicros(micros, off);
  const days = splitDays;
  return ymdText(days) + ' ' + timeOfDayText(splitTime) + offsetText(off) + (days < FIRST_AD_DAY ? ' BC' : '');
}

// ---------------------------------------------------------------------------------------
// Numbers

/** PostgreSQL's '%.Ng'-style exponent: at least two digits. Input is JS toExponential() output. */
function pgExponential(s: string): string {
  const e = s.indexOf('e');
  return s.length - e - 2 < 2 ? s.slice(0, e + 2) + '0' + s.slice(e + 2) : s;
}

/** Fixed notation from significant digits D (d.ddd × 10^exp). */
function fixedFromDigits(neg: boolean, digits: string, exp: number): string {
  const n = digits.length;
  let out: string;
  if (exp < 0) out = '0.' + ZEROS.slice(0, -exp - 1) + digits;
  else if (n <= exp + 1) out = digits + ZEROS.slice(0, exp + 1 - n);
  else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return neg ? '-' + out : out;
}

/** Shortest-round-trip output with PostgreSQL's layout: fixed for exponents in [-4, fixedLimit). */
function shortestLayout(expForm: string, fixedLimit: number): string {
  const e = expForm.indexOf('e');
  const exp = Number(expForm.slice(e + 1));
  if (exp >= -4 && exp < fixedLimit) {
    const neg = expForm.charCodeAt(0) === 45;
    const mant = expForm.slice(neg ? 1 : 0, e);
    const digits = mant.length > 1 ? mant[0] + mant.slice(2) : mant;
    return fixedFromDigits(neg, digits, exp);
  }
  return pgExponential(expForm);
}

function nonFinite(x: number): string | undefined {
  if (x !== x) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  return undefined;
}

// PostgreSQL (12+) prints floats with Ryu: the shortest decimal strictly inside the
// interval of values that read back as the same float (an exact midpoint is never used),
// and of those the closest, ties to even. JavaScript's shortest output for doubles may use
// an exact midpoint, which only matters from 1e15 up; those doubles take an exact BigInt
// path. float4 needs its own search (fast exact double arithmetic for 1e-2..1e14, string
// candidates elsewhere, BigInt when a candidate is ambiguous).

const POW10: bigint[] = [1n];
function pow10(n: number): bigint {
  while (POW10.length <= n) POW10.push(POW10[POW10.length - 1]! * 10n);
  return POW10[n]!;
}

/**
 * Exact Ryu-equivalent shortest digits for the positive binary float m·2^e, as JS
 * exponential text ('d.ddde+X'). `lowerHalf`: the gap below is half the gap above (x is a
 * power of two). Decimal unit exponents are tried from `t0` (at least as coarse as the
 * answer) down to `tMin` (at least as fine).
 */
function exactShortest(m: bigint, e: number, lowerHalf: boolean, t0: number, tMin: number): string {
  const a = Math.max(0, 2 - e);
  const b = Math.max(0, -tMin);
  const scale10 = pow10(b);
  const x = (m << BigInt(e + a)) * scale10;
  const hu = (1n << BigInt(e - 1 + a)) * scale10;
  const hd = lowerHalf ? hu >> 1n : hu;
  for (let t = t0; t + b >= 0; t--) {
    const u = pow10(t + b) << BigInt(a);
    let q = x / u;
    const r2 = (x - q * u) * 2n;
    if (r2 > u || (r2 === u && (q & 1n) === 1n)) q += 1n;
    const c = q * u;
    let ok = c >= x ? c - x < hu : x - c < hd;
    if (!ok && c < x && c + u - x < hu) {
      q += 1n;
      ok = true;
    }
    if (ok && q > 0n) {
      let digits = q.toString();
      let end = digits.length;
      while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
      const exp = t + digits.length - 1;
      digits = digits.slice(0, end);
      return (digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits) + (exp < 0 ? 'e' : 'e+') + exp;
    }
  }
  return '0e+0'; // not reached for a positive finite input
}

function expOf(expForm: string): number {
  return Number(expForm.slice(expForm.indexOf('e') + 1));
}

function mantissaDigits(expForm: string): number {
  const e = expForm.indexOf('e');
  return e > 1 ? e - 1 : 1; // 'd.ddd' has e - 1 digits, 'd' has 1
}

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** float8 with extra_float_digits > 0. */
export function float8ShortestText(x: number): string {
  const a = x < 0 ? -x : x;
  // JS prints this range in fixed notation with the same digits as Ryu: below 1e15 an exact
  // midpoint is never among the shortest candidates, and JS breaks ties to even as Ryu does.
  if (a >= 1e-4 && a < 1e15) return String(x);
  const special = nonFinite(x);
  if (special !== undefined) return special;
  if (a < 1e-4) return pgExponential(x.toExponential());
  F64[0] = a;
  const bits = U64[0]!;
  const expField = Number(bits >> 52n);
  const frac = bits & 0xfffffffffffffn;
  const js = a.toExponential();
  const text = exactShortest(frac | (1n << 52n), expField - 1075, frac === 0n && expField > 1, expOf(js) - mantissaDigits(js) + 1, expOf(js) - 17);
  return pgExponential(x < 0 ? '-' + text : text);
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float4 with extra_float_digits > 0. */
export function float4ShortestText(x: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  if (Number.isInteger(x) && x < 1e6 && x > -1e6) return String(x);
  const a = x < 0 ? -x : x;
  const text = shortestFloat32(a);
  return shortestLayout(x < 0 ? '-' + text : text, 6);
}

const POW10_NUM: readonly number[] = Array.from({ length: 11 }, (_, i) => 10 ** i);

const POW10_EXACT: readonly number[] = Array.from({ length: 23 }, (_, i) => 10 ** i); // exact doubles

/**
 * The float32 shortest digits for 1e-2 <= a < 1e14 in exact double arithmetic, as JS
 * exponential text; undefined outside that range. a = m·2^e with m < 2^24, so a·10^s
 * (s <= 12) and a mod 10^k are exact doubles, and so is every comparison below.
 */
function shortestFloat32Fast(a: number, e: number, lowerHalf: boolean): string | undefined {
  const exp10 = Math.floor(Math.log10(a)); // may be off by one: the search range allows for it
  if (exp10 < -2 || exp10 > 13) return undefined;
  const hu = 2 ** (e - 1); // half the gap above
  const hd = lowerHalf ? hu / 2 : hu; // half the gap below
  let lo = -(exp10 + 2);
  let hi = 10 - exp10;
  let bestQ = -1;
  let bestS = 0;
  while (lo <= hi) {
    // the coarsest unit 10^-s whose nearest multiple (ties to even) is strictly inside
    const s = (lo + hi) >> 1;
    let q = -1;
    if (s >= 0) {
      const scale = POW10_EXACT[s]!;
      const y = a * scale;
      const fl = Math.floor(y);
      const f = y - fl;
      if (f > 0.5 || (f === 0.5 && fl % 2 === 1)) {
        if (1 - f < hu * scale) q = fl + 1;
      } else if (f < hd * scale) q = fl;
      else if (lowerHalf && 1 - f < hu * scale) q = fl + 1;
    } else {
      const unit = POW10_EXACT[-s]!;
      const r = a % unit;
      const fl = (a - r) / unit;
      if (2 * r > unit || (2 * r === unit && fl % 2 === 1)) {
        if (unit < r + hu) q = fl + 1;
      } else if (r < hd) q = fl;
      else if (lowerHalf && unit < r + hu) q = fl + 1;
    }
    if (q > 0) {
      bestQ = q;
      bestS = s;
      hi = s - 1;
    } else lo = s + 1;
  }
  if (bestQ < 0) return undefined;
  let digits = String(bestQ);
  const exp = digits.length - 1 - bestS;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  return (digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits) + (exp < 0 ? 'e' : 'e+') + exp;
}

/** Shortest digits for a positive float32 (as JS exponential text), as PostgreSQL picks them. */
function shortestFloat32(a: number): string {
  F32[0] = a;
  const bits = U32[0]!;
  const expField = bits >>> 23;
  const frac = bits & 0x7fffff;
  const e = (expField === 0 ? 1 : expField) - 150;
  const exact = (): string => {
    const top = Math.floor(Math.log10(a)) + 2;
    return exactShortest(BigInt(expField === 0 ? frac : frac | 0x800000), e, frac === 0 && expField > 1, top, top - 12);
  };
  const fast = expField === 0 ? undefined : shortestFloat32Fast(a, e, frac === 0 && expField > 1);
  if (fast !== undefined) return fast;
  // A power of two has a narrower interval below than above: rare, done exactly.
  if (frac === 0 && expField > 1) return exact();
  // The interval's bounds are exact doubles, so a candidate parsed as a double can be
  // compared with them; only a candidate that lands exactly on a bound is ambiguous.
  const halfUlp = 2 ** (e - 1);
  const lo = a - halfUlp;
  const hi = a + halfUlp;
  // p-digit candidates are rounded from ten correctly rounded digits, except when the
  // dropped digits are exactly 50..0: then x may sit exactly halfway (a tie, which Ryu
  // breaks to even: done exactly) or the rounding direction is unknown (ask toExponential).
  const s10 = a.toExponential(9);
  const ePos = s10.indexOf('e');
  const d10 = Number(s10[0]! + s10.slice(2, ePos));
  const exp10 = Number(s10.slice(ePos + 1));
  let bestQ = 0;
  let bestK = 0;
  let low = 1;
  let high = 9; // nine digits always identify a float32
  let p = 9;
  for (;;) {
    // candidate with p digits: q × 10^k
    const div = POW10_NUM[10 - p]!;
    let q = Math.floor(d10 / div);
    const r = d10 - q * div;
    let k = exp10 - p + 1;
    if (r * 2 === div) {
      if (Number(s10) === a) return exact();
      const c = a.toExponential(p - 1);
      const ce = c.indexOf('e');
      q = Number(c[0]! + c.slice(2, ce));
      k = Number(c.slice(ce + 1)) - p + 1;
    } else if (r * 2 > div) q += 1;
    const v = Number(q + 'e' + k);
    if (v === lo || v === hi) return exact();
    const inside = v > lo && v < hi;
    if (p === 9 && bestQ === 0) {
      bestQ = q;
      bestK = k;
    }
    if (inside) {
      high = p;
      bestQ = q;
      bestK = k;
    } else low = p + 1;
    if (low >= high) break;
    p = (low + high) >> 1;
  }
  let digits = String(bestQ);
  const exp = bestK + digits.length - 1;
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  digits = digits.slice(0, end);
  return (digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits) + (exp < 0 ? 'e' : 'e+') + exp;
}

/** C's printf('%.{precision}g', x) as glibc prints it (exact value, round half to even). */
export function printfG(x: number, precision: number): string {
  const special = nonFinite(x);
  if (special !== undefined) return special;
  const P = Math.max(1, Math.min(precision, 17));
  const neg = x < 0;
  const long = (neg ? -x : x).toExponential(P + 24); // enough digits to see the exact tail
  const e = long.indexOf('e');
  let exp = Number(long.slice(e + 1));
  const all = long[0] + long.slice(2, e);
  let head = all.slice(0, P);
  const next = all.charCodeAt(P) - 48;
  let roundUp = next > 5;
  if (next === 5) {
    let tailZero = true;
    for (let i = P + 1; i < all.length; i++) if (all.charCodeAt(i) !== 48) { tailZero = false; break; }
    roundUp = !tailZero || (head.charCodeAt(P - 1) - 48) % 2 === 1;
  }
  if (roundUp) {
    const bumped = (BigInt(head) + 1n).toString();
    if (bumped.length > P) {
      head = bumped.slice(0, P);
      exp += 1;
    } else head = bumped;
  }
  if (exp < -4 || exp >= P) {
    let end = P;
    while (end > 1 && head.charCodeAt(end - 1) === 48) end--;
    const mant = end > 1 ? head[0] + '.' + head.slice(1, end) : head[0]!;
    const ae = Math.abs(exp);
    return (neg ? '-' : '') + mant + 'e' + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' + ae : String(ae));
  }
  let end = P;
  while (end > exp + 1 && end > 1 && head.charCodeAt(end - 1) === 48) end--;
  return fixedFromDigits(neg, head.slice(0, end), exp);
}

/** numeric text of an unscaled integer and a scale: trailing zeros kept to the scale. */
export function decimalText(unscaled: bigint, scale: number): string {
  if (scale <= 0) return String(unscaled);
  const neg = unscaled < 0n;
  let s = String(neg ? -unscaled : unscaled);
  if (s.length <= scale) s = ZEROS.slice(0, scale - s.length + 1) + s;
  const cut = s.length - scale;
  return (neg ? '-' : '') + s.slice(0, cut) + '.' + s.slice(cut);
}

// ---------------------------------------------------------------------------------------
// Other scalars

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

function hexLower(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('hex');
}

export function byteaText(bytes: Uint8Array): string {
  return '\\x' + hexLower(bytes);
}

/** varbit text: DuckDB stores the count of padding bits in byte 0, then the bits MSB first. */
function bitText(data: Uint8Array): string {
  if (data.length < 2) return '';
  let out = BYTE_BITS[data[1]!]!.slice(data[0]!);
  for (let i = 2; i < data.length; i++) out += BYTE_BITS[data[i]!];
  return out;
}

const UUID_FLIP = 1n << 127n;
const U128_MASK = (1n << 128n) - 1n;
function uuidText(v: DuckDBUUIDValue): string {
  const h = ((v.hugeint ^ UUID_FLIP) & U128_MASK).toString(16).padStart(32, '0');
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
}

// ---------------------------------------------------------------------------------------
// Quoting inside arrays and records

// array_out: quote when empty, equal to NULL (any case), or containing { } , " \ or ASCII space.
const ARRAY_NEEDS_QUOTES = /[{}",\\ \t\n\r\v\f]/;
const ARRAY_ESCAPE = /["\\]/g;
export function quoteArrayElement(t: string): string {
  if (t.length === 0) return '""';
  if (ARRAY_NEEDS_QUOTES.test(t) || (t.length === 4 && (t === 'NULL' || t.toUpperCase() === 'NULL'))) {
    return '"' + t.replace(ARRAY_ESCAPE, '\\$&') + '"';
  }
  return t;
}

// record_out: quote when empty or containing ( ) , " \ or ASCII space; double " and \ inside.
const RECORD_NEEDS_QUOTES = /[(),"\\ \t\n\r\v\f]/;
export function quoteRecordField(t: string): string {
  if (t.length === 0) return '""';
  if (RECORD_NEEDS_QUOTES.test(t)) return '"' + t.replace(ARRAY_ESCAPE, '$&$&') + '"';
  return t;
}

/** Types whose text can never need quoting inside an array or a record. */
function neverNeedsQuotes(type: DuckDBType): boolean {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.BIT:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// Encoders

interface Ctx {
  readonly zone: Zone;
  readonly float8: (x: number) => string;
  readonly float4: (x: number) => string;
}

function makeCtx(settings: TextFormatSettings): Ctx {
  const requested = Number.isFinite(settings.extraFloatDigits) ? Math.trunc(settings.extraFloatDigits) : 1;
  const efd = Math.max(-15, Math.min(3, requested));
  const p8 = 15 + efd;
  const p4 = Math.max(1, 6 + efd);
  return {
    zone: zoneFor(settings.timeZone),
    float8: efd > 0 ? float8ShortestText : (x) => printfG(x, p8),
    float4: efd > 0 ? float4ShortestText : (x) => printfG(x, p4),
  };
}

/**
 * The encoder for one result column. Throws RangeError for an unknown TimeZone.
 *
 * Types without a PostgreSQL counterpart are sent as text (see pgFieldTypeFor):
 * - MAP: DuckDB's own layout `{key=value, key2=value2}`, keys and values in their
 *   PostgreSQL text form, NULL as `NULL`, nothing quoted. It reads the way DuckDB users
 *   expect and stays close to what DuckDB's own VARCHAR cast prints.
 * - UNION: the text of the member that is set (as DuckDB's VARCHAR cast does).
 * - VARIANT: the text of the value inside, by its runtime type (`null` for a JSON-style null).
 * - GEOMETRY: the WKB as upper-case hex, as PostGIS prints a geometry.
 * TIMESTAMP_NS and TIME_NS are truncated to microseconds, PostgreSQL's precision.
 */
export function textEncoderFor(type: DuckDBType, settings: TextFormatSettings): TextEncoder {
  return build(type, makeCtx(settings));
}

function build(type: DuckDBType, ctx: Ctx): TextEncoder {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return (v) => (v ? 't' : 'f');
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
    case DuckDBTypeId.INTEGER_LITERAL:
      return (v) => String(v);
    case DuckDBTypeId.FLOAT:
      return ctx.float4 as TextEncoder;
    case DuckDBTypeId.DOUBLE:
      return ctx.float8 as TextEncoder;
    case DuckDBTypeId.DECIMAL: {
      const scale = type.scale;
      return (v) => decimalText((v as DuckDBDecimalValue).value, scale);
    }
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.STRING_LITERAL:
      return (v) => v as string;
    case DuckDBTypeId.BLOB:
      return (v) => '\\x' + hexLower((v as DuckDBBlobValue).bytes);
    case DuckDBTypeId.DATE:
      return (v) => dateText((v as DuckDBDateValue).days);
    case DuckDBTypeId.TIME:
      return (v) => timeOfDayText(Number((v as DuckDBTimeValue).micros));
    case DuckDBTypeId.TIME_NS:
      return (v) => timeOfDayText(Number((v as DuckDBTimeNSValue).nanos / 1000n));
    case DuckDBTypeId.TIME_TZ:
      return (v) => timeOfDayText(Number((v as DuckDBTimeTZValue).micros)) + offsetText((v as DuckDBTimeTZValue).offset);
    case DuckDBTypeId.TIMESTAMP:
      return (v) => timestampMicrosText((v as DuckDBTimestampValue).micros);
    case DuckDBTypeId.TIMESTAMP_S:
      return (v) => timestampMicrosText(secondsToMicros((v as DuckDBTimestampSecondsValue).seconds));
    case DuckDBTypeId.TIMESTAMP_MS:
      return (v) => timestampMicrosText(millisToMicros((v as DuckDBTimestampMillisecondsValue).millis));
    case DuckDBTypeId.TIMESTAMP_NS:
      return (v) => timestampMicrosText(nanosToMicros((v as DuckDBTimestampNanosecondsValue).nanos));
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const zone = ctx.zone;
      return (v) => timestampTZText((v as DuckDBTimestampTZValue).micros, zone);
    }
    case DuckDBTypeId.INTERVAL:
      return (v) => {
        const i = v as DuckDBIntervalValue;
        return intervalText(i.months, i.days, i.micros);
      };
    case DuckDBTypeId.UUID:
      return (v) => uuidText(v as DuckDBUUIDValue);
    case DuckDBTypeId.BIT:
      return (v) => bitText((v as DuckDBBitValue).data);
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return arrayEncoder(type.valueType, ctx);
    case DuckDBTypeId.STRUCT:
      return structEncoder(type.entryNames, type.entryTypes, ctx);
    case DuckDBTypeId.MAP: {
      const key = build(type.keyType, ctx);
      const val = build(type.valueType, ctx);
      return (v) => mapText(v as DuckDBMapValue, key, val);
    }
    case DuckDBTypeId.UNION: {
      const members: Record<string, TextEncoder> = Object.create(null);
      type.memberTags.forEach((tag, i) => (members[tag] = build(type.memberTypes[i]!, ctx)));
      return (v) => {
        const u = v as DuckDBUnionValue;
        if (u.value === null) return 'NULL';
        const enc = members[u.tag];
        return enc ? enc(u.value) : dynamicText(u.value, ctx);
      };
    }
    case DuckDBTypeId.GEOMETRY:
      return (v) => geometryText(v as DuckDBGeometryValue);
    default:
      // VARIANT, SQLNULL, ANY, INVALID: by the value's runtime type.
      return (v) => dynamicText(v, ctx);
  }
}

function secondsToMicros(s: bigint): bigint {
  return s === INT64_MAX || s === INT64_INF_NEG ? s : s * 1_000_000n;
}
function millisToMicros(ms: bigint): bigint {
  return ms === INT64_MAX || ms === INT64_INF_NEG ? ms : ms * 1000n;
}
function nanosToMicros(ns: bigint): bigint {
  if (ns === INT64_MAX || ns === INT64_INF_NEG) return ns;
  const q = ns / 1000n;
  return ns < 0n && q * 1000n !== ns ? q - 1n : q; // floor, so the date never moves forward
}

function geometryText(g: DuckDBGeometryValue): string {
  let out = '';
  for (const b of g.bytes) out += HEX_UPPER[b];
  return out;
}

function mapText(m: DuckDBMapValue, key: TextEncoder, val: TextEncoder): string {
  let out = '{';
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (i > 0) out += ', ';
    out += (e.key === null ? 'NULL' : key(e.key)) + '=' + (e.value === null ? 'NULL' : val(e.value));
  }
  return out + '}';
}

function isListType(t: DuckDBType): boolean {
  return t.typeId === DuckDBTypeId.LIST || t.typeId === DuckDBTypeId.ARRAY;
}

/**
 * LIST/ARRAY -> PostgreSQL array text. A list of lists is written as a multi-dimensional
 * array, `{{1,2},{3,4}}`; PostgreSQL only allows rectangular ones, so a ragged DuckDB list
 * comes out as the same nesting of braces, which PostgreSQL itself would not produce.
 */
function arrayEncoder(elementType: DuckDBType, ctx: Ctx): TextEncoder {
  const nested = isListType(elementType);
  const elem = build(elementType, ctx);
  const quote = !nested && !neverNeedsQuotes(elementType);
  return (v) => {
    const items = (v as DuckDBListValue | DuckDBArrayValue).items;
    const n = items.length;
    if (n === 0) return '{}';
    let out = '{';
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      const it = items[i];
      if (it === null || it === undefined) out += 'NULL';
      else out += quote ? quoteArrayElement(elem(it)) : elem(it);
    }
    return out + '}';
  };
}

/** STRUCT -> PostgreSQL record text `(1,abc)`: NULL fields are empty. */
function structEncoder(names: readonly string[], types: readonly DuckDBType[], ctx: Ctx): TextEncoder {
  const encs = types.map((t) => build(t, ctx));
  const quote = types.map((t) => !neverNeedsQuotes(t));
  const n = names.length;
  return (v) => {
    const entries = (v as DuckDBStructValue).entries;
    let out = '(';
    for (let i = 0; i < n; i++) {
      if (i > 0) out += ',';
      const x = entries[names[i]!];
      if (x === null || x === undefined) continue;
      const t = encs[i]!(x);
      out += quote[i] ? quoteRecordField(t) : t;
    }
    return out + ')';
  };
}

/** Text of a value known only at run time (VARIANT contents, unusual types). */
function dynamicText(v: DuckDBValue, ctx: Ctx): string {
  switch (typeof v) {
    case 'boolean':
      return v ? 't' : 'f';
    case 'number':
      return Number.isInteger(v) && !Object.is(v, -0) ? String(v) : ctx.float8(v);
    case 'bigint':
      return String(v);
    case 'string':
      return v;
  }
  if (v === null) return 'NULL';
  if (v instanceof DuckDBVariantValue) {
    if (v.value === null) return 'null';
    if (v.type) return build(v.type, ctx)(v.value);
    return dynamicText(v.value, ctx);
  }
  if (v instanceof DuckDBListValue || v instanceof DuckDBArrayValue) {
    let out = '{';
    v.items.forEach((it, i) => {
      if (i > 0) out += ',';
      if (it === null) out += 'NULL';
      else if (it instanceof DuckDBListValue || it instanceof DuckDBArrayValue) out += dynamicText(it, ctx);
      else out += quoteArrayElement(dynamicText(it, ctx));
    });
    return out + '}';
  }
  if (v instanceof DuckDBStructValue) {
    let out = '(';
    let first = true;
    for (const key of Object.keys(v.entries)) {
      if (!first) out += ',';
      first = false;
      const x = v.entries[key];
      if (x !== null && x !== undefined) out += quoteRecordField(dynamicText(x, ctx));
    }
    return out + ')';
  }
  if (v instanceof DuckDBMapValue) {
    const any: TextEncoder = (x) => dynamicText(x, ctx);
    return mapText(v, any, any);
  }
  if (v instanceof DuckDBDecimalValue) return decimalText(v.value, v.scale);
  if (v instanceof DuckDBDateValue) return dateText(v.days);
  if (v instanceof DuckDBTimestampTZValue) return timestampTZText(v.micros, ctx.zone);
  if (v instanceof DuckDBTimestampValue) return timestampMicrosText(v.micros);
  if (v instanceof DuckDBTimestampSecondsValue) return timestampMicrosText(secondsToMicros(v.seconds));
  if (v instanceof DuckDBTimestampMillisecondsValue) return timestampMicrosText(millisToMicros(v.millis));
  if (v instanceof DuckDBTimestampNanosecondsValue) return timestampMicrosText(nanosToMicros(v.nanos));
  if (v instanceof DuckDBTimeTZValue) return timeOfDayText(Number(v.micros)) + offsetText(v.offset);
  if (v instanceof DuckDBTimeValue) return timeOfDayText(Number(v.micros));
  if (v instanceof DuckDBTimeNSValue) return timeOfDayText(Number(v.nanos / 1000n));
  if (v instanceof DuckDBIntervalValue) return intervalText(v.months, v.days, v.micros);
  if (v instanceof DuckDBBlobValue) return byteaText(v.bytes);
  if (v instanceof DuckDBUUIDValue) return uuidText(v);
  if (v instanceof DuckDBBitValue) return bitText(v.data);
  if (v instanceof DuckDBUnionValue) return v.value === null ? 'NULL' : dynamicText(v.value, ctx);
  if (v instanceof DuckDBGeometryValue) return geometryText(v);
  return String(v);
}

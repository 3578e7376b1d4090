// float4 and float8 in PostgreSQL's text form: the shortest round-trip digits (Ryu) when
// extra_float_digits > 0, C's printf %g otherwise.
import { ZEROS } from './digits.js';

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

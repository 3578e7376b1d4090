// Zero-padded digit text shared by the date/time and interval encoders, and a run of
// zeros for padding decimal digits.

export const PAD2: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? '0' : '') + i);
export const ZEROS = '0'.repeat(120);

export function pad2(n: number): string {
  return n < 100 ? PAD2[n]! : String(n);
}

/** '.ffffff' without trailing zeros, or '' for 0. */
export function fractionText(micros: number): string {
  if (micros === 0) return '';
  const s = String(micros + 1_000_000);
  let end = 7;
  while (s.charCodeAt(end - 1) === 48) end--;
  return '.' + s.slice(1, end);
}

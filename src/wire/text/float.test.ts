import { describe, expect, it } from 'vitest';
import { float4ShortestText, printfG } from './float.js';

describe('floats', () => {
  it('reads back as the same float4, in at most nine digits', () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (let i = 1; i < 20000; i++) {
      u[0] = Math.imul(i, 2654435761) >>> 0;
      const x = f[0]!;
      if (!Number.isFinite(x)) continue;
      const text = float4ShortestText(x);
      expect(Math.fround(Number(text))).toBe(x);
      expect(text.replace(/^-|e.*$|\./g, '').replace(/^0+/, '').length).toBeLessThanOrEqual(9);
    }
  });

  it('rounds as printf %g does', () => {
    expect(printfG(0.1, 15)).toBe('0.1');
    expect(printfG(1 / 3, 15)).toBe('0.333333333333333');
    expect(printfG(1e16, 15)).toBe('1e+16');
    expect(printfG(123456.7, 6)).toBe('123457');
    expect(printfG(2.5, 1)).toBe('2'); // exact tie: half to even
    expect(printfG(3.5, 1)).toBe('4');
    expect(printfG(0.125, 2)).toBe('0.12');
    expect(printfG(1234567890123465, 15)).toBe('1.23456789012346e+15');
    expect(printfG(9.9999999, 3)).toBe('10');
    expect(printfG(0.000123456, 3)).toBe('0.000123');
    expect(printfG(0.0000123456, 3)).toBe('1.23e-05');
  });
});

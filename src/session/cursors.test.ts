import { describe, expect, it } from 'vitest';
import { planFetch } from './cursors.js';

const at = (position: number, atEnd = false) => ({ position, atEnd });
const backward = { code: '55000', message: 'cursor can only scan forward' };

describe('planFetch: where a forward-only cursor goes', () => {
  it('goes forward by a count, or to the end', () => {
    expect(planFetch(at(0), { kind: 'forward', count: 5 }, false)).toEqual({ skip: 0, take: 5 });
    expect(planFetch(at(3), { kind: 'forward', count: 'ALL' }, false)).toEqual({ skip: 0, take: 0 });
  });

  it('reaches a later row by ABSOLUTE or RELATIVE, skipping the rows before it', () => {
    expect(planFetch(at(0), { kind: 'absolute', position: 1 }, false)).toEqual({ skip: 0, take: 1 });
    expect(planFetch(at(7), { kind: 'absolute', position: 20 }, false)).toEqual({ skip: 12, take: 1 });
    expect(planFetch(at(7), { kind: 'relative', offset: 3 }, true)).toEqual({ skip: 2, take: 1 });
    // Past the end nothing is read, and nothing is refused.
    expect(planFetch(at(10, true), { kind: 'absolute', position: 50 }, false)).toEqual({ skip: 0, take: 1 });
  });

  it('reads nothing for a count of 0 off a row; MOVE 0 on a row says 1, FETCH 0 on a row would go back', () => {
    expect(planFetch(at(0), { kind: 'forward', count: 0 }, false)).toEqual({ zero: true, onRow: false });
    expect(planFetch(at(4, true), { kind: 'relative', offset: 0 }, false)).toEqual({ zero: true, onRow: false });
    expect(planFetch(at(4), { kind: 'forward', count: 0 }, true)).toEqual({ zero: true, onRow: true });
    expect(() => planFetch(at(4), { kind: 'forward', count: 0 }, false)).toThrow(expect.objectContaining(backward));
    expect(planFetch(at(0), { kind: 'absolute', position: 0 }, false)).toEqual({ zero: true, onRow: false });
  });

  it('refuses every move backward with 55000, as PostgreSQL does for NO SCROLL cursors', () => {
    for (const dir of [
      { kind: 'backward', count: 1 },
      { kind: 'backward', count: 'ALL' },
      { kind: 'relative', offset: -1 },
      { kind: 'absolute', position: -1 },
      { kind: 'absolute', position: 3 },
      { kind: 'absolute', position: 0 },
    ] as const) {
      expect(() => planFetch(at(5), dir, false), JSON.stringify(dir)).toThrow(expect.objectContaining(backward));
    }
    expect(() => planFetch(at(5, true), { kind: 'absolute', position: 6 }, false)).toThrow(expect.objectContaining(backward));
  });
});

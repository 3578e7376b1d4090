import { describe, expect, it } from 'vitest';
import { QuerySlots } from './querySlots.js';

describe('QuerySlots', () => {
  it('lets a tenant run up to its cap, then queues in order, per tenant', async () => {
    const slots = new QuerySlots({ perTenant: 2 });
    const a1 = await slots.acquire('a');
    const a2 = await slots.acquire('a');
    const order: string[] = [];
    const a3 = slots.acquire('a').then((r) => (order.push('a3'), r));
    const a4 = slots.acquire('a').then((r) => (order.push('a4'), r));
    const b1 = await slots.acquire('b'); // another tenant is not held up
    expect(order).toEqual([]);
    a1();
    (await a3)();
    a2();
    (await a4)();
    expect(order).toEqual(['a3', 'a4']);
    b1();
  });

  it('gives up a queued place when the wait is aborted, and the slot goes to the next', async () => {
    const slots = new QuerySlots({ perTenant: 1 });
    const first = await slots.acquire('a');
    const ctl = new AbortController();
    const aborted = slots.acquire('a', ctl.signal);
    const next = slots.acquire('a');
    ctl.abort(new Error('canceled'));
    await expect(aborted).rejects.toThrow('canceled');
    first();
    const release = await next;
    release();
    release(); // twice is harmless
    (await slots.acquire('a'))();
  });
});

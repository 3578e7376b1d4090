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

describe('QuerySlots: the process-wide budget', () => {
  /** Acquires and records the order in which the slots are granted. */
  const track = (slots: QuerySlots, order: string[]) => (tenant: string, name: string, signal?: AbortSignal) =>
    slots.acquire(tenant, signal).then((release) => {
      order.push(name);
      return release;
    });

  it('caps the queries running over all tenants; a freed slot goes to the next waiting tenant', async () => {
    const slots = new QuerySlots({ perTenant: 5, global: 2 });
    const order: string[] = [];
    const take = track(slots, order);
    const a1 = await take('a', 'a1');
    const b1 = await take('b', 'b1');
    const c1 = take('c', 'c1');
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a1', 'b1']);
    expect(slots.runningQueries).toBe(2);
    a1();
    (await c1)();
    b1();
    expect(slots.runningQueries).toBe(0);
  });

  it('serves waiting tenants in turn: many waiting queries of one tenant do not starve another', async () => {
    const slots = new QuerySlots({ perTenant: 3, global: 1 });
    const order: string[] = [];
    const take = track(slots, order);
    const a1 = await take('a', 'a1');
    // a2 and a3 hold tenant slots of a and wait for the process's; a4 waits for one of a's.
    const a2 = take('a', 'a2');
    const a3 = take('a', 'a3');
    const a4 = take('a', 'a4');
    const b1 = take('b', 'b1'); // arrives last
    a1();
    (await a2)();
    (await b1)(); // before a3: a was served, b's turn
    (await a3)();
    (await a4)();
    expect(order).toEqual(['a1', 'a2', 'b1', 'a3', 'a4']);
  });

  it('a tenant with one waiting query gets the second free slot however many another has waiting', async () => {
    const slots = new QuerySlots({ perTenant: 20, global: 1 });
    const order: string[] = [];
    const take = track(slots, order);
    const first = await take('busy', 'busy0');
    const busy = Array.from({ length: 10 }, (_, i) => take('busy', `busy${i + 1}`));
    const quiet = take('quiet', 'quiet');
    first();
    (await busy[0]!)();
    (await quiet)();
    for (const p of busy.slice(1)) (await p)();
    expect(order.indexOf('quiet')).toBe(2);
    expect(slots.runningQueries).toBe(0);
  });

  it("refuses with the server's error after the wait for a process slot, with the tenant's after the wait for a tenant slot", async () => {
    const slots = new QuerySlots({ perTenant: 1, global: 1, waitMs: 50 });
    const errors = { busy: () => new Error('tenant busy'), serverBusy: () => new Error('server busy') };
    const a1 = await slots.acquire('a', undefined, errors);
    await expect(slots.acquire('b', undefined, errors)).rejects.toThrow('server busy');
    await expect(slots.acquire('a', undefined, errors)).rejects.toThrow('tenant busy');
    // Nothing is left held by the refused ones.
    a1();
    const b1 = await slots.acquire('b', undefined, errors);
    b1();
    (await slots.acquire('a', undefined, errors))();
    expect(slots.runningQueries).toBe(0);
  });

  it('one wait bounds both stages: a request may set a shorter one', async () => {
    const slots = new QuerySlots({ perTenant: 1, global: 1, waitMs: 60_000 });
    const a1 = await slots.acquire('a');
    await expect(slots.acquire('b', undefined, { waitMs: 20, serverBusy: () => new Error('server busy') })).rejects.toThrow('server busy');
    a1();
  });

  it('an abort while waiting for a process slot gives the tenant slot to the tenant’s next query', async () => {
    const slots = new QuerySlots({ perTenant: 1, global: 1 });
    const order: string[] = [];
    const take = track(slots, order);
    const b1 = await take('b', 'b1');
    const ctl = new AbortController();
    const a1 = take('a', 'a1', ctl.signal); // holds a's only slot, waits for the process's
    const a2 = take('a', 'a2'); // waits for a's slot
    ctl.abort(new Error('canceled'));
    await expect(a1).rejects.toThrow('canceled');
    b1();
    (await a2)();
    expect(order).toEqual(['b1', 'a2']);
    expect(slots.runningQueries).toBe(0);
  });
});

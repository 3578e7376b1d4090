/** Runs for minutes unless interrupted: for cancel and timeout tests. */
export const ENDLESS_QUERY = 'SELECT sum(a.i * b.i) AS s FROM range(100000000) a(i), range(100000) b(i)';

/** Waits until cond() holds; the bound is a safety net against a hang, not a timing. */
export async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * OIDs of a tenant's tables: derived from the name, so that they are the same in the
 * catalog rows and in the gate's reading of `'orders'::regclass`, and survive a reload.
 */
export function tableOids(names: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  const used = new Set<number>();
  for (const name of [...names].sort()) {
    let h = 0x811c9dc5;
    for (const ch of Buffer.from(name)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
    let oid = 16384 + (h % 1_000_000_000);
    while (used.has(oid)) oid++;
    used.add(oid);
    out.set(name, oid);
  }
  return out;
}

/**
 * A bounded LRU map for gate verdicts: a repeated SQL text (for the same tenant and
 * the same readable data) skips parsing, verification and rewriting. Bounded both by
 * entries and by the total length of the texts it keys on; texts longer than
 * MAX_TEXT are not cached at all.
 */
const MAX_TEXT = 64 * 1024;

export class VerdictCache<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private weight = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxWeight = 32 * 1024 * 1024,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const hit = this.map.get(key);
    if (!hit) return undefined;
    // Move to the young end.
    this.map.delete(key);
    this.map.set(key, hit);
    return hit.value;
  }

  set(key: string, value: V, textLength: number): void {
    if (textLength > MAX_TEXT || this.maxEntries === 0) return;
    const old = this.map.get(key);
    if (old) {
      this.weight -= old.weight;
      this.map.delete(key);
    }
    const weight = key.length * 2 + 256;
    this.map.set(key, { value, weight });
    this.weight += weight;
    for (const [k, v] of this.map) {
      if (this.map.size <= this.maxEntries && this.weight <= this.maxWeight) break;
      this.map.delete(k);
      this.weight -= v.weight;
    }
  }

  clear(): void {
    this.map.clear();
    this.weight = 0;
  }
}

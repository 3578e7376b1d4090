// Plans: what a tenant's queries may use. The registry stores a plan by name; the engine
// applies memoryLimit/threads to the tenant's DuckDB instance; `user add` enforces maxUsers.
import { InvalidArgumentError } from './ids.js';

export interface Plan {
  name: string;
  /** DuckDB memory_limit for the tenant's instance, e.g. '256MB'. */
  memoryLimit: string;
  /** DuckDB threads for the tenant's instance. */
  threads: number;
  /** How many users the tenant may have; null = unlimited. */
  maxUsers: number | null;
  /** Longest query text the tenant may send, in bytes (54000 beyond it). */
  maxQueryBytes: number;
}

export const DEFAULT_PLANS: Record<string, Plan> = Object.freeze({
  free: Object.freeze({ name: 'free', memoryLimit: '256MB', threads: 2, maxUsers: 1, maxQueryBytes: 64 * 1024 }),
  pro: Object.freeze({ name: 'pro', memoryLimit: '1GB', threads: 4, maxUsers: 3, maxQueryBytes: 256 * 1024 }),
  enterprise: Object.freeze({ name: 'enterprise', memoryLimit: '4GB', threads: 8, maxUsers: null, maxQueryBytes: 1024 * 1024 }),
});

/** The known plan names, in definition order. */
export function planNames(): string[] {
  return Object.keys(DEFAULT_PLANS);
}

/** The plan called `name`; throws InvalidArgumentError listing the known plans otherwise. */
export function getPlan(name: string): Plan {
  const plan = Object.hasOwn(DEFAULT_PLANS, name) ? DEFAULT_PLANS[name] : undefined;
  if (!plan) {
    throw new InvalidArgumentError(`unknown plan ${JSON.stringify(name)} (known plans: ${planNames().join(', ')})`);
  }
  return plan;
}

/** "1 user", "3 users", "unlimited users". */
export function describeUserLimit(plan: Plan): string {
  if (plan.maxUsers === null) return 'unlimited users';
  return `${plan.maxUsers} ${plan.maxUsers === 1 ? 'user' : 'users'}`;
}

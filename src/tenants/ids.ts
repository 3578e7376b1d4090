// Names that come from operators and end up as database names, directory names, role names
// and SQL identifiers. Every check lives here so the CLI, the registry and the loaders agree.

/**
 * An expected failure of a tenant operation (unknown tenant, table exists, plan limit...).
 * Its message is complete and meant for an operator; callers print it without a stack.
 */
export class TenantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantError';
  }
}

/** A TenantError caused by a malformed argument (bad id, bad name, bad option value). */
export class InvalidArgumentError extends TenantError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/** Lowercase letter first, then lowercase letters, digits and underscores. */
const IDENTIFIER_RE = /^[a-z][a-z0-9_]*$/;

export const MAX_IDENTIFIER_LENGTH = 63;

/** The database name the operator's admin credential logs in to (never a tenant's). */
export const ADMIN_DATABASE = 'tenantgate';

/**
 * Tenant ids become database names inside DuckDB and PostgreSQL clients, so the names of
 * built-in catalogs and schemas are refused, as are the prefixes both systems reserve,
 * and the admin database's name.
 */
const RESERVED_TENANT_IDS = new Set([
  ADMIN_DATABASE,
  'all_tenants',
  'main',
  'memory',
  'system',
  'temp',
  'temporary',
  'shared',
  'information_schema',
  'pg_catalog',
  'postgres',
  'template0',
  'template1',
]);
const RESERVED_PREFIXES = ['pg_', 'duckdb_'];

/** Table names that would shadow catalog relations in a tenant's view of the database. */
const RESERVED_TABLE_PREFIXES = ['pg_', 'duckdb_', 'sqlite_'];

function describe(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

function checkIdentifier(kind: string, value: unknown, minLength: number): string {
  const rule =
    `lowercase letters, digits and underscores, starting with a letter, ` +
    `${minLength}-${MAX_IDENTIFIER_LENGTH} characters`;
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${kind} is required (${rule})`);
  }
  if (!IDENTIFIER_RE.test(value) || value.length < minLength || value.length > MAX_IDENTIFIER_LENGTH) {
    throw new InvalidArgumentError(`invalid ${kind} ${describe(value)}: use ${rule}`);
  }
  return value;
}

/** Returns the id, or throws InvalidArgumentError explaining the rule. */
export function validateTenantId(id: unknown): string {
  const v = checkIdentifier('tenant id', id, 2);
  if (RESERVED_TENANT_IDS.has(v) || RESERVED_PREFIXES.some((p) => v.startsWith(p))) {
    throw new InvalidArgumentError(
      `tenant id ${describe(v)} is reserved (it clashes with a built-in database or schema name)`,
    );
  }
  return v;
}

/** Returns the user name, or throws InvalidArgumentError explaining the rule. */
export function validateUserName(name: unknown): string {
  const v = checkIdentifier('user name', name, 2);
  if (v.startsWith('pg_')) {
    throw new InvalidArgumentError(`user name ${describe(v)} is reserved (the pg_ prefix belongs to PostgreSQL)`);
  }
  return v;
}

/** Returns the table name, or throws InvalidArgumentError explaining the rule. */
export function validateTableName(name: unknown): string {
  const v = checkIdentifier('table name', name, 1);
  if (RESERVED_TABLE_PREFIXES.some((p) => v.startsWith(p))) {
    throw new InvalidArgumentError(
      `table name ${describe(v)} is reserved (the prefixes ${RESERVED_TABLE_PREFIXES.join(', ')} belong to system catalogs)`,
    );
  }
  return v;
}

export function isValidTenantId(id: unknown): boolean {
  try {
    validateTenantId(id);
    return true;
  } catch {
    return false;
  }
}

export function isValidUserName(name: unknown): boolean {
  try {
    validateUserName(name);
    return true;
  } catch {
    return false;
  }
}

export function isValidTableName(name: unknown): boolean {
  try {
    validateTableName(name);
    return true;
  } catch {
    return false;
  }
}

// Names are validated first; quoting is the second layer.
export { quoteIdent, quoteLiteral } from '../sql/quote.js';

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

/** Returns the password, or throws InvalidArgumentError. Length is counted in characters. */
export function validatePassword(password: unknown): string {
  if (typeof password !== 'string' || password.length === 0) {
    throw new InvalidArgumentError('password is empty');
  }
  const chars = [...password].length;
  if (chars < MIN_PASSWORD_LENGTH) {
    throw new InvalidArgumentError(`password is too short (at least ${MIN_PASSWORD_LENGTH} characters)`);
  }
  if (chars > MAX_PASSWORD_LENGTH) {
    throw new InvalidArgumentError(`password is too long (at most ${MAX_PASSWORD_LENGTH} characters)`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) {
    throw new InvalidArgumentError('password contains control characters');
  }
  return password;
}

export const MAX_TENANT_NAME_LENGTH = 200;

/** A tenant's display name: any printable text, 1-200 characters, trimmed. */
export function validateTenantName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) {
    throw new InvalidArgumentError('tenant name is empty');
  }
  const v = name.trim();
  if ([...v].length > MAX_TENANT_NAME_LENGTH) {
    throw new InvalidArgumentError(`tenant name is too long (at most ${MAX_TENANT_NAME_LENGTH} characters)`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(v)) {
    throw new InvalidArgumentError('tenant name contains control characters');
  }
  return v;
}

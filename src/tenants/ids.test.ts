import { describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  TenantError,
  isValidTableName,
  isValidTenantId,
  isValidUserName,
  quoteIdent,
  quoteLiteral,
  validatePassword,
  validateTableName,
  validateTenantId,
  validateTenantName,
  validateUserName,
} from './ids.js';

describe('tenant ids', () => {
  it('accepts lowercase identifiers of 2-63 characters', () => {
    for (const id of ['ab', 'acme', 'a1', 'tenant_42', 'x'.repeat(63), 'a_']) {
      expect(validateTenantId(id)).toBe(id);
    }
  });

  it('refuses anything that is not a plain lowercase identifier', () => {
    for (const id of ['', 'a', 'A', 'Acme', 'a-b', '../x', 'a/b', '1abc', '_abc', 'x'.repeat(64), 'a b', 'ä', 'a.b', 'a\n']) {
      expect(() => validateTenantId(id), id).toThrow(InvalidArgumentError);
      expect(isValidTenantId(id)).toBe(false);
    }
    expect(() => validateTenantId(undefined)).toThrow(/tenant id is required/);
    expect(() => validateTenantId(42)).toThrow(InvalidArgumentError);
  });

  it('refuses names of built-in databases and reserved prefixes', () => {
    for (const id of ['main', 'system', 'temp', 'memory', 'shared', 'postgres', 'pg_catalog', 'pg_x', 'duckdb_x', 'information_schema']) {
      expect(() => validateTenantId(id), id).toThrow(/reserved/);
    }
  });

  it('explains the rule in the message', () => {
    expect(() => validateTenantId('A')).toThrow(
      'invalid tenant id "A": use lowercase letters, digits and underscores, starting with a letter, 2-63 characters',
    );
  });

  it('validation errors are TenantErrors (expected, user-facing)', () => {
    try {
      validateTenantId('../x');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TenantError);
    }
  });
});

describe('user names', () => {
  it('use the same rule as tenant ids', () => {
    expect(validateUserName('bob')).toBe('bob');
    expect(validateUserName('acme')).toBe('acme');
    for (const n of ['b', 'Bob', 'bob-smith', '../x', '', 'x'.repeat(64)]) {
      expect(isValidUserName(n), n).toBe(false);
    }
    expect(() => validateUserName('pg_monitor')).toThrow(/reserved/);
  });
});

describe('table names', () => {
  it('accept plain identifiers of 1-63 characters', () => {
    for (const n of ['t', 'orders', 'daily_summary', 'x1', 'x'.repeat(63)]) expect(validateTableName(n)).toBe(n);
  });

  it('refuse anything else, and catalog prefixes', () => {
    for (const n of ['', 'Orders', 'my-table', '1t', '"t"', 't;drop', 'x'.repeat(64), 'pg_class', 'duckdb_tables', 'sqlite_master']) {
      expect(isValidTableName(n), n).toBe(false);
    }
  });
});

describe('quoting', () => {
  it('doubles quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(quoteLiteral("it's")).toBe("'it''s'");
  });
});

describe('passwords and names', () => {
  it('require at least 8 characters', () => {
    expect(validatePassword('12345678')).toBe('12345678');
    expect(() => validatePassword('1234567')).toThrow(/too short/);
    expect(() => validatePassword('')).toThrow(/empty/);
    // Characters, not bytes.
    expect(() => validatePassword('ééééééé')).toThrow(/too short/);
    expect(validatePassword('éééééééé')).toBe('éééééééé');
    expect(() => validatePassword('abcdefgh\n')).toThrow(/control/);
  });

  it('trim display names and refuse empty or control characters', () => {
    expect(validateTenantName('  Acme Corp ')).toBe('Acme Corp');
    expect(() => validateTenantName('   ')).toThrow(/empty/);
    expect(() => validateTenantName('a\u0007b')).toThrow(/control/);
    expect(() => validateTenantName('x'.repeat(201))).toThrow(/too long/);
  });
});

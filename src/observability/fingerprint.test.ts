import { describe, expect, it } from 'vitest';
import { fingerprint, normaliseStatement } from './fingerprint.js';
import { tokens } from '../sql/lexer.js';

const norm = (sql: string) => normaliseStatement([...tokens(sql)]);

describe('statement fingerprints', () => {
  it('normalises literals, lists of literals, case and layout away', () => {
    expect(norm("select a from t where b = 'x' and c > 10.5")).toBe('SELECT A FROM T WHERE B = ? AND C > ?');
    expect(norm('SELECT a FROM t WHERE b IN (1, 2, 3)')).toBe(norm('select a\n  from t -- comment\n where b in (7)'));
    expect(norm("SELECT E'it''s', $$dollar$$, -5")).toBe('SELECT ?');
    expect(norm('SELECT "Mixed Case" FROM t WHERE x = $1')).toBe('SELECT "Mixed Case" FROM T WHERE X = $1');
  });

  it('is a hash that keeps no literal', () => {
    const a = fingerprint("SELECT * FROM orders WHERE email = 'alice@example.com'");
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint("SELECT * FROM orders WHERE email = 'bob@example.com'")).toBe(a);
    expect(fingerprint('SELECT * FROM orders WHERE id = 1')).not.toBe(a);
    // Tokens the session already has give the same fingerprint as lexing the text.
    const text = "SELECT 1 WHERE 'a' = 'b'";
    expect(fingerprint(text, [...tokens(text)])).toBe(fingerprint(text));
  });

  it('does not throw on text the lexer refuses', () => {
    expect(fingerprint("SELECT 'unterminated")).toMatch(/^[0-9a-f]{16}$/);
  });
});

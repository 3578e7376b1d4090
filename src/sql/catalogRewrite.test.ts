import { describe, expect, it } from 'vitest';
import { normaliseText } from './catalogRewrite.js';
import { splitStatements } from './lexer.js';

const norm = (sql: string) => {
  const st = splitStatements(sql)[0]!;
  return normaliseText(st.text, st.tokens);
};

describe('normaliseText', () => {
  it("removes what DuckDB's parser cannot read of psql's SQL", () => {
    expect(norm("SELECT 1 WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$'")).toBe("SELECT 1 WHERE c.relname  ~  '^(orders)$'");
    expect(norm('SELECT a OPERATOR(pg_catalog.!~) b, x operator(pg_catalog.>) 0')).toBe('SELECT a  !~  b, x  >  0');
    expect(norm('SELECT c.reloftype::pg_catalog.regtype::pg_catalog.text')).toBe('SELECT c.reloftype::regtype::text');
  });

  it('leaves everything else alone, strings and quoted names included', () => {
    for (const sql of [
      "SELECT 'OPERATOR(pg_catalog.~)', '::pg_catalog.text'",
      'SELECT "pg_catalog".x FROM pg_catalog.pg_class',
      'SELECT a:: "pg_catalog".text',
      'SELECT OPERATOR(public.~)',
    ]) {
      expect(norm(sql), sql).toBe(sql);
    }
  });
});

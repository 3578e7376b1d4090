import { describe, expect, it } from 'vitest';
import { splitStatements, tokens } from './lexer.js';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

describe('splitStatements', () => {
  it('splits at top-level semicolons and drops empty statements', () => {
    expect(texts('SELECT 1; SELECT 2;;  ; ')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(texts('')).toEqual([]);
    expect(texts('-- only a comment\n/* and another */')).toEqual([]);
  });

  it('reads a backslash in a plain string as a character, as PostgreSQL does', () => {
    expect(texts("SELECT '\\'; DELETE FROM orders; --'")).toEqual(["SELECT '\\'", 'DELETE FROM orders']);
  });

  it('honours backslash escapes in E strings', () => {
    expect(texts("SELECT E'it\\'s; fine'; SELECT 2")).toEqual(["SELECT E'it\\'s; fine'", 'SELECT 2']);
  });

  it('keeps semicolons inside quotes, identifiers, dollar quotes and comments', () => {
    expect(texts(`SELECT 'a;b', "c;d", $$e;f$$, $tag$ $$; $tag$ /* g; /* nested; */ h; */ FROM t -- i;\n; SELECT 2`)).toEqual([
      `SELECT 'a;b', "c;d", $$e;f$$, $tag$ $$; $tag$ /* g; /* nested; */ h; */ FROM t`,
      'SELECT 2',
    ]);
  });

  it('does not take $1 for a dollar quote', () => {
    expect(texts('SELECT $1; SELECT $2')).toEqual(['SELECT $1', 'SELECT $2']);
  });

  it('treats \\r line ends like \\n for comments', () => {
    expect(texts('SELECT 1 -- c\r; DELETE FROM t')).toEqual(['SELECT 1', 'DELETE FROM t']);
  });

  it('refuses unterminated strings, identifiers, dollar quotes and comments with 42601', () => {
    for (const bad of ["SELECT 'x", 'SELECT "x', 'SELECT $a$ x', 'SELECT /* /* */', "SELECT E'x\\'"]) {
      expect(() => splitStatements(bad), bad).toThrow(expect.objectContaining({ code: '42601' }));
    }
  });

  it('gives statement-relative token offsets and the statement offset', () => {
    const [, second] = splitStatements('SELECT 1;  SHOW x');
    expect(second!.offset).toBe(11);
    expect(second!.tokens.map((t) => [t.value, t.start])).toEqual([['SHOW', 0], ['X', 5]]);
  });
});

describe('tokens', () => {
  it('splits "=-1" into "=" and "-" like PostgreSQL', () => {
    expect([...tokens('a=-1')].map((t) => t.value)).toEqual(['A', '=', '-', '1']);
    expect([...tokens('a @- 1')].map((t) => t.value)).toEqual(['A', '@-', '1']);
  });

  it('decodes quoted strings and identifiers', () => {
    expect([...tokens(`'it''s' "Mixed""Case" U&'x' E'\\n'`)].map((t) => [t.kind, t.value])).toEqual([
      ['string', "it's"],
      ['ident', 'Mixed"Case'],
      ['string', 'x'],
      ['string', '\n'],
    ]);
  });
});

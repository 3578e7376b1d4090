import { describe, expect, it } from 'vitest';
import { splitStatements } from './lexer.js';
import { parseSessionCommand } from './sessionCommand.js';

const parse = (sql: string) => {
  const [st] = splitStatements(sql);
  return parseSessionCommand(st!.tokens, st!.text);
};

describe('parseSessionCommand', () => {
  it('reads the SET forms clients send', () => {
    expect(parse("SET application_name = 'psql'")).toEqual({ kind: 'set', name: 'application_name', value: 'psql', local: false });
    expect(parse('SET extra_float_digits TO 3')).toEqual({ kind: 'set', name: 'extra_float_digits', value: '3', local: false });
    expect(parse('SET extra_float_digits = -2')).toEqual({ kind: 'set', name: 'extra_float_digits', value: '-2', local: false });
    expect(parse('SET DateStyle = ISO, MDY')).toEqual({ kind: 'set', name: 'datestyle', value: 'iso, mdy', local: false });
    expect(parse("SET TIME ZONE 'UTC'")).toEqual({ kind: 'set', name: 'timezone', value: 'UTC', local: false });
    expect(parse('SET TIME ZONE LOCAL')).toEqual({ kind: 'set', name: 'timezone', value: null, local: false });
    expect(parse('SET LOCAL statement_timeout = DEFAULT')).toEqual({ kind: 'set', name: 'statement_timeout', value: null, local: true });
    expect(parse('SET SESSION search_path TO "$user", public')).toEqual({ kind: 'set', name: 'search_path', value: '$user, public', local: false });
    expect(parse("SET NAMES 'UTF8'")).toEqual({ kind: 'set', name: 'client_encoding', value: 'UTF8', local: false });
    expect(parse('SET myapp.flag = on')).toEqual({ kind: 'set', name: 'myapp.flag', value: 'on', local: false });
    expect(parse('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED')).toEqual({ kind: 'setTransaction', session: true });
  });

  it('reads SHOW, RESET, transaction control and DISCARD', () => {
    expect(parse('SHOW TRANSACTION ISOLATION LEVEL')).toEqual({ kind: 'show', name: 'transaction_isolation' });
    expect(parse('show search_path')).toEqual({ kind: 'show', name: 'search_path' });
    expect(parse('SHOW ALL')).toEqual({ kind: 'show', name: 'ALL' });
    expect(parse('RESET ALL')).toEqual({ kind: 'reset', name: 'ALL' });
    expect(parse('BEGIN ISOLATION LEVEL REPEATABLE READ')).toEqual({ kind: 'begin', tag: 'BEGIN' });
    expect(parse('START TRANSACTION READ ONLY')).toEqual({ kind: 'begin', tag: 'START TRANSACTION' });
    expect(parse('COMMIT WORK')).toEqual({ kind: 'commit' });
    expect(parse('END')).toEqual({ kind: 'commit' });
    expect(parse('ABORT')).toEqual({ kind: 'rollback' });
    expect(parse('DISCARD ALL')).toEqual({ kind: 'discard', what: 'ALL' });
  });

  it('leaves queries and DuckDB SHOW TABLES to the gate', () => {
    expect(parse('SELECT 1')).toBeNull();
    expect(parse('SHOW TABLES')).toBeNull();
    expect(parse('WITH x AS (SELECT 1) SELECT * FROM x')).toBeNull();
  });

  it('reads savepoint commands and UNLISTEN *', () => {
    expect(parse('SAVEPOINT a1')).toEqual({ kind: 'savepoint', name: 'a1' });
    expect(parse('SAVEPOINT "Mixed"')).toEqual({ kind: 'savepoint', name: 'Mixed' });
    expect(parse('RELEASE SAVEPOINT a1')).toEqual({ kind: 'release', name: 'a1' });
    expect(parse('RELEASE a1')).toEqual({ kind: 'release', name: 'a1' });
    expect(parse('ROLLBACK TO SAVEPOINT a1')).toEqual({ kind: 'rollbackTo', name: 'a1' });
    expect(parse('ROLLBACK WORK TO A1')).toEqual({ kind: 'rollbackTo', name: 'a1' });
    expect(parse('UNLISTEN *')).toEqual({ kind: 'unlisten' });
    expect(() => parse('SAVEPOINT')).toThrow(expect.objectContaining({ code: '42601' }));
    expect(() => parse('SAVEPOINT a b')).toThrow(expect.objectContaining({ code: '42601' }));
  });

  it('refuses what it cannot honour', () => {
    expect(() => parse('SET ROLE admin')).toThrow(expect.objectContaining({ code: '42501' }));
    expect(() => parse('SET SESSION AUTHORIZATION admin')).toThrow(expect.objectContaining({ code: '42501' }));
    expect(() => parse('UNLISTEN x')).toThrow(expect.objectContaining({ code: '0A000' }));
    expect(() => parse('SET x')).toThrow(expect.objectContaining({ code: '42601' }));
  });
});

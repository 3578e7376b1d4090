import { describe, expect, it } from 'vitest';
import { pgErrorFromDuckdb } from './errors.js';

describe('pgErrorFromDuckdb', () => {
  it.each([
    ['Catalog Error: Table with name x does not exist!\nDid you mean "y"?', '42P01', 'Table with name x does not exist!'],
    ['Binder Error: Referenced column "a" not found in FROM clause!\nCandidate bindings: "b"', '42703', 'Referenced column "a" not found in FROM clause!'],
    ['Binder Error: Table "o" does not have a column named "tenant_id"', '42703', 'Table "o" does not have a column named "tenant_id"'],
    ["Conversion Error: Could not convert string 'x' to INT32\n\nLINE 1: ...", '22P02', "Could not convert string 'x' to INT32"],
    ['Parser Error: syntax error at or near "selec"', '42601', 'syntax error at or near "selec"'],
    ['Binary Error: Maximum recursion depth exceeded; use SET max_expression_depth to increase', '54001', 'statement is too complex (expressions nested too deeply)'],
    ['Out of Memory Error: failed to allocate', '53200', 'failed to allocate'],
    ['Invalid Input Error: Values were not provided for the following prepared statement parameters: 2, 3', '42P02', 'there is no parameter $2'],
    ['Something unexpected', 'XX000', 'Something unexpected'],
  ])('%s', (raw, code, message) => {
    const e = pgErrorFromDuckdb(new Error(raw), '/data');
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
  });

  it('removes the data directory from messages', () => {
    const e = pgErrorFromDuckdb(new Error('IO Error: Cannot open file "/srv/tg/data/tenants/x.duckdb"'), '/srv/tg/data');
    expect(e.message).not.toContain('/srv/tg/data');
  });
});

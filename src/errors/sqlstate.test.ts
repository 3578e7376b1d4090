import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SqlState } from './sqlstate.js';

const snake = (pascal: string) => pascal.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

describe('the SQLSTATE catalogue', () => {
  it('is the table in README, code for code and name for name', () => {
    const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| ([0-9A-Z]{5}) \| ([a-z_]+) \|/gm)].map((m) => [m[1], m[2]]);
    const catalogue = Object.entries(SqlState).map(([name, code]) => [code, snake(name)]);
    expect(rows.sort()).toEqual(catalogue.sort());
  });

  it('has PostgreSQL-shaped codes without duplicates', () => {
    const codes = Object.values(SqlState);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c).toMatch(/^[0-9A-Z]{5}$/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbParser } from '../engine/parser.js';
import { parseAst, stringifyAst, type AstObject } from './ast.js';
import type { GateContext } from './catalog.js';
import { Gate } from './gate.js';
import { splitStatements } from './lexer.js';
import { castParameters, castTypeAst, markUnconstrainedNumeric } from './parameterCasts.js';

const param = (id: string, alias = '') => ({ class: 'PARAMETER', type: 'VALUE_PARAMETER', alias, query_location: 7, identifier: id });

describe('castParameters', () => {
  it('wraps each declared parameter in a CAST, keeping its alias on the cast', () => {
    const ast = { select_list: [param('1', 'a'), param('2'), { class: 'CONSTANT', value: 1 }], where: { child: param('1') } };
    expect(castParameters(ast, ['INTEGER', null])).toEqual({
      select_list: [
        { class: 'CAST', type: 'OPERATOR_CAST', alias: 'a', query_location: 7, child: param('1'), cast_type: { id: 'INTEGER', type_info: null }, try_cast: false },
        param('2'),
        { class: 'CONSTANT', value: 1 },
      ],
      where: { child: { class: 'CAST', type: 'OPERATOR_CAST', alias: '', query_location: 7, child: param('1'), cast_type: { id: 'INTEGER', type_info: null }, try_cast: false } },
    });
    expect(ast.select_list[0]).toEqual(param('1', 'a')); // the input is left as it was
  });

  it('returns the AST itself when nothing is declared, and refuses a type not in its grammar', () => {
    const ast = { select_list: [param('1')] };
    expect(castParameters(ast, [null])).toBe(ast);
    for (const bad of ['VARCHAR); DROP TABLE t; --', 'DECIMAL(39,0)', 'DECIMAL(10,11)', 'DECIMAL(38,2', 'INTEGER[]x', 'INTEGER[][][][][][][]', 'JSON', 'decimal(38,2)']) {
      expect(() => castParameters(ast, [bad]), bad).toThrow(/not a parameter cast type/);
    }
  });

  it('writes DECIMAL(w,s) and lists as json_serialize_sql does', () => {
    expect(JSON.parse(stringifyAst(castTypeAst('DECIMAL(38,4)[][]')))).toEqual({
      id: 'LIST',
      type_info: {
        type: 'LIST_TYPE_INFO', alias: '', extension_info: null,
        child_type: {
          id: 'LIST',
          type_info: {
            type: 'LIST_TYPE_INFO', alias: '', extension_info: null,
            child_type: { id: 'DECIMAL', type_info: { type: 'DECIMAL_TYPE_INFO', alias: '', extension_info: null, width: 38, scale: 4 } },
          },
        },
      },
    });
  });
});

describe('parameter casts through DuckDB', () => {
  let parser: DuckdbParser;
  const ctx: GateContext = { tenantId: 'acme', isolation: 'database', catalogName: 'acme', version: 'v1', tables: new Map() };
  beforeAll(async () => {
    parser = await DuckdbParser.create(1);
  });
  afterAll(() => parser.close());

  const select = async (sql: string) => {
    const ast = parseAst(await parser.serialize(sql));
    return { ast, list: ((ast.statements as AstObject[])[0]!.node as AstObject).select_list as AstObject[] };
  };
  const sqlOf = async (ast: AstObject, statement: unknown) => parser.deserialize(stringifyAst({ ...ast, statements: [{ ...(ast.statements as AstObject[])[0], node: statement }] }));

  it('survives the gate\'s round trip for numeric scales and array dimensions', async () => {
    const gate = new Gate(parser, null);
    const [st] = splitStatements('SELECT $1 AS n, $2 AS a, $3 AS t');
    const v = await gate.check(st!.text, st!.tokens, ctx, ['DECIMAL(38,4)', 'INTEGER[][]', 'TIMESTAMP WITH TIME ZONE[]']);
    expect(v.sql).toBe('SELECT CAST($1 AS DECIMAL(38,4)) AS n, CAST($2 AS INTEGER[][]) AS a, CAST($3 AS TIMESTAMP WITH TIME ZONE[]) AS t');
  });

  it('drops an unconstrained ::numeric of a numeric parameter, and nothing else', async () => {
    const { ast, list } = await select('SELECT $1::numeric AS a, $1::numeric AS b, $2::numeric AS c, $1::numeric[] AS d, $3::numeric[] AS e');
    for (const i of [0, 2, 3, 4]) markUnconstrainedNumeric(list[i]!); // b is written numeric(18,3): not marked
    const node = (ast.statements as AstObject[])[0]!.node as AstObject;
    const cast = castParameters({ ...node, select_list: list }, ['DECIMAL(38,4)', 'INTEGER', 'DECIMAL(38,2)[]']);
    expect(await sqlOf(ast, cast)).toBe(
      'SELECT CAST($1 AS DECIMAL(38,4)) AS a, CAST(CAST($1 AS DECIMAL(38,4)) AS DECIMAL(18,3)) AS b, CAST(CAST($2 AS INTEGER) AS DECIMAL(18,3)) AS c, ' +
        'CAST(CAST($1 AS DECIMAL(38,4)) AS DECIMAL(18,3)[]) AS d, CAST($3 AS DECIMAL(38,2)[]) AS e',
    );
  });
});

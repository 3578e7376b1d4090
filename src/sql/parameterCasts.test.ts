import { describe, expect, it } from 'vitest';
import { castParameters } from './parameterCasts.js';

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

  it('returns the AST itself when nothing is declared, and refuses a type not on its list', () => {
    const ast = { select_list: [param('1')] };
    expect(castParameters(ast, [null])).toBe(ast);
    expect(() => castParameters(ast, ['VARCHAR); DROP TABLE t; --'])).toThrow(/not a parameter cast type/);
  });
});

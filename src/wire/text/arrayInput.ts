// PostgreSQL's array input syntax (array_in): `{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`,
// optionally after dimension bounds (`[0:1]={1,2}`, the bounds themselves are not kept).
import { PgError } from '../../errors/PgError.js';
import { SqlState } from '../../errors/sqlstate.js';

/** An element's text, null for NULL, or a nested array. */
export type ArrayItem = string | null | ArrayItem[];

function malformed(text: string, detail: string): PgError {
  return new PgError(SqlState.InvalidTextRepresentation, `malformed array literal: "${text}"`, { detail });
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';

/** PostgreSQL's MAXDIM. */
export const MAX_DIMENSIONS = 6;

export function parseArray(text: string): ArrayItem[] {
  let i = 0;
  const skipSpace = () => {
    while (isSpace(text[i])) i++;
  };
  skipSpace();
  const bounds = /^(\[-?\d+:-?\d+\])+\s*=/.exec(text.slice(i));
  if (bounds) i += bounds[0].length;
  skipSpace();

  let depth = 0;
  const readArray = (): ArrayItem[] => {
    if (text[i] !== '{') throw malformed(text, 'Array value must start with "{" or dimension information.');
    // PostgreSQL's limit, checked before going deeper: the parser recurses once per level.
    if (++depth > MAX_DIMENSIONS) {
      throw new PgError(SqlState.ProgramLimitExceeded, `number of array dimensions (${depth}) exceeds the maximum allowed (${MAX_DIMENSIONS})`);
    }
    i++;
    const items: ArrayItem[] = [];
    skipSpace();
    if (text[i] === '}') {
      i++;
      return items;
    }
    for (;;) {
      skipSpace();
      const c = text[i];
      if (c === undefined) throw malformed(text, 'Unexpected end of input.');
      if (c === '{') items.push(readArray());
      else if (c === '"') items.push(readQuoted());
      else items.push(readUnquoted());
      skipSpace();
      const sep = text[i++];
      if (sep === '}') break;
      if (sep !== ',') throw malformed(text, sep === undefined ? 'Unexpected end of input.' : `Unexpected "${sep}" character.`);
    }
    depth--;
    const nested = items.filter((x) => Array.isArray(x)).length;
    if (nested !== 0 && nested !== items.length) throw malformed(text, 'Multidimensional arrays must have sub-arrays with matching dimensions.');
    return items;
  };

  const readQuoted = (): string => {
    i++;
    let out = '';
    for (;;) {
      const c = text[i++];
      if (c === undefined) throw malformed(text, 'Unexpected end of input.');
      if (c === '"') return out;
      if (c === '\\') {
        const e = text[i++];
        if (e === undefined) throw malformed(text, 'Unexpected end of input.');
        out += e;
      } else {
        out += c;
      }
    }
  };

  const readUnquoted = (): string | null => {
    let out = '';
    let escaped = false;
    for (;;) {
      const c = text[i];
      if (c === undefined) throw malformed(text, 'Unexpected end of input.');
      if (c === ',' || c === '}') break;
      if (c === '{' || c === '"') throw malformed(text, `Unexpected "${c}" character.`);
      i++;
      if (c === '\\') {
        const e = text[i++];
        if (e === undefined) throw malformed(text, 'Unexpected end of input.');
        out += e;
        escaped = true;
      } else {
        out += c;
      }
    }
    const value = out.replace(/[ \t\n\r\v\f]+$/, '');
    if (value === '') throw malformed(text, 'Unexpected "," character.');
    return !escaped && value.toUpperCase() === 'NULL' ? null : value;
  };

  const result = readArray();
  skipSpace();
  if (i !== text.length) throw malformed(text, 'Junk after closing right brace.');
  return result;
}

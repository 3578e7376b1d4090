/**
 * A PostgreSQL lexer, just deep enough to find statement boundaries and read the
 * session commands the gateway answers itself. It follows PostgreSQL's rules with
 * standard_conforming_strings on: a backslash is an ordinary character in '...',
 * an escape only in E'...'; "..." identifiers; $tag$...$tag$ strings ($1 is a
 * parameter, not a tag); -- comments to end of line; nested /* comments *\/.
 *
 * It never decides what runs: every statement it cuts out is parsed again by
 * DuckDB, and must be exactly one statement there too (see sql/gate.ts).
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';

export type TokenKind = 'word' | 'ident' | 'string' | 'number' | 'param' | 'op' | 'semicolon';

export interface Token {
  kind: TokenKind;
  /** word: upper-cased keyword/identifier; ident: the unquoted identifier; string: the decoded value. */
  value: string;
  /** Offset of the token's first character in the text. */
  start: number;
  end: number;
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
const isIdentChar = (c: number) => isIdentStart(c) || isDigit(c) || c === 36;

function syntaxError(message: string, at: number): PgError {
  return new PgError(SqlState.SyntaxError, message, { position: at + 1 });
}

/** Reads a '...' body starting after the opening quote; returns [value, index after closing quote]. */
function readQuoted(sql: string, i: number, quote: number, backslashEscapes: boolean, start: number): [string, number] {
  let out = '';
  let from = i;
  for (;;) {
    if (i >= sql.length) {
      throw syntaxError(
        quote === 34 ? 'unterminated quoted identifier' : 'unterminated quoted string',
        start,
      );
    }
    const c = sql.charCodeAt(i);
    if (c === quote) {
      if (sql.charCodeAt(i + 1) === quote) {
        out += sql.slice(from, i + 1);
        i += 2;
        from = i;
        continue;
      }
      return [out + sql.slice(from, i), i + 1];
    }
    if (backslashEscapes && c === 92) {
      out += sql.slice(from, i);
      const n = sql[i + 1];
      if (n === undefined) throw syntaxError('unterminated quoted string', start);
      const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      out += simple[n] ?? n;
      i += 2;
      from = i;
      continue;
    }
    i++;
  }
}

/** Yields the tokens of `sql`; comments and white space are skipped. */
export function* tokens(sql: string): Generator<Token> {
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const start = i;
    if (isSpace(c)) {
      i++;
      continue;
    }
    // -- comment
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      while (i < n && sql.charCodeAt(i) !== 10 && sql.charCodeAt(i) !== 13) i++;
      continue;
    }
    // /* nested comment */
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= n) throw syntaxError('unterminated /* comment', start);
        if (sql.charCodeAt(i) === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (sql.charCodeAt(i) === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (c === 59) {
      i++;
      yield { kind: 'semicolon', value: ';', start, end: i };
      continue;
    }
    if (c === 39) {
      const [value, next] = readQuoted(sql, i + 1, 39, false, start);
      i = next;
      yield { kind: 'string', value, start, end: i };
      continue;
    }
    if (c === 34) {
      const [value, next] = readQuoted(sql, i + 1, 34, false, start);
      i = next;
      yield { kind: 'ident', value, start, end: i };
      continue;
    }
    // E'...', B'...', X'...', N'...', U&'...' and U&"..."
    if (isIdentStart(c)) {
      const p = c | 0x20;
      if ((p === 101 || p === 98 || p === 120 || p === 110) && sql.charCodeAt(i + 1) === 39) {
        const [value, next] = readQuoted(sql, i + 2, 39, p === 101, start);
        i = next;
        yield { kind: 'string', value, start, end: i };
        continue;
      }
      if (p === 117 && sql.charCodeAt(i + 1) === 38 && (sql.charCodeAt(i + 2) === 39 || sql.charCodeAt(i + 2) === 34)) {
        const q = sql.charCodeAt(i + 2);
        const [value, next] = readQuoted(sql, i + 3, q, false, start);
        i = next;
        yield { kind: q === 39 ? 'string' : 'ident', value, start, end: i };
        continue;
      }
      while (i < n && isIdentChar(sql.charCodeAt(i))) i++;
      yield { kind: 'word', value: sql.slice(start, i).toUpperCase(), start, end: i };
      continue;
    }
    if (c === 36) {
      // $1 parameter, or $tag$ ... $tag$ dollar quoting
      if (isDigit(sql.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(sql.charCodeAt(i))) i++;
        yield { kind: 'param', value: sql.slice(start, i), start, end: i };
        continue;
      }
      let j = i + 1;
      if (sql.charCodeAt(j) !== 36) {
        if (!isIdentStart(sql.charCodeAt(j))) throw syntaxError('syntax error at or near "$"', start);
        while (j < n && isIdentChar(sql.charCodeAt(j)) && sql.charCodeAt(j) !== 36) j++;
        if (sql.charCodeAt(j) !== 36) throw syntaxError('syntax error at or near "$"', start);
      }
      const tag = sql.slice(i, j + 1);
      const close = sql.indexOf(tag, j + 1);
      if (close < 0) throw syntaxError('unterminated dollar-quoted string', start);
      i = close + tag.length;
      yield { kind: 'string', value: sql.slice(j + 1, close), start, end: i };
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      while (i < n && (isDigit(sql.charCodeAt(i)) || sql.charCodeAt(i) === 46 || sql.charCodeAt(i) === 95)) i++;
      if ((sql.charCodeAt(i) | 0x20) === 101) {
        const sign = sql.charCodeAt(i + 1);
        const k = sign === 43 || sign === 45 ? i + 2 : i + 1;
        if (isDigit(sql.charCodeAt(k))) {
          i = k;
          while (i < n && isDigit(sql.charCodeAt(i))) i++;
        }
      }
      yield { kind: 'number', value: sql.slice(start, i), start, end: i };
      continue;
    }
    // Operators: runs of operator characters; punctuation alone.
    const OPS = '+-*/<>=~!@#%^&|`?';
    if (OPS.includes(sql[i]!)) {
      while (i < n && OPS.includes(sql[i]!) && !(sql.startsWith('--', i) || sql.startsWith('/*', i))) i++;
      // As PostgreSQL: a multi-character operator ends in + or - only if it holds one of ~!@#%^&|`?
      // (so "=-1" is "=" then "-1").
      if (i - start > 1 && !/[~!@#%^&|`?]/.test(sql.slice(start, i))) {
        while (i - start > 1 && (sql[i - 1] === '+' || sql[i - 1] === '-')) i--;
      }
    } else {
      i++;
    }
    yield { kind: 'op', value: sql.slice(start, i), start, end: i };
  }
}

export interface StatementText {
  /** The statement's text, without the terminating semicolon. */
  text: string;
  /** Offset of `text` in the whole query string (for error positions). */
  offset: number;
  tokens: Token[];
}

/**
 * Splits a simple Query's text into statements at top-level semicolons. Statements
 * that hold nothing but comments and white space are dropped, as PostgreSQL does.
 */
export function splitStatements(sql: string): StatementText[] {
  const out: StatementText[] = [];
  let current: Token[] = [];
  const flush = () => {
    if (current.length === 0) return;
    const first = current[0]!;
    const last = current[current.length - 1]!;
    out.push({
      text: sql.slice(first.start, last.end),
      offset: first.start,
      tokens: current.map((t) => ({ ...t, start: t.start - first.start, end: t.end - first.start })),
    });
    current = [];
  };
  for (const t of tokens(sql)) {
    if (t.kind === 'semicolon') flush();
    else current.push(t);
  }
  flush();
  return out;
}

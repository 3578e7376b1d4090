/**
 * The PostgreSQL statements that wrap a query, or name one, and that the gateway answers
 * itself rather than the gate: COPY ... TO STDOUT, the SQL cursor statements DECLARE,
 * FETCH, MOVE and CLOSE, and PREPARE, EXECUTE and DEALLOCATE. Read from the lexer's
 * tokens, with PostgreSQL's grammar and its checks of COPY's options.
 *
 * Nothing here decides what runs: the query a statement wraps is cut out as a statement
 * text of its own (or, for COPY of a table, written as `SELECT cols FROM table`) and goes
 * through the gate like any query. A statement this module does not read returns null and
 * reaches the gate, which refuses these keywords as its backstop.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { tokens as lex, type StatementText, type Token } from './lexer.js';
import { quoteIdent } from './quote.js';

/** A statement inside another (COPY's, DECLARE's or PREPARE's query), for the gate. */
export interface InnerStatement extends StatementText {
  /** Written by the gateway (COPY of a table), not the client: positions in it mean nothing to the client. */
  generated: boolean;
}

export type CopyFormat = 'text' | 'csv' | 'binary';

/** COPY's options, checked and with PostgreSQL's defaults filled in. */
export interface CopyOptions {
  format: CopyFormat;
  /** One single-byte character. */
  delimiter: string;
  /** How NULL is written. */
  null: string;
  header: boolean;
  /** CSV only: one single-byte character each. */
  quote: string;
  escape: string;
  /** CSV only: columns whose non-null values are always quoted; '*' for all. */
  forceQuote: readonly string[] | '*';
}

export interface CopyStatement {
  kind: 'copy';
  /** The SELECT whose rows are copied: the client's query, or one written for the table. */
  query: InnerStatement;
  /** The columns named after a table (null: a query, or all of the table's columns). */
  columns: string[] | null;
  options: CopyOptions;
}

/** Where FETCH and MOVE go, as PostgreSQL normalises it (a negative count turns around). */
export type FetchDirection =
  | { kind: 'forward'; count: number | 'ALL' }
  | { kind: 'backward'; count: number | 'ALL' }
  | { kind: 'absolute'; position: number }
  | { kind: 'relative'; offset: number };

/** A parameter of EXECUTE: a constant's text (null: NULL), with the type it was cast to, if any. */
export interface ExecuteArgument {
  value: string | null;
  /** A canonical PostgreSQL type name (see typeName), from `::type` or `type 'literal'`. */
  type: string | null;
}

export type WrappedStatement =
  | CopyStatement
  | { kind: 'declare'; name: string; binary: boolean; hold: boolean; query: InnerStatement }
  | { kind: 'fetch'; move: boolean; name: string; direction: FetchDirection }
  | { kind: 'close'; name: string | null /* null: ALL */ }
  | { kind: 'prepare'; name: string; types: string[]; query: InnerStatement }
  | { kind: 'execute'; name: string; args: ExecuteArgument[] }
  | { kind: 'deallocate'; name: string | null /* null: ALL */ };

export function syntaxError(t: Token | undefined, stmt: string): PgError {
  return new PgError(
    SqlState.SyntaxError,
    t ? `syntax error at or near "${stmt.slice(t.start, t.end)}"` : 'syntax error at end of input',
    t ? { position: t.start + 1 } : {},
  );
}

/** Token-by-token reading of one statement. */
class Reader {
  i = 0;
  constructor(
    readonly toks: Token[],
    readonly text: string,
  ) {}

  peek(k = 0): Token | undefined {
    return this.toks[this.i + k];
  }

  /** The upper-cased keyword at i+k, if that token is a bare word. */
  word(k = 0): string | undefined {
    const t = this.peek(k);
    return t?.kind === 'word' ? t.value : undefined;
  }

  isOp(value: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'op' && t.value === value;
  }

  get done(): boolean {
    return this.i >= this.toks.length;
  }

  accept(...words: string[]): string | undefined {
    const w = this.word();
    if (w !== undefined && words.includes(w)) {
      this.i++;
      return w;
    }
    return undefined;
  }

  expect(word: string): void {
    if (!this.accept(word)) throw this.syntax();
  }

  acceptOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.i++;
    return true;
  }

  expectOp(value: string): void {
    if (!this.acceptOp(value)) throw this.syntax();
  }

  syntax(t: Token | undefined = this.peek()): PgError {
    return syntaxError(t, this.text);
  }

  /** An identifier: a word folded to lower case, or a quoted name as written. */
  name(): string {
    const t = this.peek();
    if (!t || (t.kind !== 'word' && t.kind !== 'ident')) throw this.syntax(t);
    if (t.kind === 'ident' && t.value === '') {
      throw new PgError(SqlState.SyntaxError, 'zero-length delimited identifier at or near """"', { position: t.start + 1 });
    }
    this.i++;
    return t.kind === 'word' ? this.text.slice(t.start, t.end).toLowerCase() : t.value;
  }

  string(): string {
    const t = this.peek();
    if (t?.kind !== 'string') throw this.syntax(t);
    this.i++;
    return t.value;
  }

  end(): void {
    if (!this.done) throw this.syntax();
  }

  /** A signed integer constant (int4, as PostgreSQL's SignedIconst), or undefined. */
  signedInt(): number | undefined {
    let k = 0;
    let sign = 1;
    if (this.isOp('-') || this.isOp('+')) {
      sign = this.isOp('-') ? -1 : 1;
      k = 1;
    }
    const t = this.peek(k);
    if (t?.kind !== 'number') return undefined;
    if (!/^\d+$/.test(t.value) || Number(t.value) > 2147483647) throw this.syntax(t);
    this.i += k + 1;
    return sign * Number(t.value);
  }

  /** The rest of the statement, as a statement of its own. */
  rest(): InnerStatement {
    if (this.done) throw this.syntax();
    return this.cut(this.i, this.toks.length);
  }

  cut(from: number, to: number): InnerStatement {
    const first = this.toks[from]!;
    const last = this.toks[to - 1]!;
    return {
      text: this.text.slice(first.start, last.end),
      offset: first.start,
      tokens: this.toks.slice(from, to).map((t) => ({ ...t, start: t.start - first.start, end: t.end - first.start })),
      generated: false,
    };
  }

  /** The index of the ')' that closes the '(' at i. */
  closing(): number {
    let depth = 0;
    for (let k = this.i; k < this.toks.length; k++) {
      const t = this.toks[k]!;
      if (t.kind !== 'op') continue;
      if (t.value === '(') depth++;
      else if (t.value === ')' && --depth === 0) return k;
    }
    throw syntaxError(undefined, this.text);
  }
}

// ---------------------------------------------------------------------------------------
// Type names (PREPARE's parameter types, EXECUTE's casts)

/** PostgreSQL's spellings of the types, by their upper-cased words, to pg_type names. */
const TYPE_NAMES: ReadonlyMap<string, string> = new Map([
  ['INT', 'int4'], ['INTEGER', 'int4'], ['INT4', 'int4'], ['SMALLINT', 'int2'], ['INT2', 'int2'],
  ['BIGINT', 'int8'], ['INT8', 'int8'], ['REAL', 'float4'], ['FLOAT4', 'float4'],
  ['DOUBLE PRECISION', 'float8'], ['FLOAT8', 'float8'], ['FLOAT', 'float8'], ['NUMERIC', 'numeric'],
  ['DECIMAL', 'numeric'], ['DEC', 'numeric'], ['BOOLEAN', 'bool'], ['BOOL', 'bool'], ['TEXT', 'text'],
  ['VARCHAR', 'varchar'], ['CHARACTER VARYING', 'varchar'], ['CHAR VARYING', 'varchar'], ['CHAR', 'bpchar'],
  ['CHARACTER', 'bpchar'], ['BPCHAR', 'bpchar'], ['NAME', 'name'], ['DATE', 'date'], ['TIME', 'time'],
  ['TIME WITHOUT TIME ZONE', 'time'], ['TIME WITH TIME ZONE', 'timetz'], ['TIMETZ', 'timetz'],
  ['TIMESTAMP', 'timestamp'], ['TIMESTAMP WITHOUT TIME ZONE', 'timestamp'],
  ['TIMESTAMP WITH TIME ZONE', 'timestamptz'], ['TIMESTAMPTZ', 'timestamptz'], ['INTERVAL', 'interval'],
  ['BYTEA', 'bytea'], ['UUID', 'uuid'], ['JSON', 'json'], ['JSONB', 'jsonb'], ['OID', 'oid'],
  ['BIT VARYING', 'varbit'], ['VARBIT', 'varbit'], ['UNKNOWN', 'unknown'],
]);

/**
 * A type name at the reader: `integer`, `double precision`, `varchar(20)`,
 * `timestamp(3) with time zone`, `pg_catalog.int4`, `int[]`, `"int4"`. Returns the pg_type
 * name (`_int4` for an array of int4); type modifiers are read and dropped, as a
 * parameter's type is the type without them. An unknown name comes back folded, for the
 * caller to refuse.
 */
function typeName(r: Reader): string {
  let t = r.peek();
  if (!t || (t.kind !== 'word' && t.kind !== 'ident')) throw r.syntax(t);
  if (r.isOp('.', 1)) {
    // A schema: pg_catalog.int4.
    r.i += 2;
    t = r.peek();
    if (!t || (t.kind !== 'word' && t.kind !== 'ident')) throw r.syntax(t);
  }
  r.i++;
  let name: string;
  if (t.kind === 'ident') {
    name = t.value;
    if (r.isOp('(')) r.i = r.closing() + 1;
  } else {
    let spelled = t.value;
    if (spelled === 'DOUBLE' && r.accept('PRECISION')) spelled = 'DOUBLE PRECISION';
    else if ((spelled === 'CHARACTER' || spelled === 'CHAR' || spelled === 'BIT') && r.accept('VARYING')) spelled += ' VARYING';
    if (r.isOp('(')) r.i = r.closing() + 1; // modifiers: varchar(20), numeric(10,2), timestamp(3)
    const zone = r.word();
    if ((spelled === 'TIME' || spelled === 'TIMESTAMP') && (zone === 'WITH' || zone === 'WITHOUT') && r.word(1) === 'TIME' && r.word(2) === 'ZONE') {
      spelled += ` ${zone} TIME ZONE`;
      r.i += 3;
    }
    name = TYPE_NAMES.get(spelled) ?? r.text.slice(t.start, t.end).toLowerCase();
  }
  if (r.accept('ARRAY')) {
    if (r.isOp('[')) skipBrackets(r);
    return `_${name}`;
  }
  let array = false;
  while (r.isOp('[')) {
    skipBrackets(r);
    array = true;
  }
  return array ? `_${name}` : name;
}

function skipBrackets(r: Reader): void {
  r.expectOp('[');
  if (r.peek()?.kind === 'number') r.i++;
  r.expectOp(']');
}

// ---------------------------------------------------------------------------------------
// COPY

type OptionArg =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'star' }
  | { kind: 'list'; items: string[] }
  | null;

/** One COPY option as PostgreSQL's grammar hands it to ProcessCopyOptions (a DefElem). */
interface CopyOption {
  name: string;
  arg: OptionArg;
  at: Token;
}

const conflicting = (o: CopyOption) => new PgError(SqlState.SyntaxError, 'conflicting or redundant options', { position: o.at.start + 1 });

function optionString(o: CopyOption): string {
  const a = o.arg;
  if (a === null) throw new PgError(SqlState.SyntaxError, `${o.name} requires a parameter`, { position: o.at.start + 1 });
  if (a.kind === 'star') return '*';
  if (a.kind === 'list') return a.items.join('.');
  return a.value;
}

/** PostgreSQL's defGetBoolean (and HEADER's choice, where `match` is for COPY FROM only). */
function optionBoolean(o: CopyOption, header: boolean): boolean {
  if (o.arg === null) return true;
  if (o.arg.kind === 'number') {
    if (o.arg.value === '0') return false;
    if (o.arg.value === '1') return true;
  } else {
    const v = optionString(o).toLowerCase();
    if (v === 'true' || v === 'on') return true;
    if (v === 'false' || v === 'off') return false;
    if (header && v === 'match') {
      throw new PgError(SqlState.FeatureNotSupported, `cannot use "${optionString(o)}" with HEADER in COPY TO`);
    }
  }
  throw new PgError(SqlState.SyntaxError, header ? `${o.name} requires a Boolean value or "match"` : `${o.name} requires a Boolean value`);
}

const featureNotSupported = (message: string) => new PgError(SqlState.FeatureNotSupported, message);
const invalidParameter = (message: string) => new PgError(SqlState.InvalidParameterValue, message);
const singleByte = (s: string) => Buffer.byteLength(s) === 1;

/** PostgreSQL's ProcessCopyOptions for COPY TO: the same checks, in the same order, with the same errors. */
function copyOptions(options: readonly CopyOption[]): CopyOptions {
  let format: CopyFormat | null = null;
  let freeze: boolean | null = null;
  let delimiter: string | null = null;
  let nullText: string | null = null;
  let header: boolean | null = null;
  let quote: string | null = null;
  let escape: string | null = null;
  let forceQuote: string[] | '*' | null = null;
  let forceNotNull: string[] | null = null;
  let forceNull: string[] | null = null;
  let encoding: string | null = null;
  const columnList = (o: CopyOption): string[] | '*' => {
    if (o.arg?.kind === 'star') return '*';
    if (o.arg?.kind === 'list') return o.arg.items;
    throw invalidParameter(`argument to option "${o.name}" must be a list of column names`);
  };
  for (const o of options) {
    switch (o.name) {
      case 'format': {
        const f = optionString(o);
        if (format !== null) throw conflicting(o);
        if (f !== 'text' && f !== 'csv' && f !== 'binary') {
          throw new PgError(SqlState.InvalidParameterValue, `COPY format "${f}" not recognized`, { position: o.at.start + 1 });
        }
        format = f;
        break;
      }
      case 'freeze':
        if (freeze !== null) throw conflicting(o);
        freeze = optionBoolean(o, false);
        break;
      case 'delimiter':
        if (delimiter !== null) throw conflicting(o);
        delimiter = optionString(o);
        break;
      case 'null':
        if (nullText !== null) throw conflicting(o);
        nullText = optionString(o);
        break;
      case 'header':
        if (header !== null) throw conflicting(o);
        header = optionBoolean(o, true);
        break;
      case 'quote':
        if (quote !== null) throw conflicting(o);
        quote = optionString(o);
        break;
      case 'escape':
        if (escape !== null) throw conflicting(o);
        escape = optionString(o);
        break;
      case 'force_quote': {
        if (forceQuote !== null) throw conflicting(o);
        forceQuote = columnList(o);
        break;
      }
      case 'force_not_null': {
        if (forceNotNull !== null) throw conflicting(o);
        const list = columnList(o);
        if (list === '*') throw invalidParameter(`argument to option "${o.name}" must be a list of column names`);
        forceNotNull = list;
        break;
      }
      case 'force_null': {
        if (forceNull !== null) throw conflicting(o);
        const list = columnList(o);
        if (list === '*') throw invalidParameter(`argument to option "${o.name}" must be a list of column names`);
        forceNull = list;
        break;
      }
      case 'encoding': {
        if (encoding !== null) throw conflicting(o);
        encoding = optionString(o);
        const clean = encoding.toLowerCase().replace(/[^a-z0-9]/g, '');
        if (clean !== 'utf8' && clean !== 'unicode') {
          throw featureNotSupported(`COPY ENCODING "${encoding}" is not supported: tenantgate writes UTF8 only`);
        }
        break;
      }
      default:
        throw new PgError(SqlState.SyntaxError, `option "${o.name}" not recognized`, { position: o.at.start + 1 });
    }
  }
  const binary = format === 'binary';
  const csv = format === 'csv';
  if (binary && delimiter !== null) throw new PgError(SqlState.SyntaxError, 'cannot specify DELIMITER in BINARY mode');
  if (binary && nullText !== null) throw new PgError(SqlState.SyntaxError, 'cannot specify NULL in BINARY mode');
  const delim = delimiter ?? (csv ? ',' : '\t');
  const nullPrint = nullText ?? (csv ? '' : '\\N');
  const q = quote ?? (csv ? '"' : null);
  const e = escape ?? (csv ? q : null);
  if (!singleByte(delim)) throw featureNotSupported('COPY delimiter must be a single one-byte character');
  if (delim === '\r' || delim === '\n') throw invalidParameter('COPY delimiter cannot be newline or carriage return');
  if (nullPrint.includes('\r') || nullPrint.includes('\n')) {
    throw invalidParameter('COPY null representation cannot use newline or carriage return');
  }
  if (!csv && '\\.abcdefghijklmnopqrstuvwxyz0123456789'.includes(delim)) throw invalidParameter(`COPY delimiter cannot be "${delim}"`);
  if (binary && header) throw featureNotSupported('cannot specify HEADER in BINARY mode');
  if (!csv && quote !== null) throw featureNotSupported('COPY quote available only in CSV mode');
  if (csv && !singleByte(q!)) throw featureNotSupported('COPY quote must be a single one-byte character');
  if (csv && delim === q) throw invalidParameter('COPY delimiter and quote must be different');
  if (!csv && escape !== null) throw featureNotSupported('COPY escape available only in CSV mode');
  if (csv && !singleByte(e!)) throw featureNotSupported('COPY escape must be a single one-byte character');
  if (!csv && forceQuote !== null) throw featureNotSupported('COPY force quote available only in CSV mode');
  if (!csv && forceNotNull !== null) throw featureNotSupported('COPY force not null available only in CSV mode');
  if (forceNotNull !== null) throw featureNotSupported('COPY force not null only available using COPY FROM');
  if (!csv && forceNull !== null) throw featureNotSupported('COPY force null available only in CSV mode');
  if (forceNull !== null) throw featureNotSupported('COPY force null only available using COPY FROM');
  if (nullPrint.includes(delim)) throw invalidParameter('COPY delimiter must not appear in the NULL specification');
  if (csv && nullPrint.includes(q!)) throw invalidParameter('CSV quote character must not appear in the NULL specification');
  return {
    format: format ?? 'text',
    delimiter: delim,
    null: nullPrint,
    header: header ?? false,
    quote: q ?? '"',
    escape: e ?? '"',
    forceQuote: forceQuote ?? [],
  };
}

/** `( name [arg] [, ...] )`: the options of PostgreSQL 9.0 on. */
function genericOptions(r: Reader): CopyOption[] {
  const out: CopyOption[] = [];
  r.expectOp('(');
  for (;;) {
    const at = r.peek();
    const name = r.name();
    let arg: OptionArg = null;
    const t = r.peek();
    if (!t) throw r.syntax();
    if (t.kind === 'string') {
      arg = { kind: 'string', value: t.value };
      r.i++;
    } else if (t.kind === 'number' || ((r.isOp('-') || r.isOp('+')) && r.peek(1)?.kind === 'number')) {
      const sign = t.kind === 'op' ? (t.value === '-' ? '-' : '') : '';
      if (t.kind === 'op') r.i++;
      arg = { kind: 'number', value: sign + r.peek()!.value };
      r.i++;
    } else if (t.kind === 'word' || t.kind === 'ident') {
      arg = { kind: 'string', value: r.name() };
    } else if (r.acceptOp('*')) {
      arg = { kind: 'star' };
    } else if (r.isOp('(')) {
      r.i++;
      const items: string[] = [];
      for (;;) {
        const item = r.peek();
        if (item?.kind === 'string') {
          items.push(item.value);
          r.i++;
        } else items.push(r.name());
        if (r.acceptOp(')')) break;
        r.expectOp(',');
      }
      arg = { kind: 'list', items };
    }
    out.push({ name, arg, at: at! });
    if (r.acceptOp(')')) break;
    r.expectOp(',');
  }
  r.end();
  return out;
}

/** A column list without parentheses (the old FORCE QUOTE a, b). */
function columnNames(r: Reader): string[] {
  const out = [r.name()];
  while (r.acceptOp(',')) out.push(r.name());
  return out;
}

/** The options of PostgreSQL before 9.0 (`WITH CSV HEADER`, `BINARY`, `DELIMITER AS ','`, ...), as DefElems. */
function oldOptions(r: Reader, into: CopyOption[]): void {
  while (!r.done) {
    const at = r.peek()!;
    const w = r.word();
    const value = (name: string) => {
      r.i++;
      r.accept('AS');
      into.push({ name, arg: { kind: 'string', value: r.string() }, at });
    };
    switch (w) {
      case 'BINARY':
      case 'CSV':
        r.i++;
        into.push({ name: 'format', arg: { kind: 'string', value: w.toLowerCase() }, at });
        break;
      case 'FREEZE':
      case 'HEADER':
        r.i++;
        into.push({ name: w.toLowerCase(), arg: null, at });
        break;
      case 'DELIMITER':
      case 'NULL':
      case 'QUOTE':
      case 'ESCAPE':
        value(w.toLowerCase());
        break;
      case 'ENCODING':
        value('encoding');
        break;
      case 'FORCE': {
        r.i++;
        if (r.accept('QUOTE')) {
          into.push({ name: 'force_quote', arg: r.acceptOp('*') ? { kind: 'star' } : { kind: 'list', items: columnNames(r) }, at });
        } else if (r.accept('NOT')) {
          r.expect('NULL');
          into.push({ name: 'force_not_null', arg: { kind: 'list', items: columnNames(r) }, at });
        } else {
          r.expect('NULL');
          into.push({ name: 'force_null', arg: { kind: 'list', items: columnNames(r) }, at });
        }
        break;
      }
      default:
        throw r.syntax();
    }
  }
}

function parseCopy(r: Reader): CopyStatement {
  r.i = 1;
  // DuckDB's COPY FROM DATABASE a TO b copies one database into another: a write.
  if (r.word() === 'FROM' && r.word(1) === 'DATABASE') {
    throw new PgError(SqlState.ReadOnlySqlTransaction, 'cannot execute COPY FROM DATABASE in a read-only transaction', {
      detail: 'tenantgate gives read-only access: COPY can only write a query\'s rows TO STDOUT.',
    });
  }
  const options: CopyOption[] = [];
  const binaryAt = r.peek();
  if (r.accept('BINARY')) options.push({ name: 'format', arg: { kind: 'string', value: 'binary' }, at: binaryAt! });
  let query: InnerStatement;
  let columns: string[] | null = null;
  let isQuery = false;
  if (r.isOp('(') && !options.length) {
    const close = r.closing();
    if (close === r.i + 1) throw r.syntax(r.peek(1));
    query = r.cut(r.i + 1, close);
    r.i = close + 1;
    isQuery = true;
  } else {
    const parts = [r.name()];
    while (r.acceptOp('.')) parts.push(r.name());
    if (parts.length > 3) throw syntaxError(r.toks[r.i - 1], r.text);
    if (r.isOp('(')) {
      r.i++;
      columns = columnNames(r);
      r.expectOp(')');
      const seen = new Set<string>();
      for (const c of columns) {
        if (seen.has(c)) throw new PgError(SqlState.DuplicateColumn, `column "${c}" specified more than once`);
        seen.add(c);
      }
    }
    const sql = `SELECT ${columns ? columns.map(quoteIdent).join(', ') : '*'} FROM ${parts.map(quoteIdent).join('.')}`;
    query = { text: sql, offset: 0, tokens: [...lex(sql)], generated: true };
  }
  // COPY (query) only goes TO.
  const direction = isQuery ? r.accept('TO') : r.accept('TO', 'FROM');
  if (!direction) throw r.syntax();
  // COPY FROM writes, wherever its rows come from: refused as in a read-only transaction.
  if (direction === 'FROM') {
    throw new PgError(SqlState.ReadOnlySqlTransaction, 'cannot execute COPY FROM in a read-only transaction', {
      detail: 'tenantgate gives read-only access: COPY can only write a query\'s rows TO STDOUT.',
    });
  }
  if (r.accept('PROGRAM')) {
    throw new PgError(SqlState.InsufficientPrivilege, 'COPY to an external program is not allowed', {
      hint: 'COPY ... TO STDOUT works, and so does psql\'s \\copy.',
    });
  }
  if (r.peek()?.kind === 'string') {
    throw new PgError(SqlState.InsufficientPrivilege, 'COPY to a file is not allowed', {
      hint: 'COPY ... TO STDOUT works, and so does psql\'s \\copy.',
    });
  }
  // STDIN and STDOUT both mean the client, either way round, as in PostgreSQL.
  if (!r.accept('STDOUT', 'STDIN')) throw r.syntax();
  r.accept('WITH');
  if (r.isOp('(')) options.push(...genericOptions(r));
  else oldOptions(r, options);
  return { kind: 'copy', query, columns, options: copyOptions(options) };
}

// ---------------------------------------------------------------------------------------
// Cursors

function parseDeclare(r: Reader): WrappedStatement {
  r.i = 1;
  const name = r.name();
  let binary = false;
  let scroll: boolean | null = null;
  let insensitive: boolean | null = null;
  for (;;) {
    const w = r.accept('BINARY', 'ASENSITIVE', 'INSENSITIVE', 'SCROLL', 'NO');
    if (!w) break;
    if (w === 'BINARY') binary = true;
    else if (w === 'ASENSITIVE' || w === 'INSENSITIVE') {
      if (insensitive !== null && insensitive !== (w === 'INSENSITIVE')) {
        throw new PgError(SqlState.InvalidCursorDefinition, 'cannot specify both ASENSITIVE and INSENSITIVE');
      }
      insensitive = w === 'INSENSITIVE';
    } else {
      if (w === 'NO') r.expect('SCROLL');
      if (scroll !== null && scroll !== (w === 'SCROLL')) {
        throw new PgError(SqlState.InvalidCursorDefinition, 'cannot specify both SCROLL and NO SCROLL');
      }
      scroll = w === 'SCROLL';
    }
  }
  r.expect('CURSOR');
  let hold = false;
  if (r.word() === 'WITH' || r.word() === 'WITHOUT') {
    hold = r.word() === 'WITH';
    r.i++;
    r.expect('HOLD');
  }
  r.expect('FOR');
  return { kind: 'declare', name, binary, hold, query: r.rest() };
}

function count(r: Reader): number | 'ALL' | undefined {
  if (r.accept('ALL')) return 'ALL';
  return r.signedInt();
}

function direction(r: Reader): FetchDirection {
  const at = r.peek();
  const w = r.word();
  // FETCH c, FETCH FROM c, FETCH IN c: the next row.
  if (r.toks.length - r.i === 1 || w === 'FROM' || w === 'IN') return { kind: 'forward', count: 1 };
  switch (w) {
    case 'NEXT':
      r.i++;
      return { kind: 'forward', count: 1 };
    case 'PRIOR':
      r.i++;
      return { kind: 'backward', count: 1 };
    case 'FIRST':
      r.i++;
      return { kind: 'absolute', position: 1 };
    case 'LAST':
      r.i++;
      return { kind: 'absolute', position: -1 };
    case 'ABSOLUTE':
    case 'RELATIVE': {
      r.i++;
      const n = r.signedInt();
      if (n === undefined) throw r.syntax();
      return w === 'ABSOLUTE' ? { kind: 'absolute', position: n } : { kind: 'relative', offset: n };
    }
    case 'ALL':
      r.i++;
      return { kind: 'forward', count: 'ALL' };
    case 'FORWARD':
    case 'BACKWARD': {
      r.i++;
      // FORWARD c: one row; FORWARD n c, FORWARD ALL c.
      const n = r.toks.length - r.i > 1 || r.word() === 'ALL' ? count(r) : undefined;
      return turn(w === 'FORWARD' ? 'forward' : 'backward', n ?? 1);
    }
    default: {
      const n = r.signedInt();
      if (n === undefined) throw r.syntax(at);
      return turn('forward', n);
    }
  }
}

/** A negative count turns the direction around, as in PostgreSQL. */
function turn(kind: 'forward' | 'backward', n: number | 'ALL'): FetchDirection {
  if (n !== 'ALL' && n < 0) return { kind: kind === 'forward' ? 'backward' : 'forward', count: -n };
  return { kind, count: n };
}

function parseFetch(r: Reader, move: boolean): WrappedStatement {
  r.i = 1;
  if (r.done) throw r.syntax();
  const dir = direction(r);
  r.accept('FROM', 'IN');
  const name = r.name();
  r.end();
  return { kind: 'fetch', move, name, direction: dir };
}

// ---------------------------------------------------------------------------------------
// PREPARE / EXECUTE

function parsePrepare(r: Reader): WrappedStatement {
  r.i = 1;
  const name = r.name();
  const types: string[] = [];
  if (r.acceptOp('(')) {
    for (;;) {
      types.push(typeName(r));
      if (r.acceptOp(')')) break;
      r.expectOp(',');
    }
  }
  r.expect('AS');
  return { kind: 'prepare', name, types, query: r.rest() };
}

const notConstant = (t: Token | undefined) =>
  new PgError(SqlState.FeatureNotSupported, 'EXECUTE parameters must be constants', {
    ...(t ? { position: t.start + 1 } : {}),
    hint: 'Write each parameter as a literal (\'text\', 42, -1.5, NULL, TRUE), optionally cast with ::type.',
  });

/** One EXECUTE parameter, from i to the end of the reader's tokens. */
function argument(r: Reader): ExecuteArgument {
  const t = r.peek();
  let value: string | null;
  let type: string | null = null;
  if (!t) throw r.syntax();
  if (t.kind === 'string') {
    value = t.value;
    r.i++;
  } else if (t.kind === 'number' || ((r.isOp('-') || r.isOp('+')) && r.peek(1)?.kind === 'number')) {
    const sign = t.kind === 'op' && t.value === '-' ? '-' : '';
    if (t.kind === 'op') r.i++;
    value = sign + r.peek()!.value;
    r.i++;
  } else if (t.kind === 'word' && (t.value === 'NULL' || t.value === 'TRUE' || t.value === 'FALSE')) {
    value = t.value === 'NULL' ? null : t.value.toLowerCase();
    r.i++;
  } else if (t.kind === 'word') {
    // A typed literal: DATE '2024-01-31', TIMESTAMP WITH TIME ZONE '...', INTERVAL '1 day'.
    const start = r.i;
    try {
      type = typeName(r);
    } catch {
      throw notConstant(t);
    }
    if (r.peek()?.kind !== 'string') {
      r.i = start;
      throw notConstant(t);
    }
    value = r.string();
  } else {
    throw notConstant(t);
  }
  while (r.isOp(':') && r.isOp(':', 1)) {
    r.i += 2;
    type = typeName(r);
  }
  if (!r.done) throw notConstant(r.peek());
  return { value, type };
}

function parseExecute(r: Reader): WrappedStatement {
  r.i = 1;
  const name = r.name();
  const args: ExecuteArgument[] = [];
  if (r.isOp('(')) {
    const close = r.closing();
    if (close !== r.toks.length - 1) throw r.syntax(r.toks[close + 1]);
    if (close === r.i + 1) throw r.syntax(r.toks[close]);
    // Split at the commas outside parentheses; each part must be a constant.
    let depth = 0;
    let from = r.i + 1;
    for (let k = r.i + 1; k <= close; k++) {
      const t = r.toks[k]!;
      if (t.kind === 'op' && (t.value === '(' || t.value === '[')) depth++;
      else if (t.kind === 'op' && (t.value === ')' || t.value === ']') && k < close) depth--;
      else if ((k === close || (t.kind === 'op' && t.value === ',' && depth === 0))) {
        if (k === from) throw r.syntax(t);
        const part = new Reader(r.toks.slice(from, k), r.text);
        args.push(argument(part));
        from = k + 1;
      }
    }
    r.i = close + 1;
  }
  r.end();
  return { kind: 'execute', name, args };
}

// ---------------------------------------------------------------------------------------

/**
 * Reads a statement as one of the wrapped statements, or returns null: it is none of
 * them (a query for the gate). Throws PostgreSQL's error for a malformed one, and for
 * what tenantgate refuses outright (COPY FROM, COPY to a file or program).
 */
export function parseWrappedStatement(toks: Token[], stmt: string): WrappedStatement | null {
  const first = toks[0]?.kind === 'word' ? toks[0].value : undefined;
  const r = new Reader(toks, stmt);
  switch (first) {
    case 'COPY':
      return parseCopy(r);
    case 'DECLARE':
      return parseDeclare(r);
    case 'FETCH':
    case 'MOVE':
      return parseFetch(r, first === 'MOVE');
    case 'CLOSE': {
      r.i = 1;
      const name = r.accept('ALL') ? null : r.name();
      r.end();
      return { kind: 'close', name };
    }
    case 'PREPARE':
      // PREPARE TRANSACTION is two-phase commit: not a prepared statement.
      if (toks[1]?.kind === 'word' && toks[1].value === 'TRANSACTION' && toks[2]?.kind === 'string') return null;
      return parsePrepare(r);
    case 'EXECUTE':
      return parseExecute(r);
    case 'DEALLOCATE': {
      r.i = 1;
      r.accept('PREPARE');
      const name = r.accept('ALL') ? null : r.name();
      r.end();
      return { kind: 'deallocate', name };
    }
    default:
      return null;
  }
}

/**
 * The session commands tenantgate answers itself, never passing them to DuckDB:
 * SET / RESET / SHOW, transaction control, DISCARD. Read from the lexer's tokens.
 * Anything that is not one of these is a query for the gate.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { Token } from './lexer.js';

export type SessionCommand =
  | { kind: 'set'; name: string; value: string | null /* null = DEFAULT */; local: boolean }
  | { kind: 'setTransaction'; session: boolean }
  | { kind: 'reset'; name: string | 'ALL' }
  | { kind: 'show'; name: string | 'ALL' }
  | { kind: 'begin'; tag: 'BEGIN' | 'START TRANSACTION' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'discard'; what: 'ALL' | 'PLANS' | 'SEQUENCES' | 'TEMP' }
  | { kind: 'savepoint'; name: string }
  | { kind: 'release'; name: string }
  | { kind: 'rollbackTo'; name: string }
  | { kind: 'unlisten' };

/** What a failed transaction block still runs: the ways out of it. */
export function runsInFailedBlock(cmd: SessionCommand | null | undefined): boolean {
  return cmd?.kind === 'commit' || cmd?.kind === 'rollback' || cmd?.kind === 'rollbackTo';
}

/** A savepoint name: an identifier, folded to lower case unless quoted. */
function savepointName(toks: Token[], i: number, stmt: string): string {
  const t = toks[i];
  if (!t || (t.kind !== 'word' && t.kind !== 'ident')) throw syntax(t, stmt);
  if (i !== toks.length - 1) throw syntax(toks[i + 1], stmt);
  return t.kind === 'word' ? t.value.toLowerCase() : t.value;
}

function syntax(t: Token | undefined, stmt: string): PgError {
  const near = t ? stmt.slice(t.start, t.end) : '';
  return new PgError(
    SqlState.SyntaxError,
    t ? `syntax error at or near "${near}"` : 'syntax error at end of input',
    t ? { position: t.start + 1 } : {},
  );
}

/** A configuration parameter name: word or quoted identifier, possibly dotted (custom.option). */
function readName(toks: Token[], i: number, stmt: string): [string, number] {
  const parts: string[] = [];
  for (;;) {
    const t = toks[i];
    if (!t || (t.kind !== 'word' && t.kind !== 'ident')) throw syntax(t, stmt);
    parts.push(t.kind === 'word' ? t.value.toLowerCase() : t.value);
    i++;
    if (toks[i]?.kind === 'op' && toks[i]!.value === '.') i++;
    else return [parts.join('.'), i];
  }
}

/** The value list of SET: literals, words and signed numbers, comma separated, as PostgreSQL flattens them. */
function readValue(toks: Token[], i: number, stmt: string): string | null {
  if (i >= toks.length) throw syntax(undefined, stmt);
  if (toks.length === i + 1 && toks[i]!.kind === 'word' && toks[i]!.value === 'DEFAULT') return null;
  const items: string[] = [];
  let expectItem = true;
  let sign = '';
  for (; i < toks.length; i++) {
    const t = toks[i]!;
    if (!expectItem) {
      if (t.kind === 'op' && t.value === ',') {
        expectItem = true;
        continue;
      }
      throw syntax(t, stmt);
    }
    if (t.kind === 'op' && (t.value === '-' || t.value === '+') && sign === '') {
      sign = t.value === '-' ? '-' : '';
      if (toks[i + 1]?.kind !== 'number') throw syntax(t, stmt);
      continue;
    }
    if (t.kind === 'string' || t.kind === 'ident') items.push(t.value);
    else if (t.kind === 'number') items.push(sign + t.value);
    else if (t.kind === 'word') items.push(t.value.toLowerCase());
    else throw syntax(t, stmt);
    sign = '';
    expectItem = false;
  }
  if (expectItem) throw syntax(undefined, stmt);
  return items.join(', ');
}

const TRANSACTION_WORDS = new Set(['TRANSACTION', 'WORK']);

/** Returns the session command, or null when the statement is a query for the gate. */
export function parseSessionCommand(toks: Token[], stmt: string): SessionCommand | null {
  const w = (k: number) => (toks[k]?.kind === 'word' ? toks[k]!.value : undefined);
  const first = w(0);
  switch (first) {
    case 'SET': {
      let i = 1;
      let local = false;
      if (w(i) === 'SESSION' && w(i + 1) === 'CHARACTERISTICS') {
        return { kind: 'setTransaction', session: true };
      }
      if (w(i) === 'TRANSACTION') return { kind: 'setTransaction', session: false };
      if (w(i) === 'SESSION' && w(i + 1) !== 'AUTHORIZATION') i++;
      else if (w(i) === 'LOCAL') {
        local = true;
        i++;
      }
      if (w(i) === 'TIME' && w(i + 1) === 'ZONE') {
        const v = w(i + 2) === 'LOCAL' && toks.length === i + 3 ? null : readValue(toks, i + 2, stmt);
        return { kind: 'set', name: 'timezone', value: v, local };
      }
      if (w(i) === 'NAMES') return { kind: 'set', name: 'client_encoding', value: readValue(toks, i + 1, stmt), local };
      if (w(i) === 'SCHEMA') return { kind: 'set', name: 'search_path', value: readValue(toks, i + 1, stmt), local };
      if (w(i) === 'SESSION' || w(i) === 'ROLE') {
        throw new PgError(SqlState.InsufficientPrivilege, `SET ${w(i) === 'ROLE' ? 'ROLE' : 'SESSION AUTHORIZATION'} is not allowed`);
      }
      const [name, next] = readName(toks, i, stmt);
      const sep = toks[next];
      if (!sep) throw syntax(undefined, stmt);
      if (!((sep.kind === 'word' && sep.value === 'TO') || (sep.kind === 'op' && sep.value === '='))) {
        if (sep.kind === 'word' && sep.value === 'FROM') {
          throw new PgError(SqlState.FeatureNotSupported, 'SET ... FROM CURRENT is not supported');
        }
        throw syntax(sep, stmt);
      }
      return { kind: 'set', name, value: readValue(toks, next + 1, stmt), local };
    }
    case 'RESET': {
      if (w(1) === 'ALL' && toks.length === 2) return { kind: 'reset', name: 'ALL' };
      if (w(1) === 'TIME' && w(2) === 'ZONE' && toks.length === 3) return { kind: 'reset', name: 'timezone' };
      const [name, next] = readName(toks, 1, stmt);
      if (next !== toks.length) throw syntax(toks[next], stmt);
      return { kind: 'reset', name };
    }
    case 'SHOW': {
      if (w(1) === 'ALL' && toks.length === 2) return { kind: 'show', name: 'ALL' };
      if (w(1) === 'TIME' && w(2) === 'ZONE' && toks.length === 3) return { kind: 'show', name: 'timezone' };
      if (w(1) === 'TRANSACTION' && w(2) === 'ISOLATION' && w(3) === 'LEVEL' && toks.length === 4) {
        return { kind: 'show', name: 'transaction_isolation' };
      }
      // DuckDB's own SHOW TABLES / SHOW <table> are not PostgreSQL's SHOW: leave them to the gate.
      if (w(1) === 'TABLES' || w(1) === 'DATABASES') return null;
      const [name, next] = readName(toks, 1, stmt);
      if (next !== toks.length) throw syntax(toks[next], stmt);
      return { kind: 'show', name };
    }
    case 'BEGIN':
      return { kind: 'begin', tag: 'BEGIN' };
    case 'START':
      if (w(1) === 'TRANSACTION') return { kind: 'begin', tag: 'START TRANSACTION' };
      return null;
    case 'COMMIT':
    case 'END':
      if (toks.length > 1 && !TRANSACTION_WORDS.has(w(1) ?? '') && w(1) !== 'AND') throw syntax(toks[1], stmt);
      return { kind: 'commit' };
    case 'ROLLBACK':
    case 'ABORT': {
      let i = 1;
      if (w(i) !== undefined && TRANSACTION_WORDS.has(w(i)!)) i++;
      if (w(i) === 'TO') {
        i++;
        if (w(i) === 'SAVEPOINT') i++;
        return { kind: 'rollbackTo', name: savepointName(toks, i, stmt) };
      }
      return { kind: 'rollback' };
    }
    case 'SAVEPOINT':
      return { kind: 'savepoint', name: savepointName(toks, 1, stmt) };
    case 'RELEASE':
      return { kind: 'release', name: savepointName(toks, w(1) === 'SAVEPOINT' ? 2 : 1, stmt) };
    case 'UNLISTEN':
      if (toks.length === 2 && toks[1]!.kind === 'op' && toks[1]!.value === '*') return { kind: 'unlisten' };
      throw new PgError(SqlState.FeatureNotSupported, 'LISTEN/NOTIFY is not supported');
    case 'DISCARD': {
      const what = w(1);
      if (toks.length === 2 && (what === 'ALL' || what === 'PLANS' || what === 'SEQUENCES' || what === 'TEMP')) {
        return { kind: 'discard', what };
      }
      if (toks.length === 2 && what === 'TEMPORARY') return { kind: 'discard', what: 'TEMP' };
      throw syntax(toks[1], stmt);
    }
    default:
      return null;
  }
}

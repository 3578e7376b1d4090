/**
 * Statement fingerprints for the query log: a hash of the statement with its literals
 * normalised away, so that `WHERE id = 1` and `WHERE id = 2` share one fingerprint and
 * no value of the query can be read back from it. Built from the gateway's own lexer
 * (sql/lexer.ts): cheap, deterministic, and independent of DuckDB's parser.
 *
 * Normalisation: strings and numbers become `?`; a list of them (`IN (1, 2, 3)`) becomes
 * one `?`; keywords are upper-cased by the lexer; quoted identifiers stay quoted;
 * comments and layout vanish. Parameters ($1) stay as they are.
 */
import crypto from 'node:crypto';
import { tokens as lex, type Token } from '../sql/lexer.js';

/** The normalised text the fingerprint is the hash of. */
export function normaliseStatement(toks: readonly Token[]): string {
  const out: string[] = [];
  for (const t of toks) {
    let piece: string;
    switch (t.kind) {
      case 'string':
      case 'number':
        piece = '?';
        break;
      case 'ident':
        piece = `"${t.value.replace(/"/g, '""')}"`;
        break;
      case 'semicolon':
        continue;
      default:
        piece = t.value;
    }
    // A sign before a number is part of the literal.
    if (piece === '?' && t.kind === 'number' && out[out.length - 1] === '-') {
      const before = out[out.length - 2];
      if (before === undefined || before === '(' || before === ',' || before === '=' || /^[A-Z]+$/.test(before)) out.pop();
    }
    // `?, ?` collapses to `?`: lists of literals of any length share a fingerprint.
    if (piece === '?' && out[out.length - 1] === ',' && out[out.length - 2] === '?') {
      out.pop();
      continue;
    }
    out.push(piece);
  }
  return out.join(' ');
}

const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex').slice(0, 16);

/** 16 hex digits. `toks`: the statement's tokens when the caller has them (no second lexing). */
export function fingerprint(text: string, toks?: readonly Token[]): string {
  if (toks) return hash(normaliseStatement(toks));
  try {
    return hash(normaliseStatement([...lex(text)]));
  } catch {
    // Text the lexer refuses (an unterminated string): nothing normalises, so nothing of it is kept.
    return hash(`unlexable:${text.length}`);
  }
}

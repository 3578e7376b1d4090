// Reading the files operators load (CSV, TSV, Parquet) and describing tables, shared by the
// per-tenant loads (snapshots.ts) and the shared database (shared.ts).
import type { DuckDBConnection } from '@duckdb/node-api';
import { constants as fsConstants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, TenantError, quoteLiteral } from './ids.js';

export type FileKind = 'csv' | 'tsv' | 'parquet';

/** The kind of a data file, from its extension (InvalidArgumentError for anything else). */
export function fileKind(file: string): FileKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv') return 'tsv';
  if (ext === '.parquet') return 'parquet';
  throw new InvalidArgumentError(
    `unsupported file type ${JSON.stringify(ext || path.basename(file))}: use a .csv, .tsv or .parquet file`,
  );
}

/**
 * The table function reading the file. CSV/TSV use a fixed dialect (comma or tab, double
 * quotes, a header line) in strict mode, so a malformed row is an error rather than a
 * silently re-guessed layout; column types are detected, or given by `types` (file column
 * name → DuckDB type).
 */
export function sourceSql(kind: FileKind, file: string, types?: Map<string, string>): string {
  const f = quoteLiteral(file);
  if (kind === 'parquet') return `read_parquet(${f})`;
  const delim = kind === 'tsv' ? '\t' : ',';
  let sql = `read_csv(${f}, delim=${quoteLiteral(delim)}, quote='"', escape='"', comment='', header=true, skip=0, strict_mode=true, auto_detect=true`;
  if (types && types.size > 0) {
    const entries = [...types].map(([col, type]) => `${quoteLiteral(col)}: ${quoteLiteral(type)}`);
    sql += `, types={${entries.join(', ')}}`;
  }
  return `${sql})`;
}

/** DuckDB's messages run over many lines; keep the part that says what went wrong. */
export function summarizeDuckDBError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const lines: string[] = [];
  for (const raw of message.split('\n')) {
    const line = raw.trim();
    if (line === '') {
      if (lines.length > 0) break;
      continue;
    }
    if (/^(LINE \d+:|Possible (fixes|solutions):|The search space used was:)/.test(line)) break;
    lines.push(line);
    if (lines.length === 3) break;
  }
  const text = lines.reduce((acc, l) => (acc === '' ? l : `${acc}${/[.;:!?]$/.test(acc) ? ' ' : '; '}${l}`), '').replace(/\s+/g, ' ');
  return text.length > 400 ? `${text.slice(0, 400)}...` : text || 'unknown DuckDB error';
}

/** A readable, non-empty regular file whose name DuckDB will not take for a glob pattern. */
export async function checkInputFile(file: string): Promise<void> {
  if (/[*?[\]{}]/.test(file)) {
    throw new InvalidArgumentError(`file names with glob characters (* ? [ ] { }) are not supported: ${file}`);
  }
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TenantError(`file not found: ${file}`);
    throw new TenantError(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new TenantError(`not a regular file: ${file}`);
  try {
    const fh = await open(file, fsConstants.O_RDONLY);
    await fh.close();
  } catch (e) {
    throw new TenantError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (st.size === 0) throw new TenantError(`file is empty: ${file}`);
}

/**
 * The columns (name → type, in order) of table `main.<table>` in the connection's current
 * database, or null when there is no such table.
 */
export async function tableColumns(conn: DuckDBConnection, table: string): Promise<Map<string, string> | null> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = $1
      ORDER BY ordinal_position`,
    [table],
  );
  const rows = reader.getRows();
  if (rows.length === 0) return null; // a table always has at least one column
  return new Map(rows.map((r) => [String(r[0]), String(r[1])]));
}

/** The column names of what `source` (a table function call) reads, in order. */
export async function sourceColumns(conn: DuckDBConnection, source: string): Promise<string[]> {
  const reader = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  return reader.getRows().map((r) => String(r[0]));
}

/** The first value of a result as a number (a count); 0 when there is none. */
export function firstCount(rows: unknown[][]): number {
  const v = rows[0]?.[0];
  return typeof v === 'bigint' || typeof v === 'number' ? Number(v) : 0;
}

/**
 * Checks that a file's columns are exactly a table's (by name, case-insensitively, in any
 * order). Returns table column name (lowercase) → the file's spelling of it.
 */
export function checkColumnsFit(fileColumns: string[], tableColumns: string[], file: string, table: string): Map<string, string> {
  const fileCols = new Map(fileColumns.map((c) => [c.toLowerCase(), c]));
  const tableCols = new Set(tableColumns.map((c) => c.toLowerCase()));
  const extra = [...fileCols.keys()].filter((c) => !tableCols.has(c));
  const missing = tableColumns.filter((c) => !fileCols.has(c.toLowerCase()));
  if (extra.length > 0 || missing.length > 0 || fileCols.size !== fileColumns.length) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    if (extra.length > 0) parts.push(`not in the table: ${fileColumns.filter((c) => extra.includes(c.toLowerCase())).join(', ')}`);
    if (fileCols.size !== fileColumns.length) parts.push('duplicate column names');
    throw new TenantError(`the columns of ${file} do not fit table ${table} (${parts.join('; ')})`);
  }
  return fileCols;
}

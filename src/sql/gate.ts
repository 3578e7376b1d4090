/**
 * The gate: decides whether a statement may run, and produces the SQL that does run.
 *
 * DuckDB's own parser is the authority (json_serialize_sql): the text must be exactly
 * one SELECT-type statement there. The SQL that executes is regenerated from that AST
 * (json_deserialize_sql), never the client's text, so a difference between how two
 * parsers read the text cannot smuggle anything past. Every table function must be on
 * a short allowlist. Refusals say what was refused and why.
 *
 * This is the whole gate for database isolation; shared isolation extends it with the
 * tenant rewrite (the AST walk below is where that hooks in).
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { pgColumnNames, type ColumnNames } from './columnNames.js';
import type { Token } from './lexer.js';

/** The engine's parser, injected so that sql/ does not depend on engine/. */
export interface EngineParser {
  /** json_serialize_sql(text): the AST as JSON text. */
  serialize(sql: string): Promise<string>;
  /** json_deserialize_sql(json): SQL text for an AST. */
  deserialize(json: string): Promise<string>;
}

export interface Verdict {
  /** The SQL to execute, regenerated from the engine's AST. */
  sql: string;
  /** PostgreSQL's names for unnamed result columns. */
  columnNames: ColumnNames;
}

/** Statements that change data or schema: refused as in a read-only transaction. */
const WRITES = new Set([
  'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE',
  'GRANT', 'REVOKE', 'COMMENT', 'COPY', 'VACUUM', 'ANALYZE', 'ANALYSE', 'CLUSTER', 'REINDEX',
  'REFRESH', 'LOCK', 'SECURITY', 'REASSIGN', 'IMPORT',
]);

/** Engine commands a tenant may never run, whatever they would do. */
const ENGINE_COMMANDS = new Set([
  'ATTACH', 'DETACH', 'USE', 'PRAGMA', 'INSTALL', 'LOAD', 'CALL', 'EXPORT', 'CHECKPOINT',
  'FORCE', 'DESCRIBE', 'SUMMARIZE', 'EXPLAIN', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'LISTEN',
  'NOTIFY', 'UNLISTEN', 'DECLARE', 'FETCH', 'MOVE', 'CLOSE', 'DO', 'SAVEPOINT', 'RELEASE',
  'SHOW', 'SET', 'RESET',
]);

/** Table functions a tenant may call. Everything else (file readers, query(), duckdb_*()...) is refused. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest']);

/** Query node types json_serialize_sql produces for reads. */
const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

function refuseByKeyword(tokens: Token[]): PgError {
  const first = tokens[0]?.kind === 'word' ? tokens[0].value : '';
  if (WRITES.has(first)) {
    return new PgError(SqlState.ReadOnlySqlTransaction, `cannot execute ${first} in a read-only transaction`, {
      detail: 'tenantgate gives read-only access: only SELECT queries run.',
    });
  }
  if (ENGINE_COMMANDS.has(first)) {
    return new PgError(SqlState.InsufficientPrivilege, `${first} is not allowed`, {
      detail: 'tenantgate runs SELECT queries only.',
    });
  }
  return new PgError(SqlState.ReadOnlySqlTransaction, 'only a read-only SELECT query can run here', {
    detail: 'tenantgate gives read-only access: only SELECT queries run.',
  });
}

interface SerializedAst {
  error: boolean;
  error_type?: string;
  error_message?: string;
  statements?: { node: { type: string } }[];
}

function engineParseError(ast: SerializedAst, tokens: Token[]): PgError {
  const msg = ast.error_message ?? 'syntax error';
  if (/Only SELECT statements/i.test(msg)) return refuseByKeyword(tokens);
  // DuckDB: 'syntax error at or near "x"' (+ a LINE context we do not forward).
  const first = msg.split('\n')[0]!.replace(/^Parser Error:\s*/, '');
  return new PgError(SqlState.SyntaxError, first);
}

/** Walks every object of the AST, depth first. */
function* walk(node: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(node)) {
    for (const n of node) yield* walk(n);
  } else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    yield o;
    for (const k in o) yield* walk(o[k]);
  }
}

function checkTableFunctions(statement: unknown): void {
  for (const o of walk(statement)) {
    if (o.type === 'TABLE_FUNCTION') {
      const fn = o.function as { function_name?: string; schema?: string } | undefined;
      const name = String(fn?.function_name ?? '').toLowerCase();
      if (!ALLOWED_TABLE_FUNCTIONS.has(name) || (fn?.schema && fn.schema !== 'main' && fn.schema !== 'pg_catalog')) {
        throw new PgError(SqlState.InsufficientPrivilege, `table function ${name || '(unknown)'}() is not allowed`, {
          detail: `Allowed table functions: ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')}.`,
        });
      }
    }
  }
}

export class Gate {
  constructor(private readonly parser: EngineParser) {}

  /** Checks one statement (already split, not a session command) and returns what to run. */
  async check(text: string, tokens: Token[]): Promise<Verdict> {
    // Cheap refusals first: a write never needs a full parse to be refused.
    const first = tokens[0]?.kind === 'word' ? tokens[0].value : '';
    if (WRITES.has(first) || ENGINE_COMMANDS.has(first)) throw refuseByKeyword(tokens);

    const json = await this.parser.serialize(text);
    let ast: SerializedAst;
    try {
      ast = JSON.parse(json) as SerializedAst;
    } catch {
      throw PgError.internal('could not read the parsed statement');
    }
    if (ast.error) throw engineParseError(ast, tokens);
    const statements = ast.statements ?? [];
    if (statements.length !== 1) {
      // The lexer split at top-level semicolons; DuckDB seeing more than one statement
      // here means the two disagree about the text: refuse rather than guess.
      throw new PgError(SqlState.SyntaxError, 'cannot read this text as exactly one statement');
    }
    const type = statements[0]!.node?.type;
    if (!QUERY_NODES.has(type)) throw refuseByKeyword(tokens);
    checkTableFunctions(statements[0]);
    // The AST is passed back as DuckDB produced it (never re-serialised by JSON.stringify),
    // so no number in it is changed on the way.
    return { sql: await this.parser.deserialize(json), columnNames: pgColumnNames(statements[0]) };
  }
}

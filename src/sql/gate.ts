/**
 * The gate: decides whether a statement may run, and produces the SQL that does run.
 *
 * 1. DuckDB's own parser is the authority (json_serialize_sql): the text must be exactly
 *    one SELECT-type statement there.
 * 2. The AST is verified and confined in one walk (confine.ts): allowlisted node kinds
 *    and table functions, every table resolved to the tenant's own tables, shared tables
 *    replaced by subqueries holding only the tenant's rows.
 * 3. node-sql-parser reads the PostgreSQL side in a worker (secondOpinion.ts): where it
 *    can read the statement, it must agree on the statement kind and on the set of
 *    tables, else the statement is refused.
 * 4. The SQL that executes is regenerated from the confined AST (json_deserialize_sql),
 *    never the client's text, so a difference between parsers cannot smuggle text past.
 *
 * Verdicts are cached by (what the tenant may read, SQL text).
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { isLosslessNumber } from 'lossless-json';
import { parseAst, stringifyAst, type AstObject } from './ast.js';
import type { GateContext } from './catalog.js';
import { pgColumnNames, type ColumnNames } from './columnNames.js';
import { Confiner } from './confine.js';
import { ANY_EQ_SQL, CatalogRewriter, normaliseText, relex, tokensByOffset, type SessionFacts } from './catalogRewrite.js';
import { RELATIONS, storedName } from '../catalog/relations.js';
import type { Token } from './lexer.js';
import { castKey, castParameters, type ParameterCasts } from './parameterCasts.js';
import { confinedTableSql, isFiltered, templateKey } from './shareFilterRewrite.js';
import { VerdictCache } from './verdictCache.js';

/** The engine's parser, injected so that sql/ does not depend on engine/. */
export interface EngineParser {
  /** json_serialize_sql(text): the AST as JSON text. */
  serialize(sql: string): Promise<string>;
  /** json_deserialize_sql(json): SQL text for an AST. */
  deserialize(json: string): Promise<string>;
}

/** node-sql-parser's reading of a statement (see secondOpinion.ts). */
export type Opinion =
  | { status: 'parsed'; kind: 'select' | 'write' | 'other'; tables: string[] }
  | { status: 'unparsed' }
  | { status: 'overBudget' };

export interface SecondOpinionReader {
  read(sql: string): Promise<Opinion>;
}

export interface Verdict {
  /** The SQL to execute, regenerated from the confined AST. */
  sql: string;
  /** PostgreSQL's names for unnamed result columns. */
  columnNames: ColumnNames;
  /** It holds values of the session it was made for (current_user, current_setting...). */
  sessionDependent: boolean;
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
  'FORCE', 'EXPLAIN', 'PREPARE', 'EXECUTE', 'DEALLOCATE', 'LISTEN', 'NOTIFY', 'UNLISTEN',
  'DECLARE', 'FETCH', 'MOVE', 'CLOSE', 'DO', 'SAVEPOINT', 'RELEASE', 'SET', 'RESET',
]);

/** Deeper nesting than this is refused before any parser sees it (node-sql-parser overflows at ~5,000). */
export const MAX_NESTING = 256;

/** Largest AST (as JSON text) the gate reads: ~ a 100 KB query of dense expressions. */
export const MAX_AST_JSON = 8 * 1024 * 1024;

/** Confinement templates kept at most (one per shared tenant and table). */
const MAX_TEMPLATES = 50_000;

/** Catalog relations whose rows are the tenant's own: their names, to spot a statement that may read one. */
const TENANT_RELATIONS = RELATIONS.filter((r) => r.kind === 'tenant');
const TENANT_RELATION_NAMES = new Set(TENANT_RELATIONS.map((r) => r.name.toUpperCase()));

/** Where a statement runs without a session (tests, tools): session functions are not available. */
const NO_SESSION: SessionFacts = {
  user: '',
  pid: 0,
  setting: () => {
    throw new PgError(SqlState.FeatureNotSupported, 'session settings are not available here');
  },
};

const READ_ONLY_DETAIL = 'tenantgate gives read-only access: only SELECT queries run.';

function refuseByKeyword(tokens: Token[]): PgError {
  const first = tokens[0]?.kind === 'word' ? tokens[0].value : '';
  if (WRITES.has(first)) {
    return new PgError(SqlState.ReadOnlySqlTransaction, `cannot execute ${first} in a read-only transaction`, { detail: READ_ONLY_DETAIL });
  }
  if (first === 'PIVOT' || first === 'UNPIVOT') {
    // DuckDB plans a PIVOT without an IN list as several statements, which cannot be checked.
    return new PgError(SqlState.FeatureNotSupported, `${first} without an IN list is not supported`, {
      hint: 'List the pivot values: PIVOT t ON col IN (value1, value2, ...) USING ...',
    });
  }
  if (ENGINE_COMMANDS.has(first)) {
    return new PgError(SqlState.InsufficientPrivilege, `${first} is not allowed`, { detail: 'tenantgate runs SELECT queries only.' });
  }
  return new PgError(SqlState.ReadOnlySqlTransaction, 'only a read-only SELECT query can run here', { detail: READ_ONLY_DETAIL });
}

/** SELECT ... INTO creates a table in PostgreSQL: a write, whatever DuckDB makes of it. */
function selectInto(tokens: Token[]): boolean {
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && t.value === '(') depth++;
    else if (t.kind === 'op' && t.value === ')') depth--;
    else if (depth === 0 && t.kind === 'word' && t.value === 'INTO' && next(tokens, t)?.value !== 'NAME') return true;
  }
  return false;
}

/** The token after `t` (UNPIVOT's `INTO NAME n VALUE v` is not SELECT INTO). */
function next(tokens: Token[], t: Token): Token | undefined {
  return tokens[tokens.indexOf(t) + 1];
}

function checkNesting(tokens: Token[]): void {
  let depth = 0;
  for (const t of tokens) {
    if (t.kind !== 'op') continue;
    if (t.value === '(' || t.value === '[' || t.value === '{') {
      if (++depth > MAX_NESTING) {
        throw new PgError(SqlState.StatementTooComplex, `statement is nested too deeply (more than ${MAX_NESTING} levels)`);
      }
    } else if (t.value === ')' || t.value === ']' || t.value === '}') depth--;
  }
}

interface SerializedAst {
  error?: boolean;
  error_type?: string;
  error_message?: string;
  statements?: AstObject[];
}

function engineParseError(ast: SerializedAst, tokens: Token[]): PgError {
  const msg = String(ast.error_message ?? 'syntax error');
  if (/Only SELECT statements/i.test(msg)) return refuseByKeyword(tokens);
  const first = msg.split('\n')[0]!.replace(/^Parser Error:\s*/, '');
  return new PgError(SqlState.SyntaxError, first);
}

/**
 * DuckDB writes a VALUES list back as `(SELECT * FROM (VALUES ...) AS x) AS x`; read
 * again, that is a subquery around the list. Undo that one known wrapping.
 */
function unwrapValues(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrapValues);
  if (v === null || typeof v !== 'object' || isLosslessNumber(v)) return v;
  const o = v as Record<string, unknown>;
  if (o.type === 'SUBQUERY' && typeof o.subquery === 'object' && o.subquery !== null) {
    const node = (o.subquery as Record<string, unknown>).node as Record<string, unknown> | undefined;
    const list = node?.select_list as Record<string, unknown>[] | undefined;
    const from = node?.from_table as Record<string, unknown> | undefined;
    const plainStar = list?.length === 1 && list[0]!.class === 'STAR' && list[0]!.relation_name === '' && list[0]!.expr === null;
    const cte = node?.cte_map as { map?: unknown[] } | undefined;
    if (
      node?.type === 'SELECT_NODE' && plainStar && from?.type === 'EXPRESSION_LIST' && from.alias === o.alias &&
      node.where_clause === null && (node.modifiers as unknown[]).length === 0 && (cte?.map ?? []).length === 0 &&
      (o.column_name_alias as unknown[] | undefined)?.length === 0
    ) {
      return unwrapValues(from);
    }
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = unwrapValues(o[k]);
  return out;
}

/**
 * The numeric value of a constant (DuckDB writes a DOUBLE constant such as 2.5e-3 back as
 * -0.0025, which reads again as DECIMAL(5,4) -25): a number is never a name, so two
 * numeric constants are the same when their values are.
 */
function numericConstant(o: Record<string, unknown>): number | undefined {
  if (o.class !== 'CONSTANT' || typeof o.value !== 'object' || o.value === null) return undefined;
  const v = o.value as Record<string, unknown>;
  const type = v.type as { id?: string; type_info?: { scale?: unknown } } | undefined;
  if (v.is_null !== false || !type || !isLosslessNumber(v.value)) return undefined;
  const raw = Number(v.value.value);
  if (type.id === 'DECIMAL') return raw / 10 ** Number(String(type.type_info?.scale ?? 0));
  return ['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UBIGINT', 'FLOAT', 'DOUBLE'].includes(type.id ?? '') ? raw : undefined;
}

function sameNumericConstant(a: Record<string, unknown>, b: Record<string, unknown>): boolean | undefined {
  const x = numericConstant(a);
  const y = numericConstant(b);
  if (x === undefined || y === undefined) return undefined;
  return x === y && a.alias === b.alias;
}

/** Structural equality of two ASTs, query locations aside (they refer to different texts). */
function sameAst(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameAst(x, b[i]));
  }
  if (isLosslessNumber(a) || isLosslessNumber(b)) {
    return isLosslessNumber(a) && isLosslessNumber(b) && a.value === b.value;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(b)) return false;
  const numbers = sameNumericConstant(a as Record<string, unknown>, b as Record<string, unknown>);
  if (numbers !== undefined) return numbers;
  const ka = Object.keys(a).filter((k) => k !== 'query_location');
  const kb = Object.keys(b).filter((k) => k !== 'query_location');
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  return ka.every((k) => k in ob && sameAst((a as Record<string, unknown>)[k], ob[k]));
}

function sameSet(a: ReadonlySet<string>, b: readonly string[]): boolean {
  const bs = new Set(b);
  if (bs.size !== a.size) return false;
  for (const x of a) if (!bs.has(x)) return false;
  return true;
}

/** Query node types: SELECT and its set operations and CTEs (the only statements that run). */
const QUERY_NODE_TYPES: ReadonlySet<string> = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);

/** A write or an engine command, seen from its first word: refused before any parsing. */
function refuseWrites(tokens: Token[]): void {
  const first = tokens[0]?.kind === 'word' ? tokens[0].value : '';
  if (WRITES.has(first) || ENGINE_COMMANDS.has(first)) throw refuseByKeyword(tokens);
}

/**
 * The text DuckDB's parser reads: what it cannot read of PostgreSQL's syntax normalised
 * away, checked for nesting and for SELECT INTO (a write).
 */
function normalised(clientText: string, clientTokens: Token[]): { text: string; tokens: Token[] } {
  const text = normaliseText(clientText, clientTokens);
  const tokens = text === clientText ? clientTokens : relex(text);
  checkNesting(tokens);
  if (selectInto(tokens)) {
    throw new PgError(SqlState.ReadOnlySqlTransaction, 'cannot execute SELECT INTO in a read-only transaction', { detail: READ_ONLY_DETAIL });
  }
  return { text, tokens };
}

/** json_serialize_sql's output, read: exactly one statement, or the error PostgreSQL would give. */
function readOne(json: string, tokens: Token[]): { ast: SerializedAst; statement: AstObject } {
  if (json.length > MAX_AST_JSON) {
    // Reading a huge AST would hold the event loop for everyone; no real query needs one.
    throw new PgError(SqlState.StatementTooComplex, 'statement is too complex (its syntax tree is too large)');
  }
  const ast = parseAst(json) as SerializedAst;
  if (ast.error) throw engineParseError(ast, tokens);
  const statements = ast.statements ?? [];
  if (statements.length !== 1) {
    // The lexer split at top-level semicolons; DuckDB seeing more than one statement
    // here means the two disagree about the text: refuse rather than guess.
    throw new PgError(SqlState.SyntaxError, 'cannot read this text as exactly one statement');
  }
  return { ast, statement: statements[0]! };
}

export class Gate {
  private readonly verdicts: VerdictCache<Verdict>;
  /** Serialised confinement subqueries, by templateKey (which names the data's version). */
  private readonly templates = new Map<string, string>();
  private readonly opinionQueues = new Map<string, Promise<void>>();
  /** Serialised confined subqueries of the tenant catalog relations, by tenant then stored name. */
  private readonly catalogTemplates = new Map<string, Map<string, string>>();
  /** Verdicts that depend on the session: the cache key then includes the session's. */
  private readonly sessionDependent = new Set<string>();

  constructor(
    private readonly parser: EngineParser,
    private readonly secondOpinion: SecondOpinionReader | null,
    cacheEntries = 10_000,
  ) {
    this.verdicts = new VerdictCache(cacheEntries);
  }

  get cacheSize(): number {
    return this.verdicts.size;
  }

  /**
   * Checks one statement (already split, not a session command) and returns what to run.
   * `casts` are the declared types of its parameters (see parameterCasts.ts).
   */
  async check(
    clientText: string,
    clientTokens: Token[],
    ctx: GateContext,
    casts: ParameterCasts = [],
    session: SessionFacts & { key?: string } = NO_SESSION,
  ): Promise<Verdict> {
    // Cheap refusals first: a write never needs a full parse to be refused.
    refuseWrites(clientTokens);
    const baseKey = `${ctx.version}\0${ctx.tenantId}\0${castKey(casts)}\0${clientText}`;
    const key = this.sessionDependent.has(baseKey) ? `${baseKey}\0${session.key ?? ''}` : baseKey;
    const cached = this.verdicts.get(key);
    if (cached) return cached;
    const { text, tokens } = normalised(clientText, clientTokens);
    const [json, opinion] = await Promise.all([this.parser.serialize(text), this.opinion(ctx.tenantId, text)]);
    const { ast, statement } = readOne(json, tokens);
    const columnNames = pgColumnNames(statement);
    await this.ensureTemplates(ctx);
    const catalogTemplates = await this.ensureCatalogTemplates(ctx, tokens);
    const byOffset = tokensByOffset(text, tokens);
    const anyEq = tokens.some((t) => t.kind === 'word' && (t.value === 'ANY' || t.value === 'SOME' || t.value === 'ALL')) ? await this.anyEqTemplate() : undefined;
    const pg = new CatalogRewriter(ctx, session, tokens, byOffset, anyEq);
    const { tables, catalog } = new Confiner(ctx, this.templates, pg, catalogTemplates).statement(statement);
    this.compare(opinion, tables, catalog);
    const sql = await this.regenerate(ast, statement, casts);
    const verdict: Verdict = { sql, columnNames, sessionDependent: pg.usedSession };
    if (pg.usedSession) {
      if (this.sessionDependent.size > 100_000) this.sessionDependent.clear();
      this.sessionDependent.add(baseKey);
      this.verdicts.set(`${baseKey}\0${session.key ?? ''}`, verdict, text.length);
    } else {
      this.verdicts.set(baseKey, verdict, text.length);
    }
    return verdict;
  }

  /**
   * The operator's check (the admin database): exactly one SELECT-type statement as
   * DuckDB reads it, regenerated from its AST like every statement, but not confined:
   * the admin reads every tenant's data, all of it attached read-only.
   */
  async checkReadOnly(clientText: string, clientTokens: Token[], casts: ParameterCasts = []): Promise<Verdict> {
    refuseWrites(clientTokens);
    const key = `\0admin\0${castKey(casts)}\0${clientText}`;
    const cached = this.verdicts.get(key);
    if (cached) return cached;
    const { text, tokens } = normalised(clientText, clientTokens);
    const { ast, statement } = readOne(await this.parser.serialize(text), tokens);
    const node = (statement as { node?: { type?: unknown } }).node;
    if (!QUERY_NODE_TYPES.has(String(node?.type))) {
      throw new PgError(SqlState.ReadOnlySqlTransaction, 'only queries can run on the admin database', { detail: READ_ONLY_DETAIL });
    }
    const verdict: Verdict = { sql: await this.regenerate(ast, statement, casts), columnNames: pgColumnNames(statement), sessionDependent: false };
    this.verdicts.set(key, verdict, text.length);
    return verdict;
  }

  /** The SQL that runs: the (confined) AST with its parameters' casts, as DuckDB writes it back. */
  private async regenerate(ast: SerializedAst, statement: AstObject, casts: ParameterCasts): Promise<string> {
    ast.statements = [castParameters(statement, casts) as AstObject];
    const sql = await this.parser.deserialize(stringifyAst(ast));
    await this.checkRoundTrip(sql, ast);
    return sql;
  }

  private anyEq: Promise<string> | null = null;

  /** ANY_EQ_SQL as DuckDB's parser reads it, serialised once. */
  private anyEqTemplate(): Promise<string> {
    this.anyEq ??= this.parser.serialize(ANY_EQ_SQL);
    this.anyEq.catch(() => (this.anyEq = null));
    return this.anyEq;
  }

  /**
   * The confined subqueries of the tenant's catalog relations, parsed by DuckDB once per
   * tenant, when a statement names one of them.
   */
  private async ensureCatalogTemplates(ctx: GateContext, tokens: Token[]): Promise<ReadonlyMap<string, string>> {
    const mentions = tokens.some((t) => (t.kind === 'word' && TENANT_RELATION_NAMES.has(t.value)) || (t.kind === 'ident' && TENANT_RELATION_NAMES.has(t.value.toUpperCase())));
    let mine = this.catalogTemplates.get(ctx.tenantId);
    if (!mentions || mine) return mine ?? new Map();
    if (this.catalogTemplates.size > MAX_TEMPLATES / TENANT_RELATIONS.length) this.catalogTemplates.clear();
    mine = new Map();
    for (const rel of TENANT_RELATIONS) {
      mine.set(storedName(rel), await this.parser.serialize(CatalogRewriter.confinedSql(rel, ctx.tenantId)));
    }
    this.catalogTemplates.set(ctx.tenantId, mine);
    return mine;
  }

  /**
   * node-sql-parser's reading, one statement at a time per tenant: a tenant's hostile
   * statements queue behind each other, so they hold at most one parser worker and
   * cannot starve other tenants' statements.
   */
  private opinion(tenantId: string, text: string): Promise<Opinion> {
    const reader = this.secondOpinion;
    if (!reader) return Promise.resolve({ status: 'unparsed' });
    const previous = this.opinionQueues.get(tenantId) ?? Promise.resolve();
    const mine = previous.then(() => reader.read(text));
    const tail = mine.then(
      () => undefined,
      () => undefined,
    );
    this.opinionQueues.set(tenantId, tail);
    void tail.then(() => {
      if (this.opinionQueues.get(tenantId) === tail) this.opinionQueues.delete(tenantId);
    });
    return mine;
  }

  /**
   * Where node-sql-parser could read the statement, it must see the tables DuckDB saw.
   * PostgreSQL catalog relations are left out of the comparison: they hold only the
   * tenant's own rows whoever reads them, and node-sql-parser loses some of them in the
   * nested joins drivers write (psqlODBC's SQLColumns).
   */
  private compare(opinion: Opinion, tables: ReadonlySet<string>, catalog: ReadonlySet<string> = new Set()): void {
    if (opinion.status === 'unparsed') return;
    if (opinion.status === 'overBudget') {
      throw new PgError(SqlState.StatementTooComplex, 'statement is too complex to check');
    }
    if (opinion.kind === 'write') {
      throw new PgError(SqlState.ReadOnlySqlTransaction, 'cannot execute a write in a read-only transaction', { detail: READ_ONLY_DETAIL });
    }
    const theirs = opinion.kind === 'select' ? opinion.tables.filter((t) => !catalog.has(t) && !t.startsWith('pg_')) : [];
    if (opinion.kind !== 'select' || !sameSet(tables, theirs)) {
      throw new PgError(SqlState.InsufficientPrivilege, 'statement refused: it reads differently to the two SQL parsers that check it', {
        detail: 'Rewrite it in plain PostgreSQL or plain DuckDB syntax.',
      });
    }
  }

  /**
   * The regenerated SQL must parse back to exactly the AST it was made from. DuckDB's
   * deserialiser writes some names without quoting them (a qualified star's table name,
   * for one): text hidden in such a name would otherwise run unchecked.
   */
  private async checkRoundTrip(sql: string, ast: SerializedAst): Promise<void> {
    const again = parseAst(await this.parser.serialize(sql)) as SerializedAst;
    if (again.error || !sameAst(unwrapValues(again.statements), ast.statements)) {
      throw new PgError(SqlState.InsufficientPrivilege, 'statement refused: it does not survive a round trip through the parser', {
        detail: 'A name in it would be read as SQL. Quote or rename it.',
      });
    }
  }

  /**
   * The confinement subqueries of the context's shared and windowed tables, parsed by
   * DuckDB once per table, tenant and version of the data.
   */
  private async ensureTemplates(ctx: GateContext): Promise<void> {
    if (this.templates.size > MAX_TEMPLATES) this.templates.clear();
    for (const table of ctx.tables.values()) {
      const k = templateKey(table, ctx);
      if (this.templates.has(k)) continue;
      let sql: string;
      try {
        if (!isFiltered(table, ctx)) continue;
        sql = confinedTableSql(table, ctx);
      } catch (e) {
        // A table that cannot be confined is refused when a statement names it, not before.
        if (e instanceof PgError) continue;
        throw e;
      }
      this.templates.set(k, await this.parser.serialize(sql));
    }
  }

}

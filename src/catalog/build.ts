/**
 * Writes the two DuckDB databases that answer PostgreSQL catalog queries:
 *
 * - the static catalog (STATIC_DB), built once per process: built-in types, their I/O
 *   functions, settings, keywords, the empty relations, and the macros that emulate
 *   PostgreSQL's catalog functions;
 * - a tenant catalog (TENANT_DB) per instance: one row set per tenant the instance
 *   serves (its tables, columns, database, roles), each row tagged with the tenant id.
 *
 * Both are attached READ_ONLY to an instance before its configuration is locked; the
 * gate points catalog references at them (see catalogRewrite.ts). Every value written
 * here is quoted as a literal: table and column names are tenant data.
 */
import fs from 'node:fs';
import { DuckDBInstance, DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../sql/quote.js';
import { pgFieldTypeFor } from '../wire/pgTypes.js';
import { SETTINGS_CATALOG } from '../session/settings.js';
import { PG_AM, PG_COLLATION, type CatalogData, PG_FORMAT_TYPE, PG_KEYWORDS, PG_PROC, PG_RANGE, PG_TYPE } from './pgData.js';
import { tableOids } from './oids.js';
import { CATALOG_TENANT_COLUMN, NAMESPACE, OWNER_OID, RELATIONS, storedName, type Relation } from './relations.js';
import { STATIC_DB_NAME, STATIC_MACROS, TENANT_DB_NAME, TENANT_MACROS } from './functions.js';

/** Names the catalog databases are attached under; no tenant id can take them (pg_ is reserved). */
export const STATIC_DB = STATIC_DB_NAME;
export const TENANT_DB = TENANT_DB_NAME;


export interface CatalogColumn {
  name: string;
  type: DuckDBType;
  nullable: boolean;
}

export interface CatalogTableInput {
  name: string;
  columns: CatalogColumn[];
}

export interface TenantCatalogInput {
  tenantId: string;
  /** Login names of the tenant's users; the first owns the tenant's objects. */
  users: string[];
  tables: CatalogTableInput[];
}

type Value = string | number | boolean | null | readonly (string | number)[];


function literal(v: Value, type: string): string {
  if (v === null) return `NULL::${type}`;
  if (Array.isArray(v)) return `${v.length === 0 ? '[]' : `[${v.map((x) => literal(x, type.replace('[]', ''))).join(', ')}]`}::${type}`;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return `${v}::${type}`;
  return `${quoteLiteral(String(v))}::${type}`;
}

/** CREATE TABLE ... AS VALUES for rows in the relation's column order (plus any leading columns). */
function createTable(db: string, name: string, columns: { name: string; type: string }[], rows: readonly (readonly Value[])[]): string {
  for (const r of rows) {
    if (r.length !== columns.length) throw new Error(`catalog relation ${name}: a row has ${r.length} values for ${columns.length} columns`);
  }
  const target = `${quoteIdent(db)}.main.${quoteIdent(name)}`;
  const defs = columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ');
  if (rows.length === 0) return `CREATE TABLE ${target} (${defs});`;
  const values = rows.map((r) => `(${r.map((v, i) => literal(v, columns[i]!.type)).join(', ')})`).join(',\n');
  return `CREATE TABLE ${target} (${defs});\nINSERT INTO ${target} VALUES ${values};`;
}

function fromData(rel: Relation, data: CatalogData): (readonly Value[])[] {
  const index = rel.columns.map((c) => data.columns.indexOf(c.name));
  return data.rows.map((row) => index.map((i) => (i < 0 ? null : (row[i] ?? null))));
}

/** Built-in types by OID, as records. */
interface TypeRecord {
  oid: number;
  typname: string;
  typlen: number;
  typbyval: boolean;
  typelem: number;
}
const TYPE_BY_OID = new Map<number, TypeRecord>(
  PG_TYPE.rows.map((r) => {
    const o = Object.fromEntries(PG_TYPE.columns.map((c, i) => [c, r[i]]));
    const t = { oid: Number(o.oid), typname: String(o.typname), typlen: Number(o.typlen), typbyval: o.typbyval === true, typelem: Number(o.typelem) };
    return [t.oid, t];
  }),
);
const FORMAT_BY_OID = new Map(PG_FORMAT_TYPE.rows.map(([oid, name]) => [Number(oid), String(name)]));

/** format_type(oid, NULL) and how a type modifier is written for each built-in type. */
function formatRows(): Value[][] {
  const typmodKind: Record<string, string> = {
    numeric: 'numeric', varchar: 'varchar', bpchar: 'bpchar', timestamp: 'timestamp', timestamptz: 'timestamptz',
    time: 'time', timetz: 'timetz', interval: 'interval', bit: 'bit', varbit: 'varbit',
  };
  return [...FORMAT_BY_OID].map(([oid, name]) => {
    const t = TYPE_BY_OID.get(oid)!;
    const isArray = t.typname.startsWith('_') && t.typelem !== 0;
    const base = isArray ? TYPE_BY_OID.get(t.typelem)?.typname ?? '' : t.typname;
    return [oid, name, typmodKind[base] ?? null, isArray ? '[]' : ''];
  });
}

function staticRows(rel: Relation): (readonly Value[])[] {
  switch (rel.name) {
    case 'pg_type':
      return fromData(rel, PG_TYPE);
    case 'pg_proc':
      return fromData(rel, PG_PROC);
    case 'pg_range':
      return fromData(rel, PG_RANGE);
    case 'pg_am':
      return fromData(rel, PG_AM);
    case 'pg_collation':
      return fromData(rel, PG_COLLATION);
    case 'pg_namespace':
      return [
        [NAMESPACE.pg_catalog, 'pg_catalog', OWNER_OID, null],
        [NAMESPACE.public, 'public', OWNER_OID, null],
        [NAMESPACE.information_schema, 'information_schema', OWNER_OID, null],
      ];
    case 'pg_tablespace':
      return [
        [1663, 'pg_default', OWNER_OID, null, null],
        [1664, 'pg_global', OWNER_OID, null, null],
      ];
    case 'pg_settings':
      return SETTINGS_CATALOG.map((s) => [
        s.name, s.initial, null, 'Client Connection Defaults', s.description, null, s.readOnly ? 'internal' : 'user', 'string',
        'default', null, null, null, s.initial, s.initial, null, null, false,
      ]);
    default:
      return [];
  }
}

/** SQL that creates the static catalog database (attached as STATIC_DB). */
export function staticCatalogSql(): string {
  const db = STATIC_DB;
  const parts: string[] = [];
  for (const rel of RELATIONS) {
    if (rel.kind !== 'static') continue;
    parts.push(createTable(db, storedName(rel), rel.columns, staticRows(rel)));
  }
  parts.push(
    createTable(db, 'tg_format', [
      { name: '__tg_oid', type: 'INTEGER' }, { name: '__tg_name', type: 'VARCHAR' }, { name: '__tg_kind', type: 'VARCHAR' }, { name: '__tg_suffix', type: 'VARCHAR' },
    ], formatRows()),
  );
  const nameTable = (name: string, rows: Value[][]) =>
    createTable(db, name, [{ name: '__tg_oid', type: 'INTEGER' }, { name: '__tg_name', type: 'VARCHAR' }], rows);
  const procName = PG_PROC.columns.indexOf('proname');
  parts.push(nameTable('tg_procs', PG_PROC.rows.map((r) => [Number(r[0]), String(r[procName])])));
  parts.push(nameTable('tg_namespaces', Object.entries(NAMESPACE).map(([name, oid]) => [oid, name])));
  const reserved = PG_KEYWORDS.rows.filter((r) => r[1] !== 'U').map((r) => [String(r[0])]);
  parts.push(createTable(db, 'tg_reserved', [{ name: '__tg_word', type: 'VARCHAR' }], reserved));
  parts.push(
    createTable(db, 'pg_get_keywords', [
      { name: 'word', type: 'VARCHAR' }, { name: 'catcode', type: 'VARCHAR' }, { name: 'barelabel', type: 'BOOLEAN' },
      { name: 'catdesc', type: 'VARCHAR' }, { name: 'baredesc', type: 'VARCHAR' },
    ], PG_KEYWORDS.rows),
  );
  parts.push(
    nameTable('tg_relations', RELATIONS.map((r) => [r.oid, r.name])),
  );
  for (const m of STATIC_MACROS) parts.push(`CREATE MACRO ${quoteIdent(db)}.main.${m};`);
  return parts.join('\n');
}

interface PgColumnType {
  oid: number;
  typmod: number;
  typname: string;
  typlen: number;
  byval: boolean;
  element: number;
}

function pgColumnType(type: DuckDBType): PgColumnType {
  const f = pgFieldTypeFor(type);
  const t = TYPE_BY_OID.get(f.oid);
  return {
    oid: f.oid,
    typmod: f.typmod,
    typname: t?.typname ?? f.name,
    typlen: t?.typlen ?? -1,
    byval: t?.typbyval ?? false,
    element: t?.typelem ?? 0,
  };
}

/** information_schema.columns' data_type and sizes for a column type. */
function infoType(t: PgColumnType, type: DuckDBType): { dataType: string; precision: number | null; radix: number | null; scale: number | null; dtPrecision: number | null } {
  const isArray = t.typname.startsWith('_') && t.element !== 0;
  const dataType = isArray ? 'ARRAY' : FORMAT_BY_OID.get(t.oid) ?? t.typname;
  const ints: Record<string, number> = { int2: 16, int4: 32, int8: 64 };
  if (t.typname in ints) return { dataType, precision: ints[t.typname]!, radix: 2, scale: 0, dtPrecision: null };
  if (t.typname === 'float4') return { dataType, precision: 24, radix: 2, scale: null, dtPrecision: null };
  if (t.typname === 'float8') return { dataType, precision: 53, radix: 2, scale: null, dtPrecision: null };
  if (t.typname === 'numeric') {
    const d = type.typeId === DuckDBTypeId.DECIMAL ? type : null;
    return { dataType, precision: d ? d.width : null, radix: 10, scale: d ? d.scale : null, dtPrecision: null };
  }
  if (['date'].includes(t.typname)) return { dataType, precision: null, radix: null, scale: null, dtPrecision: 0 };
  if (['time', 'timetz', 'timestamp', 'timestamptz', 'interval'].includes(t.typname)) {
    return { dataType, precision: null, radix: null, scale: null, dtPrecision: 6 };
  }
  return { dataType, precision: null, radix: null, scale: null, dtPrecision: null };
}

/** Rows of each tenant relation for one tenant (without the leading tenant column). */
export function tenantRows(input: TenantCatalogInput): Map<string, Value[][]> {
  const rows = new Map<string, Value[][]>(RELATIONS.filter((r) => r.kind === 'tenant').map((r) => [storedName(r), []]));
  const add = (rel: string, row: Value[]) => rows.get(rel)!.push(row);
  const db = input.tenantId;
  const users = input.users.length > 0 ? input.users : [input.tenantId];
  const owner = users[0]!;
  const oids = tableOids(input.tables.map((t) => t.name));
  users.forEach((u, i) => {
    const oid = i === 0 ? OWNER_OID : 16000 + i;
    add('pg_roles', [u, false, true, false, false, true, false, -1, '********', null, false, null, oid]);
    add('pg_user', [u, oid, false, false, false, false, '********', null, null]);
  });
  add('pg_database', [16384, db, OWNER_OID, 6, 'c', false, true, -1, 0, 0, 1663, 'C', 'C', null, null, null]);
  for (const [schema, owned] of [['public', owner], ['pg_catalog', owner], ['information_schema', owner]] as const) {
    add('information_schema.schemata', [db, schema, owned, null, null, null, null]);
  }
  for (const t of input.tables) {
    const oid = oids.get(t.name)!;
    add('pg_class', [
      oid, t.name, NAMESPACE.public, 0, 0, OWNER_OID, 2, oid, 0, 0, -1, 0, 0, false, false, 'p', 'r', t.columns.length, 0,
      false, false, false, false, false, true, 'd', false, 0, 0, 0, null, null, null,
    ]);
    add('pg_tables', ['public', t.name, owner, null, false, false, false, false]);
    add('information_schema.tables', [db, 'public', t.name, 'BASE TABLE', null, null, null, null, null, 'NO', 'NO', null]);
    for (const u of users) add('information_schema.table_privileges', [owner, u, db, 'public', t.name, 'SELECT', 'NO', 'YES']);
    t.columns.forEach((c, i) => {
      const pt = pgColumnType(c.type);
      const isText = ['text', 'varchar', 'bpchar', 'name'].includes(pt.typname);
      const isArray = pt.typname.startsWith('_') && pt.element !== 0;
      add('pg_attribute', [
        oid, c.name, pt.oid, -1, pt.typlen, i + 1, isArray ? 1 : 0, -1, pt.typmod, pt.byval, 'i', pt.byval ? 'p' : 'x', '',
        !c.nullable, false, false, '', '', false, true, 0, isText ? 100 : 0, null, null, null, null,
      ]);
      const info = infoType(pt, c.type);
      add('information_schema.columns', [
        db, 'public', t.name, c.name, i + 1, null, c.nullable ? 'YES' : 'NO', info.dataType, null, isText ? 1073741824 : null,
        info.precision, info.radix, info.scale, info.dtPrecision, null, null, null, null, null, null, null, null, null, null, null,
        db, 'pg_catalog', pt.typname, null, null, null, null, String(i + 1), 'NO', 'NO', null, null,
        null, null, null, 'NO', 'NEVER', null, 'NO',
      ]);
    });
  }
  return rows;
}

/** SQL that creates a tenant catalog database (attached as TENANT_DB, beside STATIC_DB) for the given tenants. */
export function tenantCatalogSql(tenants: readonly TenantCatalogInput[]): string {
  const db = TENANT_DB;
  const all = new Map<string, Value[][]>();
  for (const t of tenants) {
    for (const [rel, rows] of tenantRows(t)) {
      const list = all.get(rel) ?? [];
      for (const r of rows) list.push([t.tenantId, ...r]);
      all.set(rel, list);
    }
  }
  const parts: string[] = [];
  for (const rel of RELATIONS) {
    if (rel.kind !== 'tenant') continue;
    const columns = [{ name: CATALOG_TENANT_COLUMN, type: 'VARCHAR' }, ...rel.columns];
    parts.push(createTable(db, storedName(rel), columns, all.get(storedName(rel)) ?? []));
  }
  // Names by OID for the reg* casts and pg_get_userbyid (see functions.ts on the column names).
  const names: Value[][] = [];
  for (const t of tenants) {
    const rows = all.get('pg_class') ?? [];
    for (const r of rows) if (r[0] === t.tenantId) names.push([t.tenantId, 'class', r[1]!, r[2]!] as Value[]);
    for (const r of all.get('pg_roles') ?? []) if (r[0] === t.tenantId) names.push([t.tenantId, 'role', r[13]!, r[1]!] as Value[]);
  }
  parts.push(
    createTable(db, 'tg_names', [
      { name: '__tg_tenant', type: 'VARCHAR' }, { name: '__tg_kind', type: 'VARCHAR' }, { name: '__tg_oid', type: 'INTEGER' }, { name: '__tg_name', type: 'VARCHAR' },
    ], names),
  );
  for (const m of TENANT_MACROS) parts.push(`CREATE MACRO ${quoteIdent(db)}.main.${m};`);
  return parts.join('\n');
}

/**
 * Writes catalog database files. DuckDB binds a macro's body when it is created, so each
 * file is attached under the name it will be attached under later, beside the static
 * catalog. One writer instance serves every file, one at a time.
 */
export class CatalogWriter {
  private instance: Promise<DuckDBInstance> | null = null;
  private queue: Promise<unknown> = Promise.resolve();

  private open(): Promise<DuckDBInstance> {
    this.instance ??= DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      threads: '1',
    });
    return this.instance;
  }

  /** Writes `file` (which must not exist) from `sql`, attached as `as`. */
  write(file: string, as: string, sql: string, staticFile?: string): Promise<void> {
    const run = this.queue.then(async () => {
      const conn = await (await this.open()).connect();
      const tmp = `${file}.${process.pid}.tmp`;
      fs.rmSync(tmp, { force: true });
      try {
        if (staticFile) await conn.run(`ATTACH ${quoteLiteral(staticFile)} AS ${quoteIdent(STATIC_DB)} (READ_ONLY)`);
        await conn.run(`ATTACH ${quoteLiteral(tmp)} AS ${quoteIdent(as)}`);
        try {
          await conn.run(sql);
        } finally {
          await conn.run(`DETACH ${quoteIdent(as)}`);
        }
        fs.renameSync(tmp, file);
      } finally {
        if (staticFile) await conn.run(`DETACH DATABASE IF EXISTS ${quoteIdent(STATIC_DB)}`).catch(() => undefined);
        conn.closeSync();
        fs.rmSync(tmp, { force: true });
        fs.rmSync(`${tmp}.wal`, { force: true });
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    void this.instance?.then((i) => i.closeSync(), () => undefined);
    this.instance = null;
  }
}

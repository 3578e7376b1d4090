/**
 * The PostgreSQL catalog relations tenantgate answers, with PostgreSQL's column names
 * and (as near as DuckDB has them) its column types. Each relation is one of:
 *
 * - static: the same for every tenant (built-in types, functions, settings...), stored
 *   once per process in the static catalog database;
 * - tenant: rows that describe one tenant's objects (its tables, columns, database,
 *   roles), stored per instance with a leading `tenant` column that the gate filters on
 *   exactly as it confines a shared table, so a tenant sees its own rows only.
 *
 * Relations not listed here do not exist for tenants (42P01), as anything else would
 * have to come from DuckDB's own catalog, which describes the instance, not the tenant.
 */

/** A PostgreSQL type as written in a column list below → the DuckDB type that stores it. */
const DUCKDB_TYPE: Record<string, string> = {
  oid: 'INTEGER',
  regproc: 'INTEGER',
  regtype: 'INTEGER',
  xid: 'INTEGER',
  integer: 'INTEGER',
  smallint: 'SMALLINT',
  bigint: 'BIGINT',
  real: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  name: 'VARCHAR',
  text: 'VARCHAR',
  char: 'VARCHAR',
  pg_node_tree: 'VARCHAR',
  anyarray: 'VARCHAR',
  inet: 'VARCHAR',
  bytea: 'BLOB',
  timestamptz: 'TIMESTAMPTZ',
  'aclitem[]': 'VARCHAR[]',
  'text[]': 'VARCHAR[]',
  'char[]': 'VARCHAR[]',
  'oid[]': 'INTEGER[]',
  'smallint[]': 'SMALLINT[]',
  int2vector: 'SMALLINT[]',
  oidvector: 'INTEGER[]',
};

export interface Column {
  name: string;
  /** DuckDB type of the stored column. */
  type: string;
}

export interface Relation {
  schema: 'pg_catalog' | 'information_schema';
  name: string;
  kind: 'static' | 'tenant';
  columns: Column[];
  /** PostgreSQL's OID of the relation, where clients look it up (`'pg_class'::regclass`). */
  oid: number;
}

function cols(spec: string): Column[] {
  return spec.split(',').map((part) => {
    const [name, ...type] = part.trim().split(/\s+/);
    const pgType = type.join(' ');
    const duck = DUCKDB_TYPE[pgType];
    if (!name || !duck) throw new Error(`catalog column ${part}: unknown type`);
    return { name, type: duck };
  });
}

const PG: [name: string, kind: Relation['kind'], oid: number, columns: string][] = [
  ['pg_class', 'tenant', 1259, 'oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages integer, reltuples real, relallvisible integer, reltoastrelid oid, relhasindex boolean, relisshared boolean, relpersistence char, relkind char, relnatts smallint, relchecks smallint, relhasrules boolean, relhastriggers boolean, relhassubclass boolean, relrowsecurity boolean, relforcerowsecurity boolean, relispopulated boolean, relreplident char, relispartition boolean, relrewrite oid, relfrozenxid xid, relminmxid xid, relacl aclitem[], reloptions text[], relpartbound pg_node_tree'],
  ['pg_attribute', 'tenant', 1249, 'attrelid oid, attname name, atttypid oid, attstattarget integer, attlen smallint, attnum smallint, attndims integer, attcacheoff integer, atttypmod integer, attbyval boolean, attalign char, attstorage char, attcompression char, attnotnull boolean, atthasdef boolean, atthasmissing boolean, attidentity char, attgenerated char, attisdropped boolean, attislocal boolean, attinhcount integer, attcollation oid, attacl aclitem[], attoptions text[], attfdwoptions text[], attmissingval anyarray'],
  ['pg_database', 'tenant', 1262, 'oid oid, datname name, datdba oid, encoding integer, datlocprovider char, datistemplate boolean, datallowconn boolean, datconnlimit integer, datfrozenxid xid, datminmxid xid, dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl aclitem[]'],
  ['pg_roles', 'tenant', 12290, 'rolname name, rolsuper boolean, rolinherit boolean, rolcreaterole boolean, rolcreatedb boolean, rolcanlogin boolean, rolreplication boolean, rolconnlimit integer, rolpassword text, rolvaliduntil timestamptz, rolbypassrls boolean, rolconfig text[], oid oid'],
  ['pg_user', 'tenant', 12294, 'usename name, usesysid oid, usecreatedb boolean, usesuper boolean, userepl boolean, usebypassrls boolean, passwd text, valuntil timestamptz, useconfig text[]'],
  ['pg_tables', 'tenant', 12314, 'schemaname name, tablename name, tableowner name, tablespace name, hasindexes boolean, hasrules boolean, hastriggers boolean, rowsecurity boolean'],
  ['pg_namespace', 'static', 2615, 'oid oid, nspname name, nspowner oid, nspacl aclitem[]'],
  ['pg_type', 'static', 1247, 'oid oid, typname name, typnamespace oid, typowner oid, typlen smallint, typbyval boolean, typtype char, typcategory char, typispreferred boolean, typisdefined boolean, typdelim char, typrelid oid, typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull boolean, typbasetype oid, typtypmod integer, typndims integer, typcollation oid, typdefault text'],
  ['pg_proc', 'static', 1255, 'oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost real, prorows real, provariadic oid, prokind char, prosecdef boolean, proleakproof boolean, proisstrict boolean, proretset boolean, provolatile char, proparallel char, pronargs smallint, pronargdefaults smallint, prorettype oid, proargtypes oidvector, prosrc text'],
  ['pg_range', 'static', 3541, 'rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical regproc, rngsubdiff regproc'],
  ['pg_am', 'static', 2601, 'oid oid, amname name, amhandler regproc, amtype char'],
  ['pg_collation', 'static', 3456, 'oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic boolean, collencoding integer, collcollate text, collctype text'],
  ['pg_tablespace', 'static', 1213, 'oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]'],
  ['pg_settings', 'static', 12240, 'name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, reset_val text, sourcefile text, sourceline integer, pending_restart boolean'],
  ['pg_auth_members', 'static', 1261, 'roleid oid, member oid, grantor oid, admin_option boolean'],
  ['pg_index', 'static', 2610, 'indexrelid oid, indrelid oid, indnatts smallint, indnkeyatts smallint, indisunique boolean, indnullsnotdistinct boolean, indisprimary boolean, indisexclusion boolean, indimmediate boolean, indisclustered boolean, indisvalid boolean, indcheckxmin boolean, indisready boolean, indislive boolean, indisreplident boolean, indkey int2vector, indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, indpred pg_node_tree'],
  ['pg_constraint', 'static', 2606, 'oid oid, conname name, connamespace oid, contype char, condeferrable boolean, condeferred boolean, convalidated boolean, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal boolean, coninhcount integer, connoinherit boolean, conkey smallint[], confkey smallint[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], confdelsetcols smallint[], conexclop oid[], conbin pg_node_tree'],
  ['pg_description', 'static', 2609, 'objoid oid, classoid oid, objsubid integer, description text'],
  ['pg_shdescription', 'static', 2396, 'objoid oid, classoid oid, description text'],
  ['pg_attrdef', 'static', 2604, 'oid oid, adrelid oid, adnum smallint, adbin pg_node_tree'],
  ['pg_inherits', 'static', 2611, 'inhrelid oid, inhparent oid, inhseqno integer, inhdetachpending boolean'],
  ['pg_enum', 'static', 3501, 'oid oid, enumtypid oid, enumsortorder real, enumlabel name'],
  ['pg_policy', 'static', 3256, 'oid oid, polname name, polrelid oid, polcmd char, polpermissive boolean, polroles oid[], polqual pg_node_tree, polwithcheck pg_node_tree'],
  ['pg_statistic_ext', 'static', 3381, 'oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget integer, stxkeys int2vector, stxkind char[], stxexprs pg_node_tree'],
  ['pg_publication', 'static', 6104, 'oid oid, pubname name, pubowner oid, puballtables boolean, pubinsert boolean, pubupdate boolean, pubdelete boolean, pubtruncate boolean, pubviaroot boolean'],
  ['pg_publication_namespace', 'static', 6237, 'oid oid, pnpubid oid, pnnspid oid'],
  ['pg_publication_rel', 'static', 6106, 'oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector'],
  ['pg_trigger', 'static', 2620, 'oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype smallint, tgenabled char, tgisinternal boolean, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable boolean, tginitdeferred boolean, tgnargs smallint, tgattr int2vector, tgargs bytea, tgqual pg_node_tree, tgoldtable name, tgnewtable name'],
  ['pg_rewrite', 'static', 2618, 'oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead boolean, ev_qual pg_node_tree, ev_action pg_node_tree'],
  ['pg_extension', 'static', 3079, 'oid oid, extname name, extowner oid, extnamespace oid, extrelocatable boolean, extversion text, extconfig oid[], extcondition text[]'],
  ['pg_views', 'static', 12302, 'schemaname name, viewname name, viewowner name, definition text'],
  ['pg_matviews', 'static', 12319, 'schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes boolean, ispopulated boolean, definition text'],
  ['pg_indexes', 'static', 12324, 'schemaname name, tablename name, indexname name, tablespace name, indexdef text'],
  ['pg_sequence', 'static', 2224, 'seqrelid oid, seqtypid oid, seqstart bigint, seqincrement bigint, seqmax bigint, seqmin bigint, seqcache bigint, seqcycle boolean'],
  ['pg_sequences', 'static', 12309, 'schemaname name, sequencename name, sequenceowner name, data_type regtype, start_value bigint, min_value bigint, max_value bigint, increment_by bigint, cycle boolean, cache_size bigint, last_value bigint'],
  ['pg_foreign_table', 'static', 3118, 'ftrelid oid, ftserver oid, ftoptions text[]'],
  ['pg_foreign_server', 'static', 1417, 'oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl aclitem[], srvoptions text[]'],
  ['pg_foreign_data_wrapper', 'static', 2328, 'oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl aclitem[], fdwoptions text[]'],
  ['pg_partitioned_table', 'static', 3350, 'partrelid oid, partstrat char, partnatts smallint, partdefid oid, partattrs int2vector, partclass oidvector, partcollation oidvector, partexprs pg_node_tree'],
  ['pg_depend', 'static', 2608, 'classid oid, objid oid, objsubid integer, refclassid oid, refobjid oid, refobjsubid integer, deptype char'],
  ['pg_event_trigger', 'static', 3466, 'oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled char, evttags text[]'],
  ['pg_language', 'static', 2612, 'oid oid, lanname name, lanowner oid, lanispl boolean, lanpltrusted boolean, lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl aclitem[]'],
  ['pg_cast', 'static', 2605, 'oid oid, castsource oid, casttarget oid, castfunc oid, castcontext char, castmethod char'],
  ['pg_operator', 'static', 2617, 'oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind char, oprcanmerge boolean, oprcanhash boolean, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, oprcode regproc, oprrest regproc, oprjoin regproc'],
  ['pg_opclass', 'static', 2616, 'oid oid, opcmethod oid, opcname name, opcnamespace oid, opcowner oid, opcfamily oid, opcintype oid, opcdefault boolean, opckeytype oid'],
  ['pg_stat_activity', 'static', 12252, 'datid oid, datname name, pid integer, leader_pid integer, usesysid oid, usename name, application_name text, client_addr inet, client_hostname text, client_port integer, backend_start timestamptz, xact_start timestamptz, query_start timestamptz, state_change timestamptz, wait_event_type text, wait_event text, state text, backend_xid xid, backend_xmin xid, query_id bigint, query text, backend_type text'],
  ['pg_locks', 'static', 12208, 'locktype text, database oid, relation oid, page integer, tuple smallint, virtualxid text, transactionid xid, classid oid, objid oid, objsubid smallint, virtualtransaction text, pid integer, mode text, granted boolean, fastpath boolean, waitstart timestamptz'],
];

const INFO: [name: string, kind: Relation['kind'], oid: number, columns: string][] = [
  ['tables', 'tenant', 13272, 'table_catalog name, table_schema name, table_name name, table_type text, self_referencing_column_name name, reference_generation text, user_defined_type_catalog name, user_defined_type_schema name, user_defined_type_name name, is_insertable_into text, is_typed text, commit_action text'],
  ['columns', 'tenant', 13340, 'table_catalog name, table_schema name, table_name name, column_name name, ordinal_position integer, column_default text, is_nullable text, data_type text, character_maximum_length integer, character_octet_length integer, numeric_precision integer, numeric_precision_radix integer, numeric_scale integer, datetime_precision integer, interval_type text, interval_precision integer, character_set_catalog name, character_set_schema name, character_set_name name, collation_catalog name, collation_schema name, collation_name name, domain_catalog name, domain_schema name, domain_name name, udt_catalog name, udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name name, maximum_cardinality integer, dtd_identifier name, is_self_referencing text, is_identity text, identity_generation text, identity_start text, identity_increment text, identity_maximum text, identity_minimum text, identity_cycle text, is_generated text, generation_expression text, is_updatable text'],
  ['schemata', 'tenant', 13262, 'catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name, default_character_set_schema name, default_character_set_name name, sql_path text'],
  ['views', 'static', 13388, 'table_catalog name, table_schema name, table_name name, view_definition text, check_option text, is_updatable text, is_insertable_into text, is_trigger_updatable text, is_trigger_deletable text, is_trigger_insertable_into text'],
  ['table_constraints', 'static', 13364, 'constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, table_schema name, table_name name, constraint_type text, is_deferrable text, initially_deferred text, enforced text, nulls_distinct text'],
  ['key_column_usage', 'static', 13293, 'constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, table_schema name, table_name name, column_name name, ordinal_position integer, position_in_unique_constraint integer'],
  ['referential_constraints', 'static', 13313, 'constraint_catalog name, constraint_schema name, constraint_name name, unique_constraint_catalog name, unique_constraint_schema name, unique_constraint_name name, match_option text, update_rule text, delete_rule text'],
  ['routines', 'static', 13325, 'specific_catalog name, specific_schema name, specific_name name, routine_catalog name, routine_schema name, routine_name name, routine_type text, data_type text'],
  ['sequences', 'static', 13347, 'sequence_catalog name, sequence_schema name, sequence_name name, data_type text, numeric_precision integer, numeric_precision_radix integer, numeric_scale integer, start_value text, minimum_value text, maximum_value text, increment text, cycle_option text'],
  ['table_privileges', 'tenant', 13380, 'grantor name, grantee name, table_catalog name, table_schema name, table_name name, privilege_type text, is_grantable text, with_hierarchy text'],
];

export const RELATIONS: readonly Relation[] = [
  ...PG.map(([name, kind, oid, spec]) => ({ schema: 'pg_catalog' as const, name, kind, oid, columns: cols(spec) })),
  ...INFO.map(([name, kind, oid, spec]) => ({ schema: 'information_schema' as const, name, kind, oid, columns: cols(spec) })),
];

/** The name a relation is stored under in the catalog databases. */
export function storedName(r: Relation): string {
  return r.schema === 'pg_catalog' ? r.name : `information_schema.${r.name}`;
}

const BY_SCHEMA = new Map<string, Map<string, Relation>>([
  ['pg_catalog', new Map()],
  ['information_schema', new Map()],
]);
for (const r of RELATIONS) BY_SCHEMA.get(r.schema)!.set(r.name, r);

/** The catalog relation `schema.name` names (schema '' = pg_catalog, always first on the search path). */
export function findRelation(schema: string, name: string): Relation | undefined {
  return BY_SCHEMA.get(schema === '' ? 'pg_catalog' : schema)?.get(name);
}

/** Namespaces every tenant sees: PostgreSQL's OIDs. */
export const NAMESPACE = { pg_catalog: 11, public: 2200, information_schema: 13207 } as const;

/** The column of a tenant catalog relation that says whose row it is. */
export const CATALOG_TENANT_COLUMN = 'tenant';

/** The role that owns every object of a tenant's database (PostgreSQL's bootstrap role OID). */
export const OWNER_OID = 10;

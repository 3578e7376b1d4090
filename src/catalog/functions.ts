/**
 * PostgreSQL's catalog and information functions, as DuckDB macros in the catalog
 * databases (build.ts), and how the gate maps a call onto them (catalogRewrite.ts).
 *
 * DuckDB has macros of its own under some of these names (format_type, pg_get_viewdef,
 * ...); they read DuckDB's catalog of the whole instance, so a tenant's call never
 * reaches them: every name below is rewritten to our macro, and DuckDB's own pg_catalog
 * functions that read the instance are refused (DENIED_ENGINE_CATALOG_FUNCTIONS).
 */
import { quoteLiteral } from '../sql/quote.js';
import { SERVER_VERSION_TEXT } from '../session/settings.js';

export const STATIC_DB_NAME = 'pg_static';
export const TENANT_DB_NAME = 'pg_tenant';

const S = `${STATIC_DB_NAME}.main`;
const T = `${TENANT_DB_NAME}.main`;

const privilege = (allowed: string[]) => (p: string) =>
  `list_has_any(list_transform(string_split(upper(${p}), ','), x -> trim(x)), [${allowed.map(quoteLiteral).join(', ')}])`;
const canSelect = privilege(['SELECT', 'SELECT WITH GRANT OPTION', 'REFERENCES']);

/**
 * Macros of the static catalog: no tenant data. `CREATE MACRO <db>.main.` is prepended.
 * A macro's arguments are pasted into its body, so a subquery in a body reads only the
 * tg_* lookup tables, whose columns (__tg_*) no argument can name by accident: `oid` in
 * `format_type(oid, NULL)` must stay the caller's column.
 */
export const STATIC_MACROS: readonly string[] = [
  `format_type(type_oid, type_mod) AS CASE WHEN type_oid IS NULL THEN NULL ELSE coalesce((
     SELECT CASE WHEN type_mod IS NULL OR type_mod < 0 OR f.__tg_kind IS NULL THEN f.__tg_name ELSE
       CASE f.__tg_kind
         WHEN 'numeric' THEN CASE WHEN type_mod < 4 THEN 'numeric' ELSE 'numeric(' || ((type_mod - 4) >> 16) || ',' || ((type_mod - 4) & 65535) || ')' END
         WHEN 'varchar' THEN 'character varying(' || (type_mod - 4) || ')'
         WHEN 'bpchar' THEN 'character(' || (type_mod - 4) || ')'
         WHEN 'bit' THEN 'bit(' || type_mod || ')'
         WHEN 'varbit' THEN 'bit varying(' || type_mod || ')'
         WHEN 'timestamp' THEN 'timestamp(' || type_mod || ') without time zone'
         WHEN 'timestamptz' THEN 'timestamp(' || type_mod || ') with time zone'
         WHEN 'time' THEN 'time(' || type_mod || ') without time zone'
         WHEN 'timetz' THEN 'time(' || type_mod || ') with time zone'
         ELSE f.__tg_name END || f.__tg_suffix END
     FROM ${S}.tg_format AS f WHERE f.__tg_oid = type_oid), '???') END`,
  `regtype_name(type_oid) AS CASE WHEN type_oid = 0 THEN '-' ELSE ${S}.format_type(type_oid, NULL) END`,
  `regproc_name(proc_oid) AS CASE WHEN proc_oid = 0 THEN '-' ELSE coalesce((SELECT __tg_name FROM ${S}.tg_procs WHERE __tg_oid = proc_oid), CAST(proc_oid AS VARCHAR)) END`,
  `regnamespace_name(ns_oid) AS coalesce((SELECT __tg_name FROM ${S}.tg_namespaces WHERE __tg_oid = ns_oid), CAST(ns_oid AS VARCHAR))`,
  `pg_encoding_to_char(enc) AS CASE enc WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`,
  `pg_char_to_encoding(name) AS CASE upper(name) WHEN 'UTF8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END`,
  `version() AS ${quoteLiteral(SERVER_VERSION_TEXT)}`,
  `current_schemas(include_implicit) AS CASE WHEN include_implicit THEN ['pg_catalog', 'public'] ELSE ['public'] END`,
  `array_upper(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN len(arr) END`,
  `array_lower(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN 1 END`,
  `array_length(arr, dim) AS CASE WHEN dim = 1 AND len(arr) > 0 THEN len(arr) END`,
  `_pg_expandarray(arr) AS unnest(list_transform(range(1, len(arr) + 1), i -> {'x': arr[i], 'n': i}))`,
  `quote_ident(ident) AS CASE WHEN regexp_full_match(ident, '[a-z_][a-z0-9_$]*') AND NOT EXISTS (SELECT 1 FROM ${S}.tg_reserved WHERE __tg_word = ident) THEN ident ELSE '"' || replace(ident, '"', '""') || '"' END`,
  `pg_size_pretty(bytes) AS CASE
     WHEN bytes IS NULL THEN NULL
     WHEN abs(bytes) < 10240 THEN bytes || ' bytes'
     WHEN abs(bytes) < 20971520 - 1024 THEN CAST(round(bytes / 1024) AS BIGINT) || ' kB'
     WHEN abs(bytes) < CAST(21474836480 AS BIGINT) - 1048576 THEN CAST(round(bytes / 1048576) AS BIGINT) || ' MB'
     WHEN abs(bytes) < CAST(21990232555520 AS BIGINT) - 1073741824 THEN CAST(round(bytes / 1073741824) AS BIGINT) || ' GB'
     ELSE CAST(round(bytes / 1099511627776) AS BIGINT) || ' TB' END`,
  `pg_table_is_visible(rel_oid) AS true`,
  `pg_type_is_visible(type_oid) AS true`,
  `pg_function_is_visible(proc_oid) AS true`,
  `obj_description(obj_oid) AS CAST(NULL AS VARCHAR), (obj_oid, catalog_name) AS CAST(NULL AS VARCHAR)`,
  `col_description(rel_oid, col_num) AS CAST(NULL AS VARCHAR)`,
  `shobj_description(obj_oid, catalog_name) AS CAST(NULL AS VARCHAR)`,
  `pg_get_expr(expr, rel_oid) AS CAST(NULL AS VARCHAR), (expr, rel_oid, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_indexdef(index_oid) AS CAST(NULL AS VARCHAR), (index_oid, col, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_constraintdef(con_oid) AS CAST(NULL AS VARCHAR), (con_oid, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_viewdef(view_oid) AS CAST(NULL AS VARCHAR), (view_oid, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_triggerdef(trigger_oid) AS CAST(NULL AS VARCHAR), (trigger_oid, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_ruledef(rule_oid) AS CAST(NULL AS VARCHAR), (rule_oid, pretty) AS CAST(NULL AS VARCHAR)`,
  `pg_get_function_result(proc_oid) AS CAST(NULL AS VARCHAR)`,
  `pg_get_function_arguments(proc_oid) AS CAST(NULL AS VARCHAR)`,
  `pg_get_function_identity_arguments(proc_oid) AS CAST(NULL AS VARCHAR)`,
  `pg_get_statisticsobjdef_columns(stat_oid) AS CAST(NULL AS VARCHAR)`,
  `pg_get_serial_sequence(tab, col) AS CAST(NULL AS VARCHAR)`,
  `pg_relation_is_publishable(rel) AS false`,
  `pg_table_size(rel) AS CAST(NULL AS BIGINT)`,
  `pg_relation_size(rel) AS CAST(NULL AS BIGINT), (rel, fork) AS CAST(NULL AS BIGINT)`,
  `pg_total_relation_size(rel) AS CAST(NULL AS BIGINT)`,
  `pg_indexes_size(rel) AS CAST(NULL AS BIGINT)`,
  `pg_database_size(db) AS CAST(NULL AS BIGINT)`,
  `pg_is_in_recovery() AS false`,
  `txid_current() AS CAST(1 AS BIGINT)`,
  `has_table_privilege(tab, priv) AS ${canSelect('priv')}, (usr, tab, priv) AS ${canSelect('priv')}`,
  `has_column_privilege(tab, col, priv) AS ${canSelect('priv')}, (usr, tab, col, priv) AS ${canSelect('priv')}`,
  `has_any_column_privilege(tab, priv) AS ${canSelect('priv')}, (usr, tab, priv) AS ${canSelect('priv')}`,
  `has_schema_privilege(sch, priv) AS ${privilege(['USAGE'])('priv')}, (usr, sch, priv) AS ${privilege(['USAGE'])('priv')}`,
  `has_database_privilege(db, priv) AS ${privilege(['CONNECT', 'TEMP', 'TEMPORARY'])('priv')}, (usr, db, priv) AS ${privilege(['CONNECT', 'TEMP', 'TEMPORARY'])('priv')}`,
  `has_function_privilege(fn, priv) AS ${privilege(['EXECUTE'])('priv')}, (usr, fn, priv) AS ${privilege(['EXECUTE'])('priv')}`,
  `has_sequence_privilege(seq, priv) AS false, (usr, seq, priv) AS false`,
  `pg_has_role(rol, priv) AS false, (usr, rol, priv) AS false`,
];

/** Macros of a tenant catalog: they read its rows, filtered by the tenant id the gate passes first. */
export const TENANT_MACROS: readonly string[] = [
  `pg_get_userbyid(tenant_id, role_oid) AS coalesce((SELECT __tg_name FROM ${T}.tg_names WHERE __tg_tenant = tenant_id AND __tg_kind = 'role' AND __tg_oid = role_oid), 'unknown (OID=' || role_oid || ')')`,
  `regclass_name(tenant_id, rel_oid) AS CASE WHEN rel_oid = 0 THEN '-' ELSE coalesce(
     (SELECT __tg_name FROM ${T}.tg_names WHERE __tg_tenant = tenant_id AND __tg_kind = 'class' AND __tg_oid = rel_oid),
     (SELECT __tg_name FROM ${S}.tg_relations WHERE __tg_oid = rel_oid), CAST(rel_oid AS VARCHAR)) END`,
  `regrole_name(tenant_id, role_oid) AS coalesce((SELECT __tg_name FROM ${T}.tg_names WHERE __tg_tenant = tenant_id AND __tg_kind = 'role' AND __tg_oid = role_oid), CAST(role_oid AS VARCHAR))`,
];

/** Functions rewritten to the static macro of the same name (called as name(args)). */
export const STATIC_FUNCTIONS: ReadonlySet<string> = new Set(
  STATIC_MACROS.map((m) => m.slice(0, m.indexOf('('))).filter((n) => !n.endsWith('_name')),
);

/** Functions rewritten to a tenant macro, the tenant id passed as first argument. */
export const TENANT_FUNCTIONS: ReadonlySet<string> = new Set(['pg_get_userbyid']);

/** Set-returning catalog functions that are relations of the static catalog. */
export const CATALOG_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['pg_get_keywords']);

/**
 * DuckDB's own pg_catalog macros that read the instance's catalog (views, constraints,
 * types, the running query text): never for a tenant.
 */
export const DENIED_ENGINE_CATALOG_FUNCTIONS: ReadonlySet<string> = new Set([
  'format_pg_type', 'map_to_pg_oid', 'current_query', 'pg_conf_load_time', 'pg_postmaster_start_time',
  'pg_my_temp_schema', 'pg_is_other_temp_schema', 'inet_client_addr', 'inet_client_port', 'inet_server_addr', 'inet_server_port',
]);

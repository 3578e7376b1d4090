/**
 * The code each second-opinion worker thread runs.
 *
 * It is plain JavaScript in a string, started with `new Worker(code, { eval: true })`, so
 * that the same code runs whether this module was loaded from the TypeScript sources
 * (vitest, tsx) or from the compiled `dist/`: there is no worker file whose path would
 * differ between the two. The analysis lives here, not on the main thread, because
 * copying a large AST back to the main thread would block the event loop just as
 * parsing does.
 *
 * workerData: { parserPath } — the absolute path of node-sql-parser's PostgreSQL build.
 * Messages in: { id, sql }. Messages out: { ready: true } once, then { id, opinion }.
 *
 * What it reports (see Opinion in ../secondOpinion.ts):
 * - kind: 'write' for a statement that modifies anything, including a WITH clause holding
 *   a data-modifying statement and SELECT ... INTO; 'select' for any other SELECT (WITH,
 *   set operations); 'other' for everything else and for text holding several statements.
 * - tables: every base table the statement names (for a write, its targets too), found
 *   by walking the AST with WITH scoping, so a CTE name is not listed where it refers to
 *   the CTE, while a table of the same name read outside the CTE's scope (or inside a
 *   non-recursive CTE's own body) is. Names in node-sql-parser's own tableList that the
 *   walk did not reach are added too, unless some CTE of the statement has that name.
 *   Names are lower-cased and unqualified. node-sql-parser does not record whether a table
 *   name was quoted ("Orders" and Orders come out alike), so quoted names are lower-cased
 *   too; DuckDB, which runs the query, resolves names case-insensitively even when quoted.
 *   Table functions are never listed; file paths (FROM 'x.csv') are, as written.
 * Anything thrown while parsing or walking (syntax errors, stack overflow on deep nesting)
 * is reported as 'unparsed'.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
// Dynamic import() works whether Node evaluates this as a CommonJS script or, when the
// process runs with --input-type=module, as an ES module (where require is undefined).
let parser;
const OPTIONS = { database: 'postgresql' };

// Statement types (node-sql-parser's AST) that modify data, schema or privileges.
const WRITES = new Set([
  'insert', 'replace', 'update', 'delete', 'merge', 'create', 'drop', 'alter', 'truncate',
  'rename', 'grant', 'revoke', 'comment', 'lock', 'load_data',
]);

function read(sql) {
  let result;
  try {
    result = parser.parse(sql, OPTIONS);
  } catch {
    return { status: 'unparsed' };
  }
  try {
    return analyse(result);
  } catch {
    return { status: 'unparsed' }; // e.g. an AST too deep to walk
  }
}

function analyse(result) {
  const statements = Array.isArray(result.ast) ? result.ast : [result.ast];
  const acc = { tables: new Set(), cteNames: new Set(), write: false };
  walk(statements, null, acc);
  for (const entry of result.tableList || []) {
    // "select::public::orders": access type, qualification, name.
    const name = String(entry).split('::').slice(2).join('::').toLowerCase();
    if (name && !acc.cteNames.has(name)) acc.tables.add(name);
  }
  const type = statements.length === 1 ? typeOf(statements[0]) : '';
  let kind = 'other';
  if (statements.length === 1) {
    if (WRITES.has(type) || acc.write) kind = 'write';
    else if (type === 'select') kind = 'select';
  }
  return { status: 'parsed', kind, tables: [...acc.tables].sort() };
}

function typeOf(node) {
  return node && typeof node.type === 'string' ? node.type.toLowerCase() : '';
}

function cteName(cte) {
  const name = cte && cte.name;
  const text = name && typeof name === 'object' ? name.value : name;
  return String(text).toLowerCase();
}

// scope: a chain { names: Set, up } of the CTE names visible at this point.
function visible(scope, name) {
  for (let s = scope; s; s = s.up) if (s.names.has(name)) return true;
  return false;
}

function walk(node, scope, acc) {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, scope, acc);
    return;
  }
  if (node === null || typeof node !== 'object') return;

  if (typeOf(node) === 'select' && node.into && (node.into.expr || node.into.position)) acc.write = true;

  if (Array.isArray(node.with) && node.with.length > 0) {
    const names = node.with.map(cteName);
    for (const name of names) acc.cteNames.add(name);
    const all = new Set(names);
    const recursive = node.with.some((cte) => cte && cte.recursive);
    node.with.forEach((cte, i) => {
      if (!cte) return;
      // Data-modifying statements can only appear in WITH.
      if (WRITES.has(typeOf(cte.stmt))) acc.write = true;
      // A CTE sees the CTEs before it; with RECURSIVE, every CTE of the clause.
      const seen = recursive ? all : new Set(names.slice(0, i));
      walk(cte.stmt, { names: seen, up: scope }, acc);
    });
    const inner = { names: all, up: scope };
    const rest = { ...node, with: null };
    if (node.parentheses_symbol && node._next) {
      // (WITH x AS (...) SELECT ...) UNION SELECT ...: the WITH ends at the parenthesis.
      walk({ ...rest, _next: null }, inner, acc);
      walk(node._next, scope, acc);
    } else {
      walk(rest, inner, acc);
    }
    return;
  }

  for (const key of Object.keys(node)) {
    if (key === 'tableList' || key === 'columnList') continue;
    const value = node[key];
    if ((key === 'from' || key === 'table') && Array.isArray(value)) {
      for (const ref of value) {
        if (!ref || typeof ref.table !== 'string') continue;
        const name = ref.table.toLowerCase();
        const qualified = ref.db != null || ref.schema != null;
        // A qualified name is always a table; an unqualified one may be a CTE in scope.
        if (qualified || !visible(scope, name)) acc.tables.add(name);
      }
    }
    walk(value, scope, acc);
  }
}

Promise.all([import('node:worker_threads'), import('node:module')]).then(([threads, mod]) => {
  const { parentPort, workerData } = threads;
  const { Parser } = mod.createRequire(workerData.parserPath)(workerData.parserPath);
  parser = new Parser();
  parentPort.on('message', (message) => {
    parentPort.postMessage({ id: message.id, opinion: read(message.sql) });
  });
  parentPort.postMessage({ ready: true });
}, (error) => {
  throw error; // an uncaught error ends the worker; the pool sees it fail to start
});
`;

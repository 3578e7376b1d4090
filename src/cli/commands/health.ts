// tenantgate health: per-tenant data size, usage in the last 24 h and plan advice.
// The work is in src/observability/health.ts; this file parses and prints.
import { Command } from 'commander';
import { CHEAPEST_PLAN, HEALTH_THRESHOLDS, formatSize, gatherHealth, type HealthReport, type TenantHealth } from '../../observability/health.js';
import { addDataOption, formatTable, print, registryFor, type DataOptions } from './common.js';

/** Exit status when some tenant needs attention (any advice other than OK, or a problem). */
const EXIT_ATTENTION = 1;

const t = HEALTH_THRESHOLDS;
const pct = (f: number): string => `${Math.round(f * 100)}%`;

const HELP = `
Columns: TENANT STATUS PLAN ISOLATION DATA ROWS QUERIES_24H ERRORS_24H LIMIT_HITS_24H LAST_QUERY ADVICE
  DATA       snapshot size; a shared tenant: ~ its share of the shared snapshot, by rows
  ROWS       rows of its tables; a shared tenant: its tenant_id rows plus the tenant_ids rows listing it
  usage      from the query log (<data>/querylog/, current and rotated files); "-" when there is none
  LIMIT_HITS 54000 53400 53200 53300, and 57014 after at least ${pct(t.timeoutFraction)} of the plan's statement timeout
Advice (several may apply; each is explained below the table):
  SCALE_UP   a database tenant's data >= ${pct(t.scaleUpDataFraction)} of the plan's memory, or queries in 24 h
             >= ${pct(t.scaleUpQueryFraction)} of queries-per-minute x 1440, or >= ${t.scaleUpLimitHits} limit hits in 24 h
  MOVE       a shared tenant with >= ${t.moveMinRows} rows of its own or ~${formatSize(t.moveMinBytes)} of the shared database
  SCALE_DOWN an active tenant on a plan other than ${CHEAPEST_PLAN}, older than 24 h, with <= ${t.scaleDownMaxQueries} queries
             and no limit hits in 24 h and data < ${pct(t.scaleDownDataFraction)} of the plan's memory
  PROBLEM    its snapshot (or the shared one) is missing or unreadable, or its plan does not exist
  OK         none of these
Exit status: 0 when every tenant is OK, 1 when any needs attention (or on failure: one line on
stderr, nothing on stdout), 2 for a malformed command line. Reads only: safe beside a running gateway.
`;

function count(n: number | null): string {
  return n === null ? '-' : String(n);
}

function dataCell(h: TenantHealth): string {
  if (h.dataBytes === null) return '?';
  return `${h.dataBytesEstimated ? '~' : ''}${formatSize(h.dataBytes)}`;
}

/** ISO time to the second, or "-". */
function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace(/\.\d{3}Z$/, 'Z');
}

function printReport(r: HealthReport): void {
  const rows = [['TENANT', 'STATUS', 'PLAN', 'ISOLATION', 'DATA', 'ROWS', 'QUERIES_24H', 'ERRORS_24H', 'LIMIT_HITS_24H', 'LAST_QUERY', 'ADVICE']];
  for (const h of r.tenants) {
    rows.push([
      h.id,
      h.status,
      h.plan,
      h.isolation,
      dataCell(h),
      count(h.rows),
      count(h.queries24h),
      count(h.errors24h),
      count(h.limitHits24h),
      when(h.lastQuery),
      h.advice.join(','),
    ]);
  }
  print(formatTable(rows));
  const notes = r.tenants.filter((h) => !h.ok);
  if (notes.length > 0) print();
  for (const h of notes) for (const reason of h.reasons) print(`${h.id}: ${reason}`);
  print();
  const log = r.queryLog;
  print(
    log.present
      ? `query log: ${log.files} ${log.files === 1 ? 'file' : 'files'}, ${log.records} records in the last ${r.windowHours} h` +
          (log.malformed > 0 ? `, ${log.malformed} malformed lines skipped` : '') +
          (log.dropped > 0 ? `, ${log.dropped} records dropped by the gateway (counts are low by as much)` : '')
      : 'query log: none found (usage unknown; no SCALE_DOWN advice without it)',
  );
  print(`${r.summary.tenants} ${r.summary.tenants === 1 ? 'tenant' : 'tenants'}: ${r.summary.ok} OK, ${r.summary.attention} need attention (generated ${when(r.generatedAt)})`);
}

export function healthCommand(): Command {
  return addDataOption(
    new Command('health')
      .description("each tenant's data size, usage in the last 24 h (query log) and advice: OK, SCALE_UP, SCALE_DOWN, MOVE, PROBLEM")
      .option('--json', 'print JSON: { generatedAt, windowHours, queryLog, thresholds, summary, tenants: [...] }')
      .addHelpText('after', HELP),
  ).action(async (opts: DataOptions & { json?: boolean }) => {
    const report = await gatherHealth(registryFor(opts));
    if (opts.json) print(JSON.stringify(report, null, 2));
    else printReport(report);
    if (report.summary.attention > 0) process.exitCode = EXIT_ATTENTION;
  });
}

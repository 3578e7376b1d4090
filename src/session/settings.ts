/**
 * Session configuration parameters as PostgreSQL reports them. The gateway answers
 * SET / RESET / SHOW from here; nothing reaches DuckDB. Parameters PostgreSQL marks
 * GUC_REPORT are sent to the client as ParameterStatus when they change.
 */
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import { isSupportedTimeZone, type TextFormatSettings } from '../wire/textFormat.js';

export const SERVER_VERSION = '16.4';
export const SERVER_VERSION_NUM = '160004';
/** What version() answers: PostgreSQL's form, which drivers parse for the version number. */
export const SERVER_VERSION_TEXT = `PostgreSQL ${SERVER_VERSION} (tenantgate) on x86_64-pc-linux-gnu, compiled by gcc, 64-bit`;

interface ParamSpec {
  /** Name as SHOW prints it in its column header and ParameterStatus uses it. */
  name: string;
  initial: string;
  report?: boolean;
  readOnly?: boolean;
  /** Returns the value to store, or throws a PgError. */
  check?: (value: string) => string;
  description: string;
}

function invalid(name: string, value: string, hint?: string): PgError {
  return new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "${name}": "${value}"`, hint ? { hint } : {});
}

function onOff(name: string) {
  return (v: string) => {
    const l = v.toLowerCase();
    if (['on', 'true', 'yes', '1'].includes(l)) return 'on';
    if (['off', 'false', 'no', '0'].includes(l)) return 'off';
    throw invalid(name, v);
  };
}

function only(name: string, allowed: string[], hint: string) {
  return (v: string) => {
    const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase().replace(/[\s-]/g, ''));
    if (hit === undefined) throw invalid(name, v, hint);
    return allowed[0]!;
  };
}

export function checkTimeZone(v: string): string {
  const upper = v.toUpperCase();
  if (upper === 'UTC' || upper === 'GMT' || upper === 'Z' || upper === 'ZULU') return 'UTC';
  // The zone must be one the value encoder can print in: it is what SET accepts.
  if (!isSupportedTimeZone(v)) {
    throw new PgError(SqlState.InvalidParameterValue, `invalid value for parameter "TimeZone": "${v}"`);
  }
  // Keep the name as the user wrote it (as PostgreSQL does), in its canonical case.
  return ZONES.get(v.toLowerCase()) ?? v;
}

const ZONES = new Map(Intl.supportedValuesOf('timeZone').map((z) => [z.toLowerCase(), z]));

function intIn(name: string, lo: number, hi: number) {
  return (v: string) => {
    if (!/^[+-]?\d+$/.test(v.trim()) || Number(v) < lo || Number(v) > hi) {
      throw new PgError(SqlState.InvalidParameterValue, `${Number.isNaN(Number(v)) ? `invalid value for parameter "${name}": "${v}"` : `${v} is outside the valid range for parameter "${name}" (${lo} .. ${hi})`}`);
    }
    return String(Number(v));
  };
}

/** ISO output only; the field order (MDY/DMY/YMD) is kept as PostgreSQL does. */
function dateStyle(v: string): string {
  let order = 'MDY';
  for (const part of v.split(',').map((p) => p.trim().toUpperCase())) {
    if (part === 'ISO') continue;
    if (part === 'MDY' || part === 'DMY' || part === 'YMD') order = part;
    else if (part === 'US' || part === 'NONEURO' || part === 'NONEUROPEAN') order = 'MDY';
    else if (part === 'EURO' || part === 'EUROPEAN') order = 'DMY';
    else throw invalid('DateStyle', v, 'tenantgate prints dates in ISO style only.');
  }
  return `ISO, ${order}`;
}

function isolation(v: string): string {
  const l = v.toLowerCase().replace(/\s+/g, ' ').trim();
  if (['read committed', 'repeatable read', 'serializable', 'read uncommitted'].includes(l)) return l;
  throw invalid('transaction_isolation', v);
}

const SPECS: ParamSpec[] = [
  { name: 'application_name', initial: '', report: true, description: 'Sets the application name to be reported in statistics and logs.', check: (v) => v.slice(0, 63) },
  { name: 'client_encoding', initial: 'UTF8', report: true, description: "Sets the client's character set encoding.", check: only('client_encoding', ['UTF8', 'UTF-8', 'UNICODE'], 'tenantgate speaks UTF8 only.') },
  { name: 'DateStyle', initial: 'ISO, MDY', report: true, description: 'Sets the display format for date and time values.', check: dateStyle },
  { name: 'IntervalStyle', initial: 'postgres', report: true, description: 'Sets the display format for interval values.', check: only('IntervalStyle', ['postgres'], 'tenantgate prints intervals in postgres style only.') },
  { name: 'TimeZone', initial: 'UTC', report: true, description: 'Sets the time zone for displaying and interpreting time stamps.', check: checkTimeZone },
  { name: 'extra_float_digits', initial: '1', description: 'Sets the number of digits displayed for floating-point values.', check: intIn('extra_float_digits', -15, 3) },
  { name: 'search_path', initial: '"$user", public', description: 'Sets the schema search order for names that are not schema-qualified.', check: (v) => v },
  { name: 'statement_timeout', initial: '0', description: 'Sets the maximum allowed duration of any statement.', check: (v) => v },
  { name: 'lock_timeout', initial: '0', description: 'Sets the maximum allowed duration of any wait for a lock.', check: (v) => v },
  { name: 'idle_in_transaction_session_timeout', initial: '0', description: 'Sets the maximum allowed idle time between queries, when in a transaction.', check: (v) => v },
  { name: 'client_min_messages', initial: 'notice', description: 'Sets the message levels that are sent to the client.', check: (v) => v.toLowerCase() },
  { name: 'transaction_isolation', initial: 'read committed', description: "Sets the current transaction's isolation level.", check: isolation },
  { name: 'default_transaction_isolation', initial: 'read committed', description: 'Sets the transaction isolation level of each new transaction.', check: isolation },
  { name: 'transaction_read_only', initial: 'on', description: "Sets the current transaction's read-only status.", check: only('transaction_read_only', ['on', 'true', 'yes', '1'], 'tenantgate is read-only.') },
  { name: 'default_transaction_read_only', initial: 'on', report: true, description: 'Sets the default read-only status of new transactions.', check: only('default_transaction_read_only', ['on', 'true', 'yes', '1'], 'tenantgate is read-only.') },
  { name: 'bytea_output', initial: 'hex', description: 'Sets the output format for bytea.', check: only('bytea_output', ['hex'], 'tenantgate prints bytea in hex only.') },
  { name: 'standard_conforming_strings', initial: 'on', report: true, description: "Causes '...' strings to treat backslashes literally.", check: only('standard_conforming_strings', ['on', 'true', 'yes', '1'], 'tenantgate always treats backslashes in strings literally.') },
  { name: 'escape_string_warning', initial: 'on', description: 'Warn about backslash escapes in ordinary string literals.', check: onOff('escape_string_warning') },
  { name: 'jit', initial: 'off', description: 'Allow JIT compilation.', check: onOff('jit') },
  { name: 'synchronous_commit', initial: 'on', description: 'Sets the current transaction\'s synchronization level.', check: (v) => v },
  { name: 'work_mem', initial: '4MB', description: 'Sets the maximum memory to be used for query workspaces.', check: (v) => v },
  { name: 'lc_messages', initial: 'C', description: 'Sets the language in which messages are displayed.', check: (v) => v },
  { name: 'lc_monetary', initial: 'C', description: 'Sets the locale for formatting monetary amounts.', check: (v) => v },
  { name: 'lc_numeric', initial: 'C', description: 'Sets the locale for formatting numbers.', check: (v) => v },
  { name: 'lc_time', initial: 'C', description: 'Sets the locale for formatting date and time values.', check: (v) => v },
  { name: 'row_security', initial: 'on', description: 'Enable row security.', check: onOff('row_security') },
  { name: 'server_version', initial: SERVER_VERSION, report: true, readOnly: true, description: 'Shows the server version.' },
  { name: 'server_version_num', initial: SERVER_VERSION_NUM, readOnly: true, description: 'Shows the server version as an integer.' },
  { name: 'server_encoding', initial: 'UTF8', report: true, readOnly: true, description: 'Shows the server (database) character set encoding.' },
  { name: 'integer_datetimes', initial: 'on', report: true, readOnly: true, description: 'Shows whether datetimes are integer based.' },
  { name: 'is_superuser', initial: 'off', report: true, readOnly: true, description: 'Shows whether the current user is a superuser.' },
  { name: 'session_authorization', initial: '', report: true, readOnly: true, description: 'Sets the session user name.' },
  { name: 'in_hot_standby', initial: 'off', report: true, readOnly: true, description: 'Shows whether hot standby is currently active.' },
  { name: 'max_identifier_length', initial: '63', readOnly: true, description: 'Shows the maximum identifier length.' },
  { name: 'lc_collate', initial: 'C', readOnly: true, description: 'Shows the collation order locale.' },
  { name: 'lc_ctype', initial: 'C', readOnly: true, description: 'Shows the character classification and case conversion locale.' },
  { name: 'block_size', initial: '8192', readOnly: true, description: 'Shows the size of a disk block.' },
  { name: 'max_index_keys', initial: '32', readOnly: true, description: 'Shows the maximum number of index keys.' },
];

/** The settings as pg_settings lists them (their initial values). */
export const SETTINGS_CATALOG: readonly Readonly<Pick<ParamSpec, 'name' | 'initial' | 'description' | 'readOnly'>>[] = SPECS;

const BY_KEY = new Map(SPECS.map((s) => [s.name.toLowerCase(), s]));

function spec(name: string): ParamSpec {
  const s = BY_KEY.get(name.toLowerCase());
  if (!s) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`);
  return s;
}

/** A custom option (`myapp.flag`) is accepted and stored, as PostgreSQL does for placeholder options. */
const isCustom = (name: string) => name.includes('.');

export interface ParameterChange {
  name: string;
  value: string;
}

export class SessionSettings {
  private readonly values = new Map<string, string>();
  private readonly custom = new Map<string, string>();
  /** Values given by the client in its startup packet: what RESET goes back to. */
  private readonly startup = new Map<string, string>();
  /** Changes whenever a value may have changed: verdicts that read settings key on it. */
  generation = 0;

  constructor(startupParams: Record<string, string>, sessionUser: string) {
    for (const s of SPECS) this.values.set(s.name, s.initial);
    this.values.set('session_authorization', sessionUser);
    for (const [k, v] of Object.entries(startupParams)) {
      const s = BY_KEY.get(k.toLowerCase());
      if (!s || s.readOnly || !s.check) continue;
      try {
        const value = s.check(v);
        this.values.set(s.name, value);
        this.startup.set(s.name, value);
      } catch {
        // PostgreSQL refuses the connection for a bad startup value; we keep the default
        // rather than fail a login over a display setting.
      }
    }
  }

  get(name: string): string {
    if (isCustom(name)) {
      const v = this.custom.get(name.toLowerCase());
      if (v === undefined) throw new PgError(SqlState.UndefinedObject, `unrecognized configuration parameter "${name}"`);
      return v;
    }
    return this.values.get(spec(name).name)!;
  }

  /** Sets a parameter; returns the ParameterStatus to send, if any. value null = DEFAULT. */
  set(name: string, value: string | null): ParameterChange | null {
    this.generation++;
    if (isCustom(name)) {
      this.custom.set(name.toLowerCase(), value ?? '');
      return null;
    }
    const s = spec(name);
    if (s.readOnly || !s.check) {
      throw new PgError(SqlState.ObjectNotInPrerequisiteState, `parameter "${s.name}" cannot be changed`);
    }
    const next = value === null ? (this.startup.get(s.name) ?? s.initial) : s.check(value);
    const prev = this.values.get(s.name);
    this.values.set(s.name, next);
    return s.report && prev !== next ? { name: s.name, value: next } : null;
  }

  reset(name: string): ParameterChange | null {
    return this.set(name, null);
  }

  resetAll(): ParameterChange[] {
    this.generation++;
    this.custom.clear();
    const changes: ParameterChange[] = [];
    for (const s of SPECS) {
      if (s.readOnly || !s.check) continue;
      const c = this.set(s.name, null);
      if (c) changes.push(c);
    }
    return changes;
  }

  /** A copy of every value, to go back to when a transaction block is rolled back. */
  snapshot(): ReadonlyMap<string, string> {
    const m = new Map(this.values);
    for (const [k, v] of this.custom) m.set(`custom:${k}`, v);
    return m;
  }

  /** Returns to a snapshot; returns the ParameterStatus messages the change calls for. */
  restore(snap: ReadonlyMap<string, string>, only?: ReadonlySet<string>): ParameterChange[] {
    this.generation++;
    const changes: ParameterChange[] = [];
    for (const s of SPECS) {
      if (only && !only.has(s.name)) continue;
      const v = snap.get(s.name)!;
      if (this.values.get(s.name) !== v) {
        this.values.set(s.name, v);
        if (s.report) changes.push({ name: s.name, value: v });
      }
    }
    if (!only) {
      this.custom.clear();
      for (const [k, v] of snap) if (k.startsWith('custom:')) this.custom.set(k.slice(7), v);
    }
    return changes;
  }

  /** How values are printed for this session right now (TimeZone, extra_float_digits). */
  textFormat(): TextFormatSettings {
    return { timeZone: this.get('TimeZone'), extraFloatDigits: Number(this.get('extra_float_digits')) };
  }

  /** Canonical name of a parameter (as SHOW and ParameterStatus spell it). */
  static canonicalName(name: string): string {
    return BY_KEY.get(name.toLowerCase())?.name ?? name.toLowerCase();
  }

  /** Everything reported at startup, in PostgreSQL's order. */
  reported(): ParameterChange[] {
    return SPECS.filter((s) => s.report).map((s) => ({ name: s.name, value: this.values.get(s.name)! }));
  }

  all(): { name: string; setting: string; description: string }[] {
    return SPECS.map((s) => ({ name: s.name, setting: this.values.get(s.name)!, description: s.description })).sort((a, b) =>
      a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1,
    );
  }

  /** Column header SHOW uses: the parameter's name as the user typed it, lower-cased like PostgreSQL. */
  static showColumn(name: string): string {
    return name.toLowerCase();
  }
}

/**
 * The session commands the gateway answers itself (SET, RESET, SHOW, BEGIN, COMMIT,
 * ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK TO, DISCARD, UNLISTEN *), over either protocol.
 * Nothing here reaches DuckDB.
 */
import { VARCHAR } from '@duckdb/node-api';
import type { ResultColumn } from '../engine/parameters.js';
import { PgError } from '../errors/PgError.js';
import { SqlState } from '../errors/sqlstate.js';
import type { SessionCommand } from '../sql/sessionCommand.js';
import type { BackendWriter } from '../wire/backend.js';
import { parseDuration } from './duration.js';
import { describeFields } from './resultStream.js';
import { SessionSettings, type ParameterChange } from './settings.js';
import type { Transaction } from './transaction.js';

/** The columns a command returns (SHOW), or null: it returns none. */
export function commandColumns(cmd: SessionCommand): ResultColumn[] | null {
  if (cmd.kind !== 'show') return null;
  if (cmd.name === 'ALL') return ['name', 'setting', 'description'].map((name) => ({ name, type: VARCHAR }));
  return [{ name: SessionSettings.showColumn(cmd.name), type: VARCHAR }];
}

function report(w: BackendWriter, changes: (ParameterChange | null)[]): void {
  for (const c of changes) if (c) w.parameterStatus(c.name, c.value);
}

function warning(w: BackendWriter, code: string, message: string): void {
  w.noticeResponse({ severity: 'WARNING', code, message });
}

/**
 * Runs one command: its notices, ParameterStatus changes, rows and CommandComplete.
 * `rowDescription`: the simple protocol describes SHOW's rows itself; Execute does not
 * (the client asked with Describe).
 */
export function runSessionCommand(
  cmd: SessionCommand,
  w: BackendWriter,
  settings: SessionSettings,
  tx: Transaction,
  rowDescription: boolean,
): void {
  switch (cmd.kind) {
    case 'set': {
      if (cmd.local && tx.status === 'I') {
        warning(w, SqlState.NoActiveSqlTransaction, 'SET LOCAL can only be used in transaction blocks');
      } else {
        const name = SessionSettings.canonicalName(cmd.name);
        if (name === 'statement_timeout' && cmd.value !== null) parseDuration(cmd.value, 'ms');
        report(w, [settings.set(cmd.name, cmd.value)]);
        if (cmd.local) tx.setLocal(name);
      }
      w.commandComplete('SET');
      return;
    }
    case 'setTransaction':
      w.commandComplete('SET');
      return;
    case 'reset':
      report(w, cmd.name === 'ALL' ? settings.resetAll() : [settings.reset(cmd.name)]);
      w.commandComplete('RESET');
      return;
    case 'show': {
      const rows = cmd.name === 'ALL' ? settings.all().map((p) => [p.name, p.setting, p.description]) : [[settings.get(cmd.name)]];
      if (rowDescription) w.rowDescription(describeFields(commandColumns(cmd)!, []));
      for (const r of rows) w.dataRow(r);
      w.commandComplete('SHOW');
      return;
    }
    case 'begin':
      if (tx.status !== 'I') warning(w, SqlState.ActiveSqlTransaction, 'there is already a transaction in progress');
      else tx.begin();
      w.commandComplete(cmd.tag);
      return;
    case 'commit':
    case 'rollback': {
      if (tx.status === 'I') {
        warning(w, SqlState.NoActiveSqlTransaction, 'there is no transaction in progress');
        w.commandComplete(cmd.kind === 'commit' ? 'COMMIT' : 'ROLLBACK');
        return;
      }
      const failed = tx.status === 'E';
      report(w, tx.end(cmd.kind === 'rollback' || failed));
      w.commandComplete(cmd.kind === 'commit' && !failed ? 'COMMIT' : 'ROLLBACK');
      return;
    }
    case 'savepoint':
      tx.savepoint(cmd.name);
      w.commandComplete('SAVEPOINT');
      return;
    case 'release':
      tx.release(cmd.name);
      w.commandComplete('RELEASE');
      return;
    case 'rollbackTo':
      report(w, tx.rollbackTo(cmd.name));
      w.commandComplete('ROLLBACK');
      return;
    case 'unlisten':
      w.commandComplete('UNLISTEN');
      return;
    case 'discard':
      if (cmd.what === 'ALL') {
        if (tx.status !== 'I') throw new PgError(SqlState.ActiveSqlTransaction, 'DISCARD ALL cannot run inside a transaction block');
        report(w, settings.resetAll());
      }
      w.commandComplete(`DISCARD ${cmd.what}`);
  }
}

/**
 * What the session reports when a statement ends (session.ts, one place for the simple
 * and the extended protocol, COPY and cursors included), and the observer that turns
 * it into a query log record and metrics.
 */
import type { Token } from '../sql/lexer.js';
import { fingerprint } from './fingerprint.js';
import { countLimitHit, observeStatement } from './metrics.js';
import type { Outcome, QueryLog } from './queryLog.js';

export interface StatementEnd {
  tenant: string;
  user: string;
  app: string;
  client: string;
  text: string;
  /** The statement's tokens, when the session has them (saves lexing it again). */
  tokens?: readonly Token[] | undefined;
  protocol: 'simple' | 'extended';
  /** Date.now() when it started. */
  startedAt: number;
  ms: number;
  rows: number;
  bytes: number;
  outcome: Outcome;
  sqlstate: string;
  /** The plan limit that refused it, if one did (a limit hit). */
  limit?: string | undefined;
}

export type StatementObserver = (e: StatementEnd) => void;

/** Metrics always; a query log record when there is a query log. */
export function statementObserver(queryLog: QueryLog | null): StatementObserver {
  return (e) => {
    observeStatement(e.tenant, e.outcome, e.sqlstate, e.ms / 1000, e.rows, e.bytes);
    if (e.limit) countLimitHit(e.tenant, e.limit);
    queryLog?.record({
      time: new Date(e.startedAt).toISOString(),
      tenant: e.tenant,
      user: e.user,
      app: e.app,
      client: e.client,
      fingerprint: fingerprint(e.text, e.tokens),
      text: e.text,
      protocol: e.protocol,
      ms: Math.round(e.ms * 1000) / 1000,
      rows: e.rows,
      bytes: e.bytes,
      outcome: e.outcome,
      sqlstate: e.sqlstate,
    });
  };
}

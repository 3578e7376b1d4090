import { SqlState, type SqlStateCode } from './sqlstate.js';

export type Severity = 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE';

export interface PgErrorFields {
  severity?: Severity;
  detail?: string;
  hint?: string;
  /** 1-based character position in the client's query text, as PostgreSQL reports it. */
  position?: number;
  /** The plan limit that refused the statement (max_rows, memory...), counted as a limit hit. */
  limit?: string;
}

/**
 * An error a client sees as an ErrorResponse. Everything that can reach a client is
 * turned into one of these at a single place (session/errorResponse), so every
 * path answers with a SQLSTATE and a message meant for a user.
 */
export class PgError extends Error {
  readonly code: SqlStateCode;
  readonly severity: Severity;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly position: number | undefined;
  readonly limit: string | undefined;

  constructor(code: SqlStateCode, message: string, fields: PgErrorFields = {}) {
    super(message);
    this.name = 'PgError';
    this.code = code;
    this.severity = fields.severity ?? 'ERROR';
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.position = fields.position;
    this.limit = fields.limit;
  }

  static internal(message = 'internal error'): PgError {
    return new PgError(SqlState.InternalError, message);
  }
}

export function isPgError(e: unknown): e is PgError {
  return e instanceof PgError;
}

import { StoreConflictError } from '../../core/errors.js';
import { errorCode } from '../shared/error-code.js';

/**
 * SQLSTATE classes of a database that is down, refuses this client or is out of resources:
 * connection exception, invalid authorization, invalid catalog name (no such database),
 * insufficient resources, operator intervention (shutdown, restart).
 */
const OUTAGE_CLASSES = new Set(['08', '28', '3D', '53', '57']);

/**
 * Whether a failed query means the database cannot be used at all, rather than that this one
 * statement failed (a duplicate id, a serialization failure): a socket error of Node
 * (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, `ENOTFOUND`, …), one of pg's own connection
 * errors (`Connection terminated unexpectedly`, `timeout exceeded when trying to connect`,
 * `Query read timeout`; no code), or an outage class of SQLSTATE.
 */
export function isOutage(error: unknown): boolean {
  const code = errorCode(error);
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return OUTAGE_CLASSES.has(code.slice(0, 2));
  }
  if (typeof code === 'string') return /^E[A-Z_]+$/.test(code);
  return (
    error instanceof Error && /\b(connect|connection|timeout|terminated)\b/i.test(error.message)
  );
}

/**
 * A `StoreConflictError` for an insert refused by a unique violation (23505) of the sessions
 * table's primary key (the id) or of its unique token hash, any other error as it is. The
 * violation is raised inside the insert function, which it rolls back whole. PostgreSQL checks
 * the primary key first, so when both are taken the id is named, as in every store.
 */
export function conflictError(error: unknown, tablePrefix: string): unknown {
  if (errorCode(error) !== '23505') return error;
  const { constraint } = error as { constraint?: unknown };
  if (constraint === `${tablePrefix}sessions_pkey`) {
    return new StoreConflictError('session id', { cause: error });
  }
  if (constraint === `${tablePrefix}sessions_token_hash_key`) {
    return new StoreConflictError('token hash', { cause: error });
  }
  return error;
}

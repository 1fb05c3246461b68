import { expiresAt } from '../../core/store.js';
import type { StoredSession } from './store-types.js';

/**
 * The SQL columns of a stored session, in the order of {@link StoredSession}'s fields. The
 * tables also hold `expires_at`, the earlier deadline, which is written but never read back.
 */
export const SESSION_COLUMNS = [
  'id',
  'token_hash',
  'user_id',
  'created_at',
  'authenticated_at',
  'last_seen_at',
  'idle_expires_at',
  'absolute_expires_at',
  'rotated_at',
  'version',
  'sealed',
] as const;

/** The session columns of the table aliased `alias`, comma-separated for a SELECT list. */
export function qualifiedColumns(alias: string): string {
  return SESSION_COLUMNS.map((column) => `${alias}.${column}`).join(', ');
}

/**
 * A session row as a driver hands it over, with integer columns of type `I`: `number` for
 * better-sqlite3 (safe integers off), `string | number | bigint` for `pg`'s int8 parsers.
 */
export interface SessionRow<I> {
  readonly id: string;
  readonly token_hash: string;
  readonly user_id: string | null;
  readonly created_at: I;
  readonly authenticated_at: I | null;
  readonly last_seen_at: I;
  readonly idle_expires_at: I;
  readonly absolute_expires_at: I;
  readonly rotated_at: I;
  readonly version: I;
  readonly sealed: string;
}

/** An integer column as a driver may hand it over. */
export type Integer = string | number | bigint;

/**
 * Reads an integer column exactly, whatever type the driver uses for it. Rejects anything that
 * is not a safe integer rather than rounding it: a deadline read wrong would keep a session
 * alive, or end it, at the wrong time.
 */
export function toSafeInteger(value: Integer, storeName: string): number {
  const number =
    typeof value === 'string' && /^-?\d+$/.test(value)
      ? Number(value)
      : typeof value === 'number' || typeof value === 'bigint'
        ? Number(value)
        : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new Error(`The ${storeName} session store read an integer outside the safe range`);
  }
  return number;
}

/** The session a row holds, reading each integer column with `integer`. */
export function readSessionRow<I>(
  row: SessionRow<I>,
  integer: (value: I) => number,
): StoredSession {
  return {
    id: row.id,
    tokenHash: row.token_hash,
    userId: row.user_id,
    createdAt: integer(row.created_at),
    authenticatedAt: row.authenticated_at === null ? null : integer(row.authenticated_at),
    lastSeenAt: integer(row.last_seen_at),
    idleExpiresAt: integer(row.idle_expires_at),
    absoluteExpiresAt: integer(row.absolute_expires_at),
    rotatedAt: integer(row.rotated_at),
    version: integer(row.version),
    sealed: row.sealed,
  };
}

/**
 * Copies only the fields of a stored session, so that a store never keeps (or writes) a
 * reference the caller can still change, nor anything else attached to it (decrypted data).
 */
export function sessionFields(session: StoredSession): StoredSession {
  return {
    id: session.id,
    tokenHash: session.tokenHash,
    userId: session.userId,
    createdAt: session.createdAt,
    authenticatedAt: session.authenticatedAt,
    lastSeenAt: session.lastSeenAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    rotatedAt: session.rotatedAt,
    version: session.version,
    sealed: session.sealed,
  };
}

/** The values of {@link SESSION_COLUMNS} and then `expires_at`, for positional parameters. */
export function sessionColumnValues(session: StoredSession): unknown[] {
  return [
    session.id,
    session.tokenHash,
    session.userId,
    session.createdAt,
    session.authenticatedAt,
    session.lastSeenAt,
    session.idleExpiresAt,
    session.absoluteExpiresAt,
    session.rotatedAt,
    session.version,
    session.sealed,
    expiresAt(session),
  ];
}

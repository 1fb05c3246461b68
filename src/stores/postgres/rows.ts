import { CONFLICT, LIMIT_REACHED, inserted } from '../shared/insert-results.js';
import { readSessionRow, toSafeInteger } from '../shared/rows.js';
import type { Integer, SessionRow } from '../shared/rows.js';
import type { InsertResult, StoredSession } from '../shared/store-types.js';

/** A bigint column as `pg` hands it over: a string by default, or whatever the app's parser returns. */
export type PostgresSessionRow = SessionRow<Integer>;

export type TokenMatchRow = PostgresSessionRow & { retired_grace_until: Integer | null };

export type InsertRow = { status: string; evicted: string[] | null };

/** Reads an integer column exactly, whatever type parser the pool uses for int8. */
export function toInteger(value: Integer): number {
  return toSafeInteger(value, 'PostgreSQL');
}

export function fromRow(row: PostgresSessionRow): StoredSession {
  return readSessionRow(row, toInteger);
}

/** The outcome the insert function reported. */
export function toInsertResult(row: InsertRow | undefined): InsertResult {
  switch (row?.status) {
    case 'inserted':
      return inserted(row.evicted ?? []);
    case 'conflict':
      return CONFLICT;
    case 'limit-reached':
      return LIMIT_REACHED;
    default:
      throw new Error('The PostgreSQL session store got no outcome from its insert function');
  }
}

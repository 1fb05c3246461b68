import { expiresAt } from '../../core/store.js';
import { readSessionRow, sessionFields } from '../shared/rows.js';
import type { SessionRow } from '../shared/rows.js';
import type { StoredSession } from '../shared/store-types.js';

/** better-sqlite3 hands integers over as numbers: the store turns safe integers off. */
export type SQLiteSessionRow = SessionRow<number>;

export interface TokenMatchRow extends SQLiteSessionRow {
  readonly retired_grace_until: number | null;
}

/** The named parameters of the insert and update statements: the session's fields. */
export interface SessionParameters extends StoredSession {
  readonly expiresAt: number;
}

export function toParameters(session: StoredSession): SessionParameters {
  return { ...sessionFields(session), expiresAt: expiresAt(session) };
}

const asNumber = (value: number): number => value;

export function fromRow(row: SQLiteSessionRow): StoredSession {
  return readSessionRow(row, asNumber);
}

/**
 * The row mapping the SQL stores share (src/stores/shared/rows.ts): every column read back into
 * the field it came from, integers read exactly or not at all.
 */
import { describe, expect, it } from 'vitest';
import type { StoredSession } from '../../src/core/store.js';
import { CONFLICT, LIMIT_REACHED, inserted } from '../../src/stores/shared/insert-results.js';
import {
  SESSION_COLUMNS,
  qualifiedColumns,
  readSessionRow,
  sessionColumnValues,
  sessionFields,
  toSafeInteger,
} from '../../src/stores/shared/rows.js';
import type { Integer, SessionRow } from '../../src/stores/shared/rows.js';

const session: StoredSession = {
  id: 'id-1',
  tokenHash: 'hash-1',
  userId: 'alice',
  createdAt: 1_000,
  authenticatedAt: 2_000,
  lastSeenAt: 3_000,
  idleExpiresAt: 9_000,
  absoluteExpiresAt: 8_000,
  rotatedAt: 4_000,
  version: 7,
  sealed: 'v1.k1.sealed',
};

/** The row a SQL store writes for `session`, with integers as `pg` hands int8 over: strings. */
function rowOf(value: StoredSession): SessionRow<Integer> {
  return {
    id: value.id,
    token_hash: value.tokenHash,
    user_id: value.userId,
    created_at: String(value.createdAt),
    authenticated_at: value.authenticatedAt === null ? null : String(value.authenticatedAt),
    last_seen_at: String(value.lastSeenAt),
    idle_expires_at: String(value.idleExpiresAt),
    absolute_expires_at: String(value.absoluteExpiresAt),
    rotated_at: String(value.rotatedAt),
    version: value.version,
    sealed: value.sealed,
  };
}

const readPostgres = (value: Integer): number => toSafeInteger(value, 'PostgreSQL');

describe('toSafeInteger', () => {
  it.each<[Integer, number]>([
    ['0', 0],
    ['-42', -42],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    [1_700_000_000_000, 1_700_000_000_000],
    [12n, 12],
  ])('reads %s as %d', (value, expected) => {
    expect(toSafeInteger(value, 'PostgreSQL')).toBe(expected);
  });

  it.each<Integer>(['9007199254740993', '1.5', '', ' 1', '1e3', 'abc', 1.5, Number.NaN, 2n ** 60n])(
    'rejects %s instead of rounding it, naming the store',
    (value) => {
      expect(() => toSafeInteger(value, 'PostgreSQL')).toThrow(
        'The PostgreSQL session store read an integer outside the safe range',
      );
    },
  );
});

describe('readSessionRow', () => {
  it('reads every column back into the field it came from', () => {
    expect(readSessionRow(rowOf(session), readPostgres)).toEqual(session);
  });

  it('keeps a null user and a null authentication time null', () => {
    const anonymous = { ...session, userId: null, authenticatedAt: null };
    expect(readSessionRow(rowOf(anonymous), readPostgres)).toEqual(anonymous);
  });

  it('passes each integer column through the driver-specific reader', () => {
    const seen: number[] = [];
    const row: SessionRow<number> = { ...rowOf(session), ...numericColumns(session) };
    readSessionRow(row, (value: number) => {
      seen.push(value);
      return value;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(
      [1_000, 2_000, 3_000, 4_000, 7, 8_000, 9_000].sort((a, b) => a - b),
    );
  });

  it('rejects a row whose integer is outside the safe range', () => {
    const row = { ...rowOf(session), idle_expires_at: '9007199254740993' };
    expect(() => readSessionRow(row, readPostgres)).toThrow(/safe range/);
  });
});

describe('sessionFields', () => {
  it('copies the contract fields and nothing else', () => {
    const decorated = { ...session, data: { secret: 'decrypted' } } as StoredSession;
    const copy = sessionFields(decorated);
    expect(copy).toEqual(session);
    expect(copy).not.toBe(decorated);
    expect(Object.keys(copy)).toHaveLength(11);
  });
});

describe('sessionColumnValues', () => {
  it('lists the values in the order of SESSION_COLUMNS, then the earlier deadline (expires_at)', () => {
    const values = sessionColumnValues(session);
    expect(values).toHaveLength(SESSION_COLUMNS.length + 1);
    const row = Object.fromEntries(SESSION_COLUMNS.map((column, index) => [column, values[index]]));
    expect(readSessionRow(row as unknown as SessionRow<number>, (value: number) => value)).toEqual(
      session,
    );
    expect(values.at(-1)).toBe(8_000);
  });
});

describe('qualifiedColumns', () => {
  it('qualifies every session column with the alias', () => {
    expect(qualifiedColumns('s')).toBe(SESSION_COLUMNS.map((column) => `s.${column}`).join(', '));
  });
});

describe('insert results', () => {
  it('shares frozen outcomes for the inserts that change nothing', () => {
    expect(CONFLICT).toEqual({ status: 'conflict' });
    expect(LIMIT_REACHED).toEqual({ status: 'limit-reached' });
    expect(Object.isFrozen(CONFLICT)).toBe(true);
    expect(Object.isFrozen(LIMIT_REACHED)).toBe(true);
    expect(inserted(['a'])).toEqual({ status: 'inserted', evicted: ['a'] });
  });
});

function numericColumns(
  value: StoredSession,
): Omit<SessionRow<number>, 'id' | 'token_hash' | 'user_id' | 'sealed'> {
  return {
    created_at: value.createdAt,
    authenticated_at: value.authenticatedAt,
    last_seen_at: value.lastSeenAt,
    idle_expires_at: value.idleExpiresAt,
    absolute_expires_at: value.absoluteExpiresAt,
    rotated_at: value.rotatedAt,
    version: value.version,
  };
}

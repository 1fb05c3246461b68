import { StoreConflictError } from '../../core/errors.js';
import { expiresAt } from '../../core/store.js';
import type { InsertResult, StoredSession, TokenMatch } from '../../core/store.js';
import { CORRUPT, decodeInteger, decodeRecord } from './record.js';

/*
 * Reading what Redis and the scripts answer into what the store contract returns, shared by
 * both topologies.
 */

/**
 * Why an update rejects when another session holds its new token hash, or the hash it retires.
 * Never by chance; plain errors (503), as the contract names a typed conflict for `insert` only.
 */
export const TOKEN_IN_USE = 'Another session already uses this token hash';
export const RETIRED_IN_USE = 'Another session already retired this token hash';

export const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });
export const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

export function inserted(evicted: readonly string[]): InsertResult {
  return { status: 'inserted', evicted };
}

/** Reads the standalone insert script's reply; rejects for an id or token hash in use. */
export function readInsertReply(reply: unknown): InsertResult {
  if (reply === 'ID') throw new StoreConflictError('session id');
  if (reply === 'TOKEN') throw new StoreConflictError('token hash');
  if (reply === 'CONFLICT') return CONFLICT;
  if (reply === 'LIMIT') return LIMIT_REACHED;
  const [status, ...evicted] = asStrings(reply);
  if (status !== 'OK') throw new Error('Unexpected reply from the Redis insert script');
  return inserted(evicted);
}

export function readUpdateReply(reply: unknown): boolean {
  if (reply === 'TOKEN') throw new Error(TOKEN_IN_USE);
  if (reply === 'RETIRED') throw new Error(RETIRED_IN_USE);
  return reply === 1;
}

export function toMatch(
  id: string | undefined,
  record: Buffer | undefined,
  grace: string | undefined,
): TokenMatch {
  if (id === undefined || record === undefined) throw new Error(CORRUPT);
  return {
    session: decodeRecord(id, record),
    retiredGraceUntil: grace === undefined ? null : decodeInteger(grace),
  };
}

/** The sessions still live at `now`, oldest first. */
export function live(sessions: StoredSession[], now: number): StoredSession[] {
  return sessions
    .filter((session) => expiresAt(session) > now)
    .sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id));
}

/** The eviction order of SM-34: smallest `lastSeenAt`, then `createdAt`, then `id`. */
export function leastRecentlyUsedFirst(a: StoredSession, b: StoredSession): number {
  return a.lastSeenAt - b.lastSeenAt || a.createdAt - b.createdAt || compareIds(a.id, b.id);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function asBuffers(reply: unknown): Buffer[] {
  if (!Array.isArray(reply)) throw new Error(CORRUPT);
  return reply.map((item) => {
    if (!Buffer.isBuffer(item)) throw new Error(CORRUPT);
    return item;
  });
}

export function asStrings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new Error(CORRUPT);
  return reply.map((item) => {
    if (typeof item !== 'string') throw new Error(CORRUPT);
    return item;
  });
}

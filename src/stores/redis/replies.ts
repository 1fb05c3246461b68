import { expiresAt } from '../../core/store.js';
import type { InsertResult, StoredSession, TokenMatch } from '../../core/store.js';
import { CORRUPT, decodeInteger, decodeRecord } from './record.js';

/*
 * Reading what Redis and the scripts answer into what the store contract returns, shared by
 * both topologies.
 */

export const TOKEN_IN_USE = 'Another session already uses this token hash';
export const ID_IN_USE = 'A session with this id already exists';

export const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });
export const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

export function inserted(evicted: readonly string[]): InsertResult {
  return { status: 'inserted', evicted };
}

/** Reads the standalone insert script's reply; rejects for an id or token hash in use. */
export function readInsertReply(reply: unknown): InsertResult {
  if (reply === 'ID') throw new Error(ID_IN_USE);
  if (reply === 'TOKEN') throw new Error(TOKEN_IN_USE);
  if (reply === 'CONFLICT') return CONFLICT;
  if (reply === 'LIMIT') return LIMIT_REACHED;
  const [status, ...evicted] = asStrings(reply);
  if (status !== 'OK') throw new Error('Unexpected reply from the Redis insert script');
  return inserted(evicted);
}

export function readUpdateReply(reply: unknown): boolean {
  if (reply === 'TOKEN') throw new Error(TOKEN_IN_USE);
  if (reply === 'RETIRED') throw new Error('Another session already retired this token hash');
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

/*
 * deleteAll walks the record keys with SCAN. Its cursor names the node (the index of a master
 * in address order; always 0 on one server) and that node's SCAN cursor: `<node>:<cursor>`.
 */

/** Where one deleteAll call starts. */
export interface ScanPosition {
  readonly node: number;
  readonly cursor: string;
}

/** SCAN COUNT of one batch: about the limit, within bounds that keep a batch short. */
export function scanCount(limit: number): number {
  return Math.min(Math.max(limit, 100), 1_000);
}

/** SCAN batches one deleteAll call runs at most, so that a sparse keyspace costs bounded time. */
export const SCAN_BATCHES_PER_CALL = 10;

export function decodeScanPosition(cursor: string | null): ScanPosition {
  if (cursor === null) return { node: 0, cursor: '0' };
  const match = /^(\d{1,4}):(\d{1,20})$/.exec(cursor);
  if (match === null) throw new RangeError('Not a cursor this Redis store returned');
  return { node: Number(match[1]), cursor: match[2] as string };
}

export function encodeScanPosition(position: ScanPosition | null): string | null {
  return position === null ? null : `${position.node}:${position.cursor}`;
}

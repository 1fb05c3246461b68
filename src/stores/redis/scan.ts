import type { DeleteAllOptions, DeleteAllResult } from '../../core/store.js';

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

/** Where one deleteAll call starts, how many sessions it may delete, and its SCAN COUNT. */
export interface DeleteAllStart {
  readonly position: ScanPosition;
  readonly room: number;
  readonly count: number;
}

/**
 * The start of a deleteAll call, or null when a limit below 1 leaves it nothing to do. Throws
 * for a cursor this store did not return, whatever the limit.
 */
export function startDeleteAll({ cursor, limit }: DeleteAllOptions): DeleteAllStart | null {
  const position = decodeScanPosition(cursor);
  if (!(limit >= 1)) return null;
  return { position, room: Math.floor(limit), count: scanCount(limit) };
}

/** What a deleteAll call that deletes nothing and ends the pass returns. */
export function nothingDeleted(): DeleteAllResult {
  return { deleted: [], cursor: null };
}

import type { InsertResult } from './store-types.js';

/** The replaced session is gone or at another version (SM-31): the insert changed nothing. */
export const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });

/** The user's session limit refuses the insert (SM-34): it changed nothing. */
export const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

/** The insert happened, after deleting `evicted` to respect the user's session limit. */
export function inserted(evicted: readonly string[]): InsertResult {
  return { status: 'inserted', evicted };
}

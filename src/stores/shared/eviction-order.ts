import type { StoredSession } from './store-types.js';

/**
 * The eviction order of SM-34: smallest `lastSeenAt`, then `createdAt`, then `id` compared by
 * UTF-16 code units, which for base64url ids is their byte order, as SQL stores compare them.
 */
export function leastRecentlyUsedFirst(a: StoredSession, b: StoredSession): number {
  return (
    a.lastSeenAt - b.lastSeenAt ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

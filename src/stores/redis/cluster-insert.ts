import { StoreConflictError } from '../../core/errors.js';
import { expiresAt } from '../../core/store.js';
import type {
  InsertOptions,
  InsertResult,
  ReplacedSession,
  StoredSession,
  UserSessionLimit,
} from '../../core/store.js';
import { clusterScripts } from './cluster-scripts.js';
import {
  claim,
  clearPointers,
  drop,
  dropEach,
  indexSession,
  release,
  settleAll,
  versionOf,
} from './cluster-steps.js';
import type { DropOutcome } from './cluster-steps.js';
import type { Context } from './operations.js';
import type { EncodedSession } from './record.js';
import { decodeRecord, encodeSession, encodeUser } from './record.js';
import { CONFLICT, LIMIT_REACHED, inserted, leastRecentlyUsedFirst } from './replies.js';

/**
 * Inserts a session on Cluster: creates its record and token key, indexes it, then deletes the
 * session it replaces and the sessions the limit evicts, in the order that keeps an ended session
 * from coming back (see `dropReplaced` and the session limit below). An id or token hash another
 * session holds rejects with `StoreConflictError` before anything else is written.
 */
export async function insert(
  context: Context,
  session: StoredSession,
  { replaces, limit }: InsertOptions,
): Promise<InsertResult> {
  const encoded = encodeSession(session);
  await createRecord(context, session, encoded);
  try {
    const userId = session.userId;
    return userId === null || limit === null
      ? await insertUnlimited(context, session, encoded, replaces)
      : await insertLimited(context, session, encoded, replaces, limit, userId);
  } catch (error) {
    // The insert rejects, so the new session must not stay behind (its token is unknown
    // to anyone, but it would show in the user's list and count against the limit).
    await settleAll([discard(context, session)]);
    throw error;
  }
}

/**
 * Creates the record (only if the id is free) and claims its token, in parallel: neither is
 * reachable without the other. On failure, undoes its own half and rejects: with
 * `StoreConflictError` when another session holds the id (checked first) or the token hash.
 */
async function createRecord(
  context: Context,
  session: StoredSession,
  encoded: EncodedSession,
): Promise<void> {
  const { client, keys, evaluate } = context;
  const id = session.id;
  const tokenKey = keys.token(session.tokenHash);
  const [claimed, created] = await Promise.allSettled([
    claim(context, tokenKey, id, encoded.expiresAt),
    evaluate(clusterScripts.create, [keys.session(id)], [encoded.record, encoded.expiresAt]),
  ]);
  const claimedNew = claimed.status === 'fulfilled' && claimed.value === 1;
  if (created.status === 'rejected' || created.value === 0) {
    if (claimedNew) await settleAll([release(context, tokenKey, id)]);
    if (created.status === 'rejected') throw asError(created.reason);
    throw new StoreConflictError('session id');
  }
  if (claimed.status === 'rejected' || claimed.value === -1) {
    await settleAll([client.del(keys.session(id))]);
    if (claimed.status === 'rejected') throw asError(claimed.reason);
    throw new StoreConflictError('token hash');
  }
}

/** Undoes {@link createRecord} and the indexing of a session no caller has seen yet. */
async function discard(context: Context, session: StoredSession): Promise<void> {
  const { client, keys } = context;
  const id = session.id;
  await Promise.all([
    client.del(keys.session(id)),
    release(context, keys.token(session.tokenHash), id),
    session.userId === null ? null : client.zrem(keys.user(session.userId), id),
  ]);
}

/**
 * Deletes the session `replaces` names if it is still at that version, after the new session
 * is created and indexed. Anonymous replaced sessions (the usual login) may go while the new
 * session is being indexed: no `deleteByUser` covers them. One of a user's sessions goes only
 * once its replacement is indexed: then a `deleteByUser` racing with the login either finds
 * the replaced record gone and re-reads the index, where the new session already is, or
 * deletes the replaced record first, and this drop fails (SM-31).
 */
async function dropReplaced(
  context: Context,
  indexing: Promise<unknown>,
  replaces: ReplacedSession,
  newSession: 'anonymous' | 'signed-in',
): Promise<DropOutcome> {
  if (newSession === 'anonymous') {
    const [, outcome] = await Promise.all([
      indexing,
      drop(context, replaces.id, versionOf(replaces)),
    ]);
    return outcome;
  }
  const [, first] = await Promise.all([
    indexing,
    drop(context, replaces.id, { kind: 'anonymous', version: replaces.version }),
  ]);
  return first === 'signed-in' ? drop(context, replaces.id, versionOf(replaces)) : first;
}

/** An insert without a session limit to enforce. */
async function insertUnlimited(
  context: Context,
  session: StoredSession,
  encoded: EncodedSession,
  replaces: ReplacedSession | null,
): Promise<InsertResult> {
  const userId = session.userId;
  const indexing =
    userId === null
      ? Promise.resolve([])
      : indexSession(context, userId, session.id, encoded, 'index-only');
  if (replaces === null) {
    await indexing;
    return inserted([]);
  }
  const newSession = userId === null ? 'anonymous' : 'signed-in';
  const dropped = await dropReplaced(context, indexing, replaces, newSession);
  if (typeof dropped !== 'object') {
    await discard(context, session);
    return CONFLICT;
  }
  await clearPointers(context, replaces.id, dropped);
  return inserted([]);
}

/*
 * The session limit on Cluster (SM-34). The user's index lives in one slot, where scripts run
 * one at a time: the `index` script adds the new session and returns the sessions indexed
 * before it. That order is the whole agreement between concurrent logins of one user. Each
 * new session reads the records of the sessions before it (a record is created before it is
 * indexed, so every one of them is readable or really gone) and counts the live ones:
 * - 'refuse': it refuses itself (rolls back) when `max` or more live sessions precede it. Of
 *   logins racing for the last place, the first indexed cannot see the others (they come
 *   after it) and takes the place; every later one sees it and refuses. A login that later rolls back
 *   was still counted by those after it: a race can refuse more logins than needed, never let
 *   one too many in.
 * - 'evict-oldest': it evicts the least recently used of the sessions before it, down to
 *   `max - 1`. The last indexed login saw every session that can still be live besides itself,
 *   so after its evictions at most `max` are live; earlier logins evict a subset of what later
 *   ones evict (the same order on the same records, and a new session is the most recently
 *   used), so they agree on the victims unless a touch moved `lastSeenAt` between their reads.
 * The replaced session is excluded: it goes in the same insert. Nothing is deleted before
 * the new session knows it may stay, and evictions wait for the replaced session's drop, so
 * a refused or conflicting insert deletes nothing.
 */

/** An insert of a signed-in session that must respect the user's session limit. */
async function insertLimited(
  context: Context,
  session: StoredSession,
  encoded: EncodedSession,
  replaces: ReplacedSession | null,
  limit: UserSessionLimit,
  userId: string,
): Promise<InsertResult> {
  const before = await indexSession(context, userId, session.id, encoded, 'list-others');
  const others = before.filter((id) => id !== replaces?.id);
  const victims = await victimsOf(context, userId, others, limit);
  if (victims === null) {
    await discard(context, session);
    return LIMIT_REACHED;
  }
  const tidy: Promise<unknown>[] = [];
  if (replaces !== null) {
    const dropped = await drop(context, replaces.id, versionOf(replaces));
    if (typeof dropped !== 'object') {
      await discard(context, session);
      return CONFLICT;
    }
    tidy.push(clearPointers(context, replaces.id, dropped));
  }
  const { deleted: evicted } = await dropEach(
    context,
    victims,
    { kind: 'user', user: encodeUser(userId) },
    tidy,
  );
  await Promise.all(tidy);
  return inserted(evicted);
}

/**
 * The sessions among `others` (indexed before the new one) to evict so that the new one fits
 * under the limit, least recently used first; null when the policy refuses instead.
 */
async function victimsOf(
  context: Context,
  userId: string,
  others: readonly string[],
  limit: UserSessionLimit,
): Promise<string[] | null> {
  // Fewer indexed sessions than the cap cannot reach it: no need to read their records.
  if (others.length < limit.max) return [];
  const counted = await liveSessionsOf(context, userId, others, limit.now);
  const excess = counted.length + 1 - limit.max;
  if (excess <= 0) return [];
  if (limit.policy === 'refuse') return null;
  return counted
    .sort(leastRecentlyUsedFirst)
    .slice(0, excess)
    .map((victim) => victim.id);
}

/** The records among `ids` that still belong to the user and are live at `now`. */
async function liveSessionsOf(
  { client, keys }: Context,
  userId: string,
  ids: readonly string[],
  now: number,
): Promise<StoredSession[]> {
  const records = await Promise.all(ids.map((id) => client.getBuffer(keys.session(id))));
  const sessions: StoredSession[] = [];
  records.forEach((record, index) => {
    if (record === null) return;
    const session = decodeRecord(ids[index] as string, record);
    if (session.userId === userId && expiresAt(session) > now) sessions.push(session);
  });
  return sessions;
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

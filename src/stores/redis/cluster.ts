import type { Cluster, Redis } from 'ioredis';
import { expiresAt } from '../../core/store.js';
import type {
  DeleteAllResult,
  InsertResult,
  ReplacedSession,
  RetiredToken,
  StoredSession,
  TokenMatch,
  UserSessionLimit,
} from '../../core/store.js';
import type { Connection } from './connection.js';
import type { Keys } from './keys.js';
import type { EncodedSession } from './record.js';
import {
  decodeRecord,
  encodeInteger,
  encodeRetire,
  encodeRetireHash,
  encodeSession,
  encodeUser,
  escapeField,
  recordUser,
} from './record.js';
import {
  CONFLICT,
  ID_IN_USE,
  LIMIT_REACHED,
  SCAN_BATCHES_PER_CALL,
  TOKEN_IN_USE,
  asBuffers,
  asStrings,
  decodeScanPosition,
  encodeScanPosition,
  inserted,
  leastRecentlyUsedFirst,
  live,
  scanCount,
  toMatch,
} from './replies.js';
import type { ScanPosition } from './replies.js';
import { clusterScripts } from './scripts.js';
import type { Operations } from './operations.js';

/** What the cluster `drop` script reports about a deleted session. */
interface Dropped {
  readonly tokenHashes: string[];
  readonly user: string;
}

/**
 * When `drop` deletes a session: always, only if it belongs to the user (encoded), only at that
 * version, only at that version and anonymous, only if created before the instant.
 */
type DropCondition =
  | { readonly kind: 'any' }
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'anonymous'; readonly version: number }
  | { readonly kind: 'before'; readonly instant: number };

/** `missing`: no such record; `refused`: the condition failed; `signed-in`: see 'anonymous'. */
type DropOutcome = Dropped | 'missing' | 'refused' | 'signed-in';

/**
 * The cluster topology: a token hash, a session id and a user id land in three unrelated hash
 * slots, and a script may touch one slot only, so each operation is a short sequence of
 * single-slot scripts, ordered so that no interleaving with another operation resurrects an
 * ended session, and parallel where that is safe. See `createRedisStore` for the round trips
 * and for what is not atomic.
 */
export function clusterOperations(connection: Connection, keys: Keys): Operations {
  const { client, evaluate, evaluateBuffer } = connection;

  async function drop(id: string, condition: DropCondition): Promise<DropOutcome> {
    const reply = await evaluate(
      clusterScripts.drop,
      [keys.session(id), keys.retired(id)],
      dropArguments(condition),
    );
    if (reply === null) return 'missing';
    if (reply === 0) return 'refused';
    if (reply === 1) return 'signed-in';
    const [tokenHash, user, ...retired] = asStrings(reply);
    return { tokenHashes: [tokenHash ?? '', ...retired], user: user ?? '' };
  }

  /** Clears pointers a deleted session left in other slots. Best effort: reads ignore them. */
  async function clearPointers(id: string, dropped: Dropped): Promise<void> {
    const steps: Promise<unknown>[] = dropped.tokenHashes.map((hash) =>
      evaluate(clusterScripts.release, [keys.escapedToken(hash)], [id]),
    );
    if (dropped.user !== '') steps.push(client.zrem(keys.encodedUser(dropped.user), id));
    await settleAll(steps);
  }

  /**
   * Creates the record (only if the id is free) and claims its token, in parallel: neither is
   * reachable without the other. On failure, undoes its own half and rejects.
   */
  async function createRecord(session: StoredSession, encoded: EncodedSession): Promise<void> {
    const id = session.id;
    const tokenKey = keys.token(session.tokenHash);
    const [claimed, created] = await Promise.allSettled([
      evaluate(clusterScripts.claim, [tokenKey], [id, encoded.expiresAt]),
      evaluate(clusterScripts.create, [keys.session(id)], [encoded.record, encoded.expiresAt]),
    ]);
    const claimedNew = claimed.status === 'fulfilled' && claimed.value === 1;
    if (created.status === 'rejected' || created.value === 0) {
      if (claimedNew) await settleAll([evaluate(clusterScripts.release, [tokenKey], [id])]);
      if (created.status === 'rejected') throw asError(created.reason);
      throw new Error(ID_IN_USE);
    }
    if (claimed.status === 'rejected' || claimed.value === -1) {
      await settleAll([client.del(keys.session(id))]);
      if (claimed.status === 'rejected') throw asError(claimed.reason);
      throw new Error(TOKEN_IN_USE);
    }
  }

  /** Undoes {@link createRecord} and the indexing of a session no caller has seen yet. */
  async function discard(session: StoredSession): Promise<void> {
    const id = session.id;
    await Promise.all([
      client.del(keys.session(id)),
      evaluate(clusterScripts.release, [keys.token(session.tokenHash)], [id]),
      session.userId === null ? null : client.zrem(keys.user(session.userId), id),
    ]);
  }

  /** Indexes a signed-in session; with `listOthers`, returns the ids indexed before it. */
  async function indexSession(
    userId: string,
    id: string,
    encoded: EncodedSession,
    listOthers: boolean,
  ): Promise<string[]> {
    const reply = await evaluate(
      clusterScripts.index,
      [keys.user(userId)],
      [id, encoded.absoluteExpiresAt, listOthers ? '1' : '0'],
    );
    return listOthers ? asStrings(reply) : [];
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
    indexing: Promise<unknown>,
    replaces: ReplacedSession,
    newSessionSignedIn: boolean,
  ): Promise<DropOutcome> {
    if (!newSessionSignedIn) {
      const [, outcome] = await Promise.all([indexing, drop(replaces.id, versionOf(replaces))]);
      return outcome;
    }
    const [, first] = await Promise.all([
      indexing,
      drop(replaces.id, { kind: 'anonymous', version: replaces.version }),
    ]);
    return first === 'signed-in' ? drop(replaces.id, versionOf(replaces)) : first;
  }

  /** An insert without a session limit to enforce. */
  async function insertUnlimited(
    session: StoredSession,
    encoded: EncodedSession,
    replaces: ReplacedSession | null,
  ): Promise<InsertResult> {
    const userId = session.userId;
    const indexing =
      userId === null ? Promise.resolve([]) : indexSession(userId, session.id, encoded, false);
    if (replaces === null) {
      await indexing;
      return inserted([]);
    }
    const dropped = await dropReplaced(indexing, replaces, userId !== null);
    if (typeof dropped !== 'object') {
      await discard(session);
      return CONFLICT;
    }
    await clearPointers(replaces.id, dropped);
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
    session: StoredSession,
    encoded: EncodedSession,
    replaces: ReplacedSession | null,
    limit: UserSessionLimit,
    userId: string,
  ): Promise<InsertResult> {
    const before = await indexSession(userId, session.id, encoded, true);
    const others = before.filter((id) => id !== replaces?.id);
    let victims: string[] = [];
    // Fewer indexed sessions than the cap cannot reach it: no need to read their records.
    if (others.length >= limit.max) {
      const counted = await liveSessionsOf(userId, others, limit.now);
      const excess = counted.length + 1 - limit.max;
      if (excess > 0) {
        if (limit.policy === 'refuse') {
          await discard(session);
          return LIMIT_REACHED;
        }
        victims = counted
          .sort(leastRecentlyUsedFirst)
          .slice(0, excess)
          .map((victim) => victim.id);
      }
    }
    const tidy: Promise<void>[] = [];
    if (replaces !== null) {
      const dropped = await drop(replaces.id, versionOf(replaces));
      if (typeof dropped !== 'object') {
        await discard(session);
        return CONFLICT;
      }
      tidy.push(clearPointers(replaces.id, dropped));
    }
    const evicted = await evict(victims, encodeUser(userId));
    await Promise.all(tidy);
    return inserted(evicted);
  }

  /** The records among `ids` that still belong to the user and are live at `now`. */
  async function liveSessionsOf(
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

  /** Deletes the user's sessions `ids` (those still the user's); returns the ids deleted. */
  async function evict(ids: readonly string[], owner: string): Promise<string[]> {
    const outcomes = await Promise.all(ids.map((id) => drop(id, { kind: 'user', user: owner })));
    const evicted: string[] = [];
    const tidy: Promise<void>[] = [];
    outcomes.forEach((outcome, index) => {
      if (typeof outcome !== 'object') return;
      const id = ids[index] as string;
      evicted.push(id);
      tidy.push(clearPointers(id, outcome));
    });
    await Promise.all(tidy);
    return evicted;
  }

  /**
   * Deletes the records among `ids` created before `instant`, at most `room` of them, `room`
   * drops at a time. Their pointers are cleared in the background: `tidy` collects the steps.
   * `complete` is false when `room` ran out before every id was checked.
   */
  async function dropCreatedBefore(
    ids: readonly string[],
    instant: number,
    room: number,
    tidy: Promise<void>[],
  ): Promise<{ deleted: string[]; complete: boolean }> {
    const deleted: string[] = [];
    let next = 0;
    while (next < ids.length) {
      const take = room - deleted.length;
      if (take <= 0) return { deleted, complete: false };
      const chunk = ids.slice(next, next + take);
      next += chunk.length;
      const outcomes = await Promise.all(chunk.map((id) => drop(id, { kind: 'before', instant })));
      outcomes.forEach((outcome, index) => {
        if (typeof outcome !== 'object') return;
        const id = chunk[index] as string;
        deleted.push(id);
        tidy.push(clearPointers(id, outcome));
      });
    }
    return { deleted, complete: true };
  }

  /** The masters in a stable (address) order, so that a cursor's node index means one node. */
  async function masters(): Promise<Redis[]> {
    if (!client.isCluster) return [client as Redis];
    const cluster = client as Cluster;
    // A client still connecting knows no nodes yet; a command waits for its slot map.
    if (cluster.nodes('master').length === 0) await cluster.ping();
    const nodes = cluster.nodes('master');
    if (nodes.length === 0) throw new Error('No Redis Cluster master is known yet');
    const address = (node: Redis): string => `${node.options.host}:${node.options.port}`;
    return [...nodes].sort((a, b) => (address(a) < address(b) ? -1 : 1));
  }

  const operations: Operations = {
    async findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      const id = await client.get(keys.token(tokenHash));
      if (id === null) return null;
      const reply = await evaluateBuffer(
        clusterScripts.read,
        [keys.session(id), keys.retired(id)],
        [escapeField(tokenHash)],
      );
      if (reply === null) return null;
      const [record, grace] = asBuffers(reply);
      return toMatch(id, record, grace?.toString());
    },

    async findById(id: string): Promise<StoredSession | null> {
      const record = await client.getBuffer(keys.session(id));
      return record === null ? null : decodeRecord(id, record);
    },

    async insert(session, { replaces, limit }): Promise<InsertResult> {
      const encoded = encodeSession(session);
      await createRecord(session, encoded);
      try {
        const userId = session.userId;
        return userId === null || limit === null
          ? await insertUnlimited(session, encoded, replaces)
          : await insertLimited(session, encoded, replaces, limit, userId);
      } catch (error) {
        // The insert rejects, so the new session must not stay behind (its token is unknown
        // to anyone, but it would show in the user's list and count against the limit).
        await settleAll([discard(session)]);
        throw error;
      }
    },

    async update(session, { retire }: { readonly retire: RetiredToken | null }) {
      const encoded = encodeSession(session);
      const id = session.id;
      const tokenKey = keys.token(session.tokenHash);
      const casKeys = [keys.session(id), keys.retired(id)];
      const casArgs = (mode: 'fast' | 'full'): (string | number | Buffer)[] => [
        encodeInteger(session.version - 1),
        encoded.record,
        encoded.tokenHash,
        encoded.user,
        encoded.expiresAt,
        encoded.absoluteExpiresAt,
        mode,
        ...encodeRetire(retire),
      ];
      const claim = (): Promise<unknown> =>
        evaluate(clusterScripts.claim, [tokenKey], [id, encoded.expiresAt]);
      const prepare = (): Promise<unknown>[] => {
        const steps: Promise<unknown>[] = [];
        if (retire !== null) {
          steps.push(
            evaluate(
              clusterScripts.claim,
              [keys.token(retire.tokenHash)],
              [id, encoded.absoluteExpiresAt],
            ),
          );
        }
        if (session.userId !== null) {
          steps.push(indexSession(session.userId, id, encoded, false));
        }
        return steps;
      };

      const compareAndSet = (mode: 'fast' | 'full'): Promise<unknown> =>
        evaluate(clusterScripts.compareAndSet, casKeys, casArgs(mode));

      let claimed: unknown;
      let reply: unknown = 0;
      if (retire === null) {
        // An ordinary touch: the record changes in place and the token key's TTL follows, both
        // in one round trip. Anything more (a new token, a new user, a later absolute expiry)
        // must reach the other slots first: 'PREPARE' says so, and nothing was written.
        [claimed, reply] = await Promise.all([claim(), compareAndSet('fast')]);
        if (claimed !== -1 && Array.isArray(reply) && reply[0] === 'PREPARE') {
          await Promise.all(prepare());
          reply = await compareAndSet('full');
        }
      } else {
        // A rotation: the new token key, the retired token's longer TTL and the user index go
        // first, so that the moment the record names the new token, both tokens resolve.
        [claimed] = await Promise.all([claim(), ...prepare()]);
        if (claimed !== -1) reply = await compareAndSet('full');
      }
      if (claimed === -1) {
        if (reply === 0) return false;
        throw new Error(TOKEN_IN_USE);
      }
      if (!Array.isArray(reply) || reply[0] !== 'OK') {
        if (claimed === 1) await settleAll([evaluate(clusterScripts.release, [tokenKey], [id])]);
        return false;
      }
      // Committed: from here on, only pointers that reads already ignore are tidied up.
      const [, oldTokenHash, oldUser] = asStrings(reply);
      const tidy: Promise<unknown>[] = [];
      if (oldTokenHash !== encoded.tokenHash && oldTokenHash !== encodeRetireHash(retire)) {
        tidy.push(evaluate(clusterScripts.release, [keys.escapedToken(oldTokenHash ?? '')], [id]));
      }
      if (oldUser !== undefined && oldUser !== '' && oldUser !== encoded.user) {
        tidy.push(client.zrem(keys.encodedUser(oldUser), id));
      }
      await settleAll(tidy);
      return true;
    },

    async delete(id: string): Promise<boolean> {
      const dropped = await drop(id, { kind: 'any' });
      if (typeof dropped !== 'object') return false;
      await clearPointers(id, dropped);
      return true;
    },

    /*
     * Reads the index, then drops each member that is still the user's. A member found already
     * gone may have been replaced by a login racing with this call; that login indexed its new
     * session before it dropped the old one (see `dropReplaced`), so reading the index again
     * finds it. Rounds repeat while they meet such members and the index holds ids not yet
     * seen; ids are never reused, so every round makes progress.
     */
    async deleteByUser(userId, { except }): Promise<string[]> {
      const indexKey = keys.user(userId);
      const owner = encodeUser(userId);
      const seen = new Set<string>(except === null ? [] : [except]);
      const deleted: string[] = [];
      for (;;) {
        const members = asStrings(await evaluate(clusterScripts.members, [indexKey], []));
        const candidates = members.filter((id) => !seen.has(id));
        if (candidates.length === 0) break;
        for (const id of candidates) seen.add(id);
        const outcomes = await Promise.all(
          candidates.map((id) => drop(id, { kind: 'user', user: owner })),
        );
        const gone: string[] = [];
        const tidy: Promise<unknown>[] = [];
        outcomes.forEach((outcome, index) => {
          const id = candidates[index] as string;
          if (outcome === 'missing') gone.push(id);
          if (typeof outcome !== 'object') return;
          deleted.push(id);
          tidy.push(clearPointers(id, outcome));
        });
        if (gone.length > 0) tidy.push(client.zrem(indexKey, ...gone));
        await settleAll(tidy);
        if (gone.length === 0) break;
      }
      return deleted;
    },

    /*
     * SCAN on each master in turn, then a conditional drop per record found (each record is in
     * its own slot). At most about one SCAN batch of ids is held at once.
     */
    async deleteAll({ createdBefore, limit, cursor }): Promise<DeleteAllResult> {
      let position: ScanPosition = decodeScanPosition(cursor);
      if (!(limit >= 1)) return { deleted: [], cursor: null };
      const nodes = await masters();
      const room = Math.floor(limit);
      const deleted: string[] = [];
      const tidy: Promise<void>[] = [];
      try {
        for (let batch = 0; batch < SCAN_BATCHES_PER_CALL && deleted.length < room; batch++) {
          const node = nodes[position.node];
          if (node === undefined) break;
          const [next, found] = await node.scan(
            position.cursor,
            'MATCH',
            keys.recordPattern,
            'COUNT',
            scanCount(limit),
            'TYPE',
            'string',
          );
          const ids = found.map((key) => keys.idOfRecordKey(key));
          const step = await dropCreatedBefore(ids, createdBefore, room - deleted.length, tidy);
          deleted.push(...step.deleted);
          // Out of room inside the batch: the next call scans it again from where it started.
          if (!step.complete) break;
          position =
            next === '0'
              ? { node: position.node + 1, cursor: '0' }
              : { node: position.node, cursor: next };
        }
      } finally {
        await settleAll(tidy);
      }
      return {
        deleted,
        cursor: nodes[position.node] === undefined ? null : encodeScanPosition(position),
      };
    },

    async listByUser(userId: string, now: number): Promise<StoredSession[]> {
      const indexKey = keys.user(userId);
      const members = asStrings(await evaluate(clusterScripts.members, [indexKey], []));
      const records = await Promise.all(members.map((id) => client.getBuffer(keys.session(id))));
      const owner = encodeUser(userId);
      const sessions: StoredSession[] = [];
      const gone: string[] = [];
      records.forEach((record, index) => {
        const id = members[index] as string;
        if (record === null) gone.push(id);
        else if (recordUser(record) === owner) sessions.push(decodeRecord(id, record));
      });
      if (gone.length > 0) await settleAll([client.zrem(indexKey, ...gone)]);
      return live(sessions, now);
    },
  };
  return operations;
}

function versionOf(replaces: ReplacedSession): DropCondition {
  return { kind: 'version', version: replaces.version };
}

function dropArguments(condition: DropCondition): string[] {
  switch (condition.kind) {
    case 'any':
      return ['any', ''];
    case 'user':
      return ['user', condition.user];
    case 'version':
    case 'anonymous':
      return [condition.kind, encodeInteger(condition.version)];
    case 'before':
      return ['before', String(condition.instant)];
  }
}

/** Awaits every step, ignoring failures: for tidying that reads do not depend on. */
async function settleAll(steps: readonly Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(steps);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

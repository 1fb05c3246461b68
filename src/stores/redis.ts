import type {
  DeleteAllOptions,
  InsertOptions,
  RetiredToken,
  SessionStore,
  StoredSession,
} from '../core/store.js';
import { clusterOperations } from './redis/cluster.js';
import { openConnection } from './redis/connection.js';
import { makeKeys } from './redis/keys.js';
import { findById } from './redis/operations.js';
import type { Context } from './redis/operations.js';
import { resolveOptions } from './redis/options.js';
import type { RedisStoreOptions } from './redis/options.js';
import { standaloneOperations } from './redis/standalone.js';

export type { RedisStoreCommonOptions, RedisStoreOptions } from './redis/options.js';

/**
 * A session store in Redis or Redis Cluster, through ioredis.
 *
 * Records are compact strings keyed by the session id, found from a token by a pointer keyed by
 * the SHA-256 token hash (the store never sees a token), and listed per user by a sorted set.
 * Every key carries a TTL that follows the session's deadlines, so expired sessions vanish
 * without a sweeper and {@link SessionStore.purgeExpired} only checks the connection and
 * returns 0. Lua scripts (EVALSHA) keep the pointers and the user index consistent with the
 * records: nothing is read, changed and written back from the client.
 *
 * **Single node** (`topology: 'standalone'`): every operation is one script, so one round trip,
 * and atomic: `insert` checks the replaced session's version, counts the user's live sessions
 * and evicts or refuses in the same step; `deleteByUser` is one step against every insert.
 * `deleteAll` is one round trip per call too: the script walks the keyspace with `SCAN` (at
 * most 10 batches of 100 to 1,000 keys, never `KEYS`), so a call blocks the server only briefly.
 *
 * **Redis Cluster**: a script may only touch one hash slot, and a token hash, a session id and a
 * user id land in three unrelated slots, so operations become short ordered sequences of
 * single-slot scripts (parallel where safe). Round trips:
 * - reading by token, 2 (pointer, then record; 1 for an unknown token); by id, 1;
 * - `update`: an ordinary touch, 1; a rotation, a new user or a later absolute expiry, 2;
 * - `insert`: anonymous, 1; signed in, 2; a login replacing an anonymous session, 3; replacing
 *   a signed-in session (regenerate), or any login under a session limit, 4; a login when the
 *   user already has `max` sessions indexed, 6 to evict (reading their records, then evicting)
 *   or 4 to refuse;
 * - `delete`, 2; `listByUser`, 2; `deleteByUser`, 3, and 1 more when it finds a session already
 *   gone (to look for a racing replacement; 2 more again if it finds one);
 * - `deleteAll`, per `SCAN` batch of one master: the `SCAN`, then the drops (clearing their
 *   pointers overlaps the next batch); at most 10 batches per call.
 *
 * What this costs in atomicity on Cluster. Each step is atomic, and the steps are ordered so
 * that nothing ended comes back and a completed write is always reachable and indexed: a login
 * creates and indexes its new session first, then deletes the replaced one only if it is still
 * at the version read, and otherwise deletes the new one again (`conflict`); `deleteByUser`
 * reads the index again when it finds a member already gone, so a login replacing one of the
 * user's sessions cannot slip past it; a limited login decides to refuse or evict before it
 * deletes anything, and evicts only once the replaced session is deleted, so `conflict` and
 * `limit-reached` delete nothing. What is not atomic:
 * - until a losing insert (`conflict`, `limit-reached`) has rolled back, its new session is
 *   briefly listed by `listByUser` and counted by concurrent logins of the same user: racing
 *   logins may be refused, or evict, more than strictly needed, but never let the user exceed
 *   the limit (the user index orders them; see `insertLimited` in redis/cluster-insert.ts);
 * - a new session can be evicted or revoked by a racing call before its own insert resolves
 *   `inserted`; the caller then holds a token that finds nothing;
 * - an anonymous session that replaces one of the user's sessions while `deleteByUser` runs
 *   survives it (it carries no user);
 * - `deleteAll` walks the masters one after another and sees a session written during the walk
 *   only on a later pass, as the contract allows;
 * - a step that fails midway (connection lost) rejects the operation and leaves at worst
 *   pointers that reads ignore until their TTLs end, or the replaced session deleted and the
 *   new one rolled back.
 *
 * An insert whose session id or token hash another session already holds (current or retired)
 * rejects with a `StoreConflictError` (`ERR_STORE_CONFLICT`, 409) and changes nothing, on both
 * topologies: with random ids and tokens that means a broken random source or a hostile writer,
 * never an outage. The check costs no extra round trip: the insert's own scripts report it. On
 * Cluster, a token key left behind by a failed step still counts as held until its TTL ends.
 *
 * A session cannot replace itself (`replaces.id === session.id`): a replacement needs a new id
 * (SM-16), and the insert rejects.
 *
 * When the connection drops, calls reject at once until ioredis reconnects, and every call
 * rejects after `timeoutSeconds` at the latest; the manager answers 503. Losing and regaining the
 * connection each emit one process warning (type `StrongroomWarning`, codes
 * `STRONGROOM_REDIS_UNAVAILABLE` and `STRONGROOM_REDIS_RESTORED`), not one per request. The store
 * listens to the client's `error` events for that, which also silences ioredis's own
 * "Unhandled error event" logging for a client without a listener of its own.
 *
 * Requires Redis 7.0 or later (or a compatible server such as Valkey): the scripts use
 * `PEXPIRETIME` and `PEXPIREAT … GT`.
 *
 * The standalone scripts reach keys they find on the way (the session a token points to), which a
 * Redis server allows but a cluster proxy or Dragonfly (by default) does not: use
 * `topology: 'cluster'` there. Invalid options throw a `ConfigError` listing every problem.
 *
 * @example
 * ```ts
 * import { createRedisStore } from 'strongroom/stores/redis';
 *
 * const store = createRedisStore({ url: 'redis://127.0.0.1:6379' });
 * // ... on shutdown:
 * await store.close();
 * ```
 *
 * @example Redis Cluster, with a client the application owns
 * ```ts
 * import { Cluster } from 'ioredis';
 * import { createRedisStore } from 'strongroom/stores/redis';
 *
 * const cluster = new Cluster([{ host: '10.0.0.1', port: 6379 }], {
 *   redisOptions: { maxRetriesPerRequest: 1 },
 * });
 * const store = createRedisStore({ client: cluster, keyPrefix: 'myapp:sessions:' });
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  const resolved = resolveOptions(options);
  const connection = openConnection(resolved);
  const { client, evaluate, evaluateBuffer, run } = connection;
  const context: Context = { client, evaluate, evaluateBuffer, keys: makeKeys(resolved.keyPrefix) };
  const implementation =
    resolved.topology === 'cluster' ? clusterOperations(context) : standaloneOperations(context);

  async function purgeExpired(): Promise<number> {
    // Every key carries a TTL that follows the session's deadlines: Redis drops expired
    // sessions, retired tokens and index entries itself. Still one round trip, so that a caller
    // looping on purgeExpired learns when Redis is down.
    await client.ping();
    return 0;
  }

  return {
    findByTokenHash: (tokenHash: string) =>
      run('findByTokenHash', () => implementation.findByTokenHash(tokenHash)),
    findById: (id: string) => run('findById', () => findById(context, id)),
    insert: (session: StoredSession, insertOptions: InsertOptions) =>
      run('insert', async () => {
        if (insertOptions.replaces?.id === session.id) {
          throw new Error('A session cannot replace itself: a replacement needs a new id');
        }
        return implementation.insert(session, insertOptions);
      }),
    update: (session: StoredSession, updateOptions: { readonly retire: RetiredToken | null }) =>
      run('update', () => implementation.update(session, updateOptions)),
    delete: (id: string) => run('delete', () => implementation.delete(id)),
    deleteByUser: (userId: string, deleteOptions: { readonly except: string | null }) =>
      run('deleteByUser', () => implementation.deleteByUser(userId, deleteOptions)),
    deleteAll: (deleteOptions: DeleteAllOptions) =>
      run('deleteAll', () => implementation.deleteAll(deleteOptions)),
    listByUser: (userId: string, now: number) =>
      run('listByUser', () => implementation.listByUser(userId, now)),
    purgeExpired: () => run('purgeExpired', purgeExpired),
    close: () => connection.close(),
  };
}

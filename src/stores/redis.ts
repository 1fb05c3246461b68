import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Cluster } from 'ioredis';
import { ConfigError } from '../core/errors.js';
import type { ConfigProblem } from '../core/errors.js';
import { expiresAt } from '../core/store.js';
import type { RetiredToken, SessionStore, StoredSession, TokenMatch } from '../core/store.js';

interface RedisStoreCommonOptions {
  /**
   * Prefix of every key the store writes, so that it can share a Redis database with the
   * application (and several stores can share one server). 1 to 64 letters, digits and
   * `_ : . - /`; no braces, because the store adds its own Redis Cluster hash tags.
   *
   * @default 'strongroom:'
   */
  readonly keyPrefix?: string;
  /**
   * How long one store operation may take, in seconds, before it rejects. The session manager
   * turns the rejection into a `StoreUnavailableError` (503), so a Redis server that is down or
   * stuck costs each request at most this long, never a hung request. While the store knows the
   * connection is down (between a lost connection and the next successful reconnect), calls
   * reject at once without waiting. Fractions are allowed.
   *
   * @default 2
   */
  readonly timeoutSeconds?: number;
  /**
   * How the store's Lua scripts reach keys. `'standalone'`: each operation is one script that
   * follows pointers between keys on the server (a token hash to its session, a user to their
   * sessions), so every operation is one round trip and atomic. `'cluster'`: each script only
   * touches keys of one hash slot, which Redis Cluster requires; see {@link createRedisStore} for
   * what that costs. Defaults to `'cluster'` for an ioredis `Cluster` client and to
   * `'standalone'` otherwise. Choose `'cluster'` for a plain client only when something between
   * the store and Redis routes by declared keys (a cluster proxy) or requires scripts to declare
   * every key they touch (Dragonfly's default).
   *
   * @default 'cluster' for a `Cluster` client, else 'standalone'
   */
  readonly topology?: 'standalone' | 'cluster';
}

/**
 * Options of {@link createRedisStore}: either a `url` the store connects to (and disconnects from
 * on `close()`), or an ioredis `client` the caller created and keeps ownership of.
 */
export type RedisStoreOptions = RedisStoreCommonOptions &
  (
    | {
        /**
         * `redis://[[user]:password@]host[:port][/db]` or `rediss://…` for TLS. The store opens an
         * ioredis client tuned to fail fast (a command is retried over at most one reconnect;
         * reconnects back off up to 2 s) and quits it on {@link SessionStore.close}. For Redis
         * Cluster, Sentinel or custom TLS options, pass a `client` instead.
         */
        readonly url: string;
        readonly client?: never;
      }
    | {
        /**
         * An ioredis `Redis` or `Cluster` instance. The store never closes it. It must not have
         * ioredis's own `keyPrefix` option (use the store's `keyPrefix`), and a `Cluster` must
         * read from masters (`scaleReads: 'master'`, the default): a replica can still hold a
         * session that was just revoked. For fast failure during an outage, create it with
         * `maxRetriesPerRequest: 1`; {@link RedisStoreCommonOptions.timeoutSeconds} bounds every
         * call regardless.
         */
        readonly client: Redis | Cluster;
        readonly url?: never;
      }
  );

type Client = Redis | Cluster;
type Topology = 'standalone' | 'cluster';

const DEFAULT_KEY_PREFIX = 'strongroom:';
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_:./-]{1,64}$/;
const DEFAULT_TIMEOUT_SECONDS = 2;

/*
 * Key layout (P = keyPrefix; `~` marks a value escaped by `escapeField`):
 *
 *   P{<id>}       string   the session record (see `encodeRecord`), PXAT expiresAt(session)
 *   P{<id>}r      hash     retired token hash~ -> grace deadline (base 36), same TTL as the record
 *   P t:<hash~>   string   token hash -> session id, for the current token and retired ones;
 *                          PXAT expiresAt(session) while current, the absolute expiry once retired
 *   P u:{<user~>} zset     the user's session ids, scored by absolute expiry (only ever raised);
 *                          the key expires with the latest of them
 *
 * A session's record and its retired tokens share the hash slot of `{<id>}`. A token key lives in
 * the slot of its own hash and a user index in the slot of `{<user~>}`. The record is the only
 * authority: a token key or an index entry is a pointer that every read checks against the
 * record (the record names its current token and user; the retired hash names its old tokens).
 * With the standalone scripts, pointers are exact. With the per-slot (cluster) steps, writes are
 * ordered so that a pointer a reader may need always exists before the record that needs it, and
 * a pointer left behind by a failed step points at a record that disowns it, until its TTL ends.
 */

/** Lua shared by every script. */
const LUA_COMMON = `
local function meta(rec)
  local a = string.find(rec, ',', 1, true)
  local b = string.find(rec, ',', a + 1, true)
  local c = string.find(rec, ',', b + 1, true)
  local d = string.find(rec, ',', c + 1, true)
  return string.sub(rec, 1, a - 1), string.sub(rec, a + 1, b - 1), string.sub(rec, b + 1, c - 1),
    tonumber(string.sub(rec, c + 1, d - 1), 36)
end
local function read(skey, rkey, th)
  local rec = redis.call('GET', skey)
  if not rec then return false end
  local _, current = meta(rec)
  if current == th then return {rec} end
  local grace = redis.call('HGET', rkey, th)
  if grace then return {rec, grace} end
  return false
end
local function claim(tkey, sid, at)
  local holder = redis.call('GET', tkey)
  if not holder then
    redis.call('SET', tkey, sid, 'PXAT', at)
    return 1
  end
  if holder ~= sid then return -1 end
  redis.call('PEXPIREAT', tkey, at, 'GT')
  return 0
end
local function release(tkey, sid)
  if redis.call('GET', tkey) == sid then redis.call('DEL', tkey) end
end
local function prune(ukey)
  local t = redis.call('TIME')
  redis.call('ZREMRANGEBYSCORE', ukey, '-inf', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local function index(ukey, sid, abs)
  redis.call('ZADD', ukey, 'GT', abs, sid)
  if redis.call('PEXPIRETIME', ukey) < tonumber(abs) then redis.call('PEXPIREAT', ukey, abs) end
end
`;

/** Lua of the standalone scripts, which find keys by name from ARGV[1], the key prefix. */
const LUA_NAMED = `${LUA_COMMON}
local P = ARGV[1]
local function S(sid) return P .. '{' .. sid .. '}' end
local function R(sid) return P .. '{' .. sid .. '}r' end
local function T(th) return P .. 't:' .. th end
local function U(uid) return P .. 'u:{' .. uid .. '}' end
local function owns(sid, th)
  local rec = redis.call('GET', S(sid))
  if not rec then return false end
  local _, current = meta(rec)
  return current == th or redis.call('HEXISTS', R(sid), th) == 1
end
local function point(th, sid, at)
  if redis.call('GET', T(th)) == sid then
    redis.call('PEXPIREAT', T(th), at, 'GT')
  else
    redis.call('SET', T(th), sid, 'PXAT', at)
  end
end
local function destroy(sid)
  local rec = redis.call('GET', S(sid))
  if not rec then return false end
  local _, th, uid = meta(rec)
  local retired = redis.call('HKEYS', R(sid))
  redis.call('DEL', S(sid), R(sid))
  release(T(th), sid)
  for _, old in ipairs(retired) do release(T(old), sid) end
  if uid ~= '' then redis.call('ZREM', U(uid), sid) end
  return true
end
`;

class Script {
  readonly source: string;
  readonly sha: string;

  constructor(body: string, prelude: string) {
    this.source = `${prelude}\n${body}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }
}

const standaloneScripts = {
  /** KEYS: T(th). ARGV: P, th~. Returns nil or {id, record[, grace]}. */
  find: new Script(
    `local sid = redis.call('GET', KEYS[1])
if not sid then return false end
local found = read(S(sid), R(sid), ARGV[2])
if not found then return false end
return {sid, found[1], found[2]}`,
    LUA_NAMED,
  ),
  /**
   * KEYS: S(id), T(th). ARGV: P, id, record, th~, user~ or '', expiresAt, absolute expiry,
   * '1' and the replaced id, or '0'. Returns 'OK', 'ID' (id in use) or 'TOKEN' (hash in use).
   */
  insert: new Script(
    `local sid, rec, th, uid, exp, abs = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local replaces = ARGV[8] == '1' and ARGV[9]
if sid ~= replaces and redis.call('EXISTS', S(sid)) == 1 then return 'ID' end
local holder = redis.call('GET', T(th))
if holder and holder ~= sid and holder ~= replaces and owns(holder, th) then return 'TOKEN' end
if replaces then destroy(replaces) end
redis.call('SET', T(th), sid, 'PXAT', exp)
redis.call('SET', S(sid), rec, 'PXAT', exp)
if uid ~= '' then
  index(U(uid), sid, abs)
  prune(U(uid))
end
return 'OK'`,
    LUA_NAMED,
  ),
  /**
   * KEYS: S(id), T(th). ARGV: P, id, expected version, record, th~, user~ or '', expiresAt,
   * absolute expiry, '1' and the retired hash~ and grace, or '0'. Returns 1, 0 (version
   * mismatch or no such session), 'TOKEN' or 'RETIRED' (hash owned by another session).
   */
  update: new Script(
    `local sid, rec, th, uid, exp, abs = ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local retired = ARGV[9] == '1' and ARGV[10]
local old = redis.call('GET', S(sid))
if not old then return 0 end
local version, oldTh, oldUid = meta(old)
if version ~= ARGV[3] then return 0 end
if th ~= oldTh then
  local holder = redis.call('GET', T(th))
  if holder and holder ~= sid and owns(holder, th) then return 'TOKEN' end
end
if retired and retired ~= oldTh then
  local holder = redis.call('GET', T(retired))
  if holder and holder ~= sid and owns(holder, retired) then return 'RETIRED' end
end
point(th, sid, exp)
if uid ~= '' then index(U(uid), sid, abs) end
redis.call('SET', S(sid), rec, 'PXAT', exp)
if retired then
  redis.call('HSET', R(sid), retired, ARGV[11])
  point(retired, sid, abs)
end
if th ~= oldTh and retired ~= oldTh then release(T(oldTh), sid) end
redis.call('PEXPIREAT', R(sid), exp)
if oldUid ~= '' and oldUid ~= uid then redis.call('ZREM', U(oldUid), sid) end
return 1`,
    LUA_NAMED,
  ),
  /** KEYS: S(id). ARGV: P, id. Returns 1 when the session existed, else 0. */
  delete: new Script(`return destroy(ARGV[2]) and 1 or 0`, LUA_NAMED),
  /** KEYS: U(user). ARGV: P, user~, '1' and the kept id, or '0'. Returns the deleted ids. */
  deleteByUser: new Script(
    `local uid, except = ARGV[2], ARGV[3] == '1' and ARGV[4]
prune(KEYS[1])
local deleted = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= except then
    local rec = redis.call('GET', S(sid))
    if not rec then
      redis.call('ZREM', KEYS[1], sid)
    else
      local _, _, owner = meta(rec)
      if owner == uid then
        destroy(sid)
        deleted[#deleted + 1] = sid
      end
    end
  end
end
return deleted`,
    LUA_NAMED,
  ),
  /** KEYS: U(user). ARGV: P, user~. Returns {id, record, id, record, …}. */
  listByUser: new Script(
    `local uid = ARGV[2]
prune(KEYS[1])
local found = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local rec = redis.call('GET', S(sid))
  if not rec then
    redis.call('ZREM', KEYS[1], sid)
  else
    local _, _, owner = meta(rec)
    if owner == uid then
      found[#found + 1] = sid
      found[#found + 1] = rec
    end
  end
end
return found`,
    LUA_NAMED,
  ),
};

/** Scripts of the cluster topology: each touches only the keys it declares, all in one slot. */
const clusterScripts = {
  /** KEYS: S(id), R(id). ARGV: th~. Returns nil or {record[, grace]}. */
  read: new Script(`return read(KEYS[1], KEYS[2], ARGV[1])`, LUA_COMMON),
  /** KEYS: S(id). ARGV: record, expiresAt. Returns 1, or 0 when the id is in use. */
  create: new Script(
    `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1`,
    LUA_COMMON,
  ),
  /** KEYS: T(th). ARGV: id, deadline. 1 created, 0 extended, -1 the hash names another session. */
  claim: new Script(`return claim(KEYS[1], ARGV[1], ARGV[2])`, LUA_COMMON),
  /** KEYS: T(th). ARGV: id. */
  release: new Script(
    `release(KEYS[1], ARGV[1])
return 1`,
    LUA_COMMON,
  ),
  /** KEYS: U(user). ARGV: id, absolute expiry. */
  index: new Script(
    `index(KEYS[1], ARGV[1], ARGV[2])
prune(KEYS[1])
return 1`,
    LUA_COMMON,
  ),
  /** KEYS: U(user). Returns the ids indexed under the user, after pruning expired entries. */
  members: new Script(
    `prune(KEYS[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)`,
    LUA_COMMON,
  ),
  /**
   * KEYS: S(id), R(id). ARGV: expected version, record, th~, user~ or '', expiresAt, absolute
   * expiry, 'fast' or 'full', '1' and the retired hash~ and grace, or '0'. Returns 0 (version
   * mismatch or no such session), or {'OK' | 'PREPARE', old th~, old user~}. In 'fast' mode it
   * writes only when no other key must change first: same token, same user, no later
   * absolute expiry; otherwise it answers 'PREPARE' and writes nothing.
   */
  compareAndSet: new Script(
    `local rec, th, uid, exp, abs = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local version, oldTh, oldUid, oldAbs = meta(old)
if version ~= ARGV[1] then return 0 end
if ARGV[7] == 'fast' and (th ~= oldTh or (uid ~= '' and (uid ~= oldUid or tonumber(abs) > oldAbs))) then
  return {'PREPARE', oldTh, oldUid}
end
redis.call('SET', KEYS[1], rec, 'PXAT', exp)
if ARGV[8] == '1' then redis.call('HSET', KEYS[2], ARGV[9], ARGV[10]) end
redis.call('PEXPIREAT', KEYS[2], exp)
return {'OK', oldTh, oldUid}`,
    LUA_COMMON,
  ),
  /**
   * KEYS: S(id), R(id). ARGV: '1' and the user~ the session must belong to, or '0'. Deletes
   * the record and its retired tokens. Returns nil (no such session), 0 (another user's), or
   * {th~, user~, retired th~…} so the caller can clear the pointers in other slots.
   */
  drop: new Script(
    `local rec = redis.call('GET', KEYS[1])
if not rec then return false end
local _, th, uid = meta(rec)
if ARGV[1] == '1' and uid ~= ARGV[2] then return 0 end
local out = {th, uid}
for _, old in ipairs(redis.call('HKEYS', KEYS[2])) do out[#out + 1] = old end
redis.call('DEL', KEYS[1], KEYS[2])
return out`,
    LUA_COMMON,
  ),
};

/** What the cluster `drop` script reports about a deleted session. */
interface Dropped {
  readonly tokenHashes: string[];
  readonly user: string;
}

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
 * Round trips per operation, single node: one for every operation, each atomic. With Redis
 * Cluster, a script may only touch one hash slot, and a token hash, a session id and a user id
 * land in three unrelated slots, so operations become short ordered sequences of single-slot
 * scripts (parallel where safe): reading by token, 2 round trips (pointer, then record); reading
 * by id and an ordinary touch, 1; a rotation, 2; login (`insert` replacing a session), 3;
 * `delete`, 2; `deleteByUser` and `listByUser`, 2 to 3. Each step is atomic and ordered so that a
 * completed write is always reachable and indexed, and a revoked session is gone the moment its
 * record is: `deleteByUser` removes every session indexed when it was called, though a login
 * racing with it may survive (as with any store). A step that fails midway leaves at worst
 * pointers that reads ignore until their TTLs end, and the operation rejects.
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
  const { keyPrefix: prefix, timeoutMs, topology } = resolved;
  const ownsClient = resolved.client === undefined;
  const client: Client = resolved.client ?? openClient(resolved.url);

  let closed = false;
  /** Since when the connection is down (calls fail fast), and whether that was announced. */
  let lostSince: number | null = null;
  let warned = false;
  let lastError = 'connection closed';

  const onError = (error: unknown): void => {
    lastError = error instanceof Error ? error.message : String(error);
  };
  const onClose = (): void => {
    lostSince ??= Date.now();
  };
  // Announced when ioredis starts reconnecting, so an intentional quit() is not reported.
  const onReconnecting = (): void => {
    lostSince ??= Date.now();
    if (warned || closed) return;
    warned = true;
    process.emitWarning(
      `Strongroom's Redis session store lost its connection (${lastError}); session operations ` +
        'fail (503) until it is restored.',
      { type: 'StrongroomWarning', code: 'STRONGROOM_REDIS_UNAVAILABLE' },
    );
  };
  const onReady = (): void => {
    const since = lostSince;
    lostSince = null;
    if (!warned || since === null) return;
    warned = false;
    if (closed) return;
    process.emitWarning(
      `Strongroom's Redis session store is connected again after ` +
        `${((Date.now() - since) / 1_000).toFixed(1)} s.`,
      { type: 'StrongroomWarning', code: 'STRONGROOM_REDIS_RESTORED' },
    );
  };
  // A caller's client may already be down: fail fast until it is back, as after a loss.
  if (['close', 'reconnecting', 'end'].includes(client.status)) lostSince = Date.now();
  client.on('error', onError);
  client.on('close', onClose);
  client.on('reconnecting', onReconnecting);
  client.on('ready', onReady);

  const key = {
    session: (id: string): string => `${prefix}{${id}}`,
    retired: (id: string): string => `${prefix}{${id}}r`,
    token: (hash: string): string => `${prefix}t:${escapeField(hash)}`,
    user: (userId: string): string => `${prefix}u:{${encodeUser(userId)}}`,
  };

  async function evaluate(
    script: Script,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  /** Like {@link evaluate}, with bulk replies as Buffers: records may hold raw bytes. */
  async function evaluateBuffer(
    script: Script,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
  ): Promise<unknown> {
    try {
      return await client.callBuffer('evalsha', [script.sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.callBuffer('eval', [script.source, keys.length, ...keys, ...args]);
    }
  }

  /** Runs one store operation: rejects at once when closed or disconnected, else within the timeout. */
  function run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error('The Redis session store is closed'));
    if (lostSince !== null) {
      return Promise.reject(
        new Error(`Redis is unreachable (${lastError}); ${operation} was not attempted`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`Redis did not complete ${operation} within ${timeoutMs / 1_000} s`));
      }, timeoutMs);
      body().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Clears pointers a deleted session left in other slots. Best effort: reads ignore them. */
  async function clearPointers(id: string, dropped: Dropped): Promise<void> {
    const steps: Promise<unknown>[] = dropped.tokenHashes.map((hash) =>
      evaluate(clusterScripts.release, [`${prefix}t:${hash}`], [id]),
    );
    if (dropped.user !== '') steps.push(client.zrem(`${prefix}u:{${dropped.user}}`, id));
    await settleAll(steps);
  }

  async function drop(id: string, owner: string | null): Promise<Dropped | 'missing' | 'foreign'> {
    const reply = await evaluate(
      clusterScripts.drop,
      [key.session(id), key.retired(id)],
      owner === null ? ['0'] : ['1', owner],
    );
    if (reply === null) return 'missing';
    if (reply === 0) return 'foreign';
    const [tokenHash, user, ...retired] = asStrings(reply);
    return { tokenHashes: [tokenHash ?? '', ...retired], user: user ?? '' };
  }

  const standalone: SessionStore = {
    async findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      const reply = await evaluateBuffer(
        standaloneScripts.find,
        [key.token(tokenHash)],
        [prefix, escapeField(tokenHash)],
      );
      if (reply === null) return null;
      const [id, record, grace] = asBuffers(reply);
      return toMatch(id?.toString(), record, grace?.toString());
    },
    findById,
    async insert(session, { replaces }): Promise<void> {
      const encoded = encodeSession(session);
      const reply = await evaluate(
        standaloneScripts.insert,
        [key.session(session.id), key.token(session.tokenHash)],
        [
          prefix,
          session.id,
          encoded.record,
          encoded.tokenHash,
          encoded.user,
          encoded.expiresAt,
          encoded.absoluteExpiresAt,
          ...(replaces === null ? ['0'] : ['1', replaces]),
        ],
      );
      checkInsertReply(reply);
    },
    async update(session, { retire }): Promise<boolean> {
      const encoded = encodeSession(session);
      const reply = await evaluate(
        standaloneScripts.update,
        [key.session(session.id), key.token(session.tokenHash)],
        [
          prefix,
          session.id,
          encodeInteger(session.version - 1),
          encoded.record,
          encoded.tokenHash,
          encoded.user,
          encoded.expiresAt,
          encoded.absoluteExpiresAt,
          ...encodeRetire(retire),
        ],
      );
      return checkUpdateReply(reply);
    },
    async delete(id: string): Promise<boolean> {
      return (await evaluate(standaloneScripts.delete, [key.session(id)], [prefix, id])) === 1;
    },
    async deleteByUser(userId, { except }): Promise<string[]> {
      const reply = await evaluate(
        standaloneScripts.deleteByUser,
        [key.user(userId)],
        [prefix, encodeUser(userId), ...(except === null ? ['0'] : ['1', except])],
      );
      return asStrings(reply);
    },
    async listByUser(userId: string, now: number): Promise<StoredSession[]> {
      const reply = asBuffers(
        await evaluateBuffer(
          standaloneScripts.listByUser,
          [key.user(userId)],
          [prefix, encodeUser(userId)],
        ),
      );
      const sessions: StoredSession[] = [];
      for (let index = 0; index + 1 < reply.length; index += 2) {
        sessions.push(
          decodeRecord((reply[index] as Buffer).toString(), reply[index + 1] as Buffer),
        );
      }
      return live(sessions, now);
    },
    purgeExpired,
    close,
  };

  const cluster: SessionStore = {
    async findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      const id = await client.get(key.token(tokenHash));
      if (id === null) return null;
      const reply = await evaluateBuffer(
        clusterScripts.read,
        [key.session(id), key.retired(id)],
        [escapeField(tokenHash)],
      );
      if (reply === null) return null;
      const [record, grace] = asBuffers(reply);
      return toMatch(id, record, grace?.toString());
    },
    findById,
    async insert(session, { replaces }): Promise<void> {
      const encoded = encodeSession(session);
      const id = session.id;
      if (replaces === id) await cluster.delete(id);
      // The pointer and the record in parallel: neither is reachable without the other, and the
      // record is created only if the id is free, before anything is deleted.
      const [claimed, created] = await Promise.allSettled([
        evaluate(clusterScripts.claim, [key.token(session.tokenHash)], [id, encoded.expiresAt]),
        evaluate(clusterScripts.create, [key.session(id)], [encoded.record, encoded.expiresAt]),
      ]);
      if (claimed.status === 'fulfilled' && claimed.value === 1 && created.status !== 'fulfilled') {
        await settleAll([evaluate(clusterScripts.release, [key.token(session.tokenHash)], [id])]);
      }
      if (created.status === 'rejected') throw asError(created.reason);
      if (created.value === 0) {
        if (claimed.status === 'fulfilled' && claimed.value === 1) {
          await settleAll([evaluate(clusterScripts.release, [key.token(session.tokenHash)], [id])]);
        }
        checkInsertReply('ID');
      }
      if (claimed.status === 'rejected' || claimed.value === -1) {
        await settleAll([client.del(key.session(id))]);
        if (claimed.status === 'rejected') throw asError(claimed.reason);
        checkInsertReply('TOKEN');
      }
      // The new session is indexed before the call resolves (so a later deleteByUser finds it);
      // the replaced one is deleted in its own slot, then its pointers are cleared.
      const [, replaced] = await Promise.all([
        session.userId === null
          ? null
          : evaluate(
              clusterScripts.index,
              [key.user(session.userId)],
              [id, encoded.absoluteExpiresAt],
            ),
        replaces === null || replaces === id ? null : drop(replaces, null),
      ]);
      if (replaced !== null && typeof replaced === 'object') {
        await clearPointers(replaces as string, replaced);
      }
    },
    async update(session, { retire }): Promise<boolean> {
      const encoded = encodeSession(session);
      const id = session.id;
      const tokenKey = key.token(session.tokenHash);
      const casKeys = [key.session(id), key.retired(id)];
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
              [key.token(retire.tokenHash)],
              [id, encoded.absoluteExpiresAt],
            ),
          );
        }
        if (session.userId !== null) {
          steps.push(
            evaluate(
              clusterScripts.index,
              [key.user(session.userId)],
              [id, encoded.absoluteExpiresAt],
            ),
          );
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
        tidy.push(evaluate(clusterScripts.release, [`${prefix}t:${oldTokenHash}`], [id]));
      }
      if (oldUser !== undefined && oldUser !== '' && oldUser !== encoded.user) {
        tidy.push(client.zrem(`${prefix}u:{${oldUser}}`, id));
      }
      await settleAll(tidy);
      return true;
    },
    async delete(id: string): Promise<boolean> {
      const dropped = await drop(id, null);
      if (typeof dropped !== 'object') return false;
      await clearPointers(id, dropped);
      return true;
    },
    async deleteByUser(userId, { except }): Promise<string[]> {
      const indexKey = key.user(userId);
      const members = asStrings(await evaluate(clusterScripts.members, [indexKey], []));
      const owner = encodeUser(userId);
      const candidates = members.filter((id) => id !== except);
      const outcomes = await Promise.all(candidates.map((id) => drop(id, owner)));
      const deleted: string[] = [];
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
      return deleted;
    },
    async listByUser(userId: string, now: number): Promise<StoredSession[]> {
      const indexKey = key.user(userId);
      const members = asStrings(await evaluate(clusterScripts.members, [indexKey], []));
      const records = await Promise.all(members.map((id) => client.getBuffer(key.session(id))));
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
    purgeExpired,
    close,
  };

  async function findById(id: string): Promise<StoredSession | null> {
    const record = await client.getBuffer(key.session(id));
    return record === null ? null : decodeRecord(id, record);
  }

  async function purgeExpired(): Promise<number> {
    // Every key carries a TTL that follows the session's deadlines: Redis drops expired
    // sessions, retired tokens and index entries itself. Still one round trip, so that a caller
    // looping on purgeExpired learns when Redis is down.
    await client.ping();
    return 0;
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    client.off('error', onError);
    client.off('close', onClose);
    client.off('reconnecting', onReconnecting);
    client.off('ready', onReady);
    if (!ownsClient) return;
    client.on('error', () => {});
    if (client.status === 'ready') {
      try {
        await withTimeout(client.quit(), timeoutMs);
      } catch {
        // The connection is going away either way.
      }
    }
    client.disconnect();
  }

  const implementation = topology === 'cluster' ? cluster : standalone;
  const guard =
    <A extends unknown[], R>(operation: string, method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      run(operation, () => method(...args));

  return {
    findByTokenHash: guard('findByTokenHash', (tokenHash: string) =>
      implementation.findByTokenHash(tokenHash),
    ),
    findById: guard('findById', (id: string) => implementation.findById(id)),
    insert: guard(
      'insert',
      (session: StoredSession, options: { readonly replaces: string | null }) =>
        implementation.insert(session, options),
    ),
    update: guard(
      'update',
      (session: StoredSession, options: { readonly retire: RetiredToken | null }) =>
        implementation.update(session, options),
    ),
    delete: guard('delete', (id: string) => implementation.delete(id)),
    deleteByUser: guard(
      'deleteByUser',
      (userId: string, options: { readonly except: string | null }) =>
        implementation.deleteByUser(userId, options),
    ),
    listByUser: guard('listByUser', (userId: string, now: number) =>
      implementation.listByUser(userId, now),
    ),
    purgeExpired: guard('purgeExpired', (now: number, limit: number) =>
      implementation.purgeExpired(now, limit),
    ),
    close,
  };
}

const TOKEN_IN_USE = 'Another session already uses this token hash';

function checkInsertReply(reply: unknown): void {
  if (reply === 'ID') throw new Error('A session with this id already exists');
  if (reply === 'TOKEN') throw new Error(TOKEN_IN_USE);
  if (reply !== 'OK') throw new Error('Unexpected reply from the Redis insert script');
}

function checkUpdateReply(reply: unknown): boolean {
  if (reply === 'TOKEN') throw new Error(TOKEN_IN_USE);
  if (reply === 'RETIRED') throw new Error('Another session already retired this token hash');
  return reply === 1;
}

function toMatch(
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

function live(sessions: StoredSession[], now: number): StoredSession[] {
  return sessions
    .filter((session) => expiresAt(session) > now)
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

interface ResolvedOptions {
  readonly url: string;
  readonly client: Client | undefined;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly topology: Topology;
}

function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
  const problems: ConfigProblem[] = [];
  const { url, client } = options as { url?: unknown; client?: unknown };
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  const isCluster = isClient(client) && client.isCluster;
  const topology = options.topology ?? (isCluster ? 'cluster' : 'standalone');

  if ((url === undefined) === (client === undefined)) {
    problems.push({ path: 'url', message: 'give exactly one of `url` and `client`' });
  } else if (url !== undefined && (typeof url !== 'string' || !/^rediss?:\/\//i.test(url))) {
    problems.push({ path: 'url', message: 'must be a redis:// or rediss:// URL' });
  } else if (client !== undefined) {
    if (!isClient(client)) {
      problems.push({ path: 'client', message: 'must be an ioredis Redis or Cluster instance' });
    } else {
      const clientOptions = client.options as { keyPrefix?: unknown; scaleReads?: unknown };
      const redisOptions = (client.options as { redisOptions?: { keyPrefix?: unknown } })
        .redisOptions;
      if (clientOptions.keyPrefix || redisOptions?.keyPrefix) {
        problems.push({
          path: 'client',
          message:
            "must not have ioredis's `keyPrefix` option: the store's scripts name keys " +
            'themselves; use the store option `keyPrefix` instead',
        });
      }
      if (isCluster && (clientOptions.scaleReads ?? 'master') !== 'master') {
        problems.push({
          path: 'client',
          message:
            "must read from masters (`scaleReads: 'master'`): a replica may still hold a " +
            'session that was just revoked',
        });
      }
    }
  }
  if (typeof keyPrefix !== 'string' || !KEY_PREFIX_PATTERN.test(keyPrefix)) {
    problems.push({
      path: 'keyPrefix',
      message:
        'must be 1 to 64 letters, digits and `_ : . - /` (no braces: the store adds its own ' +
        'Redis Cluster hash tags)',
    });
  }
  if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0) || timeoutSeconds > 3_600) {
    problems.push({
      path: 'timeoutSeconds',
      message: 'must be a number of seconds greater than 0 (at most 3600)',
    });
  }
  if (topology !== 'standalone' && topology !== 'cluster') {
    problems.push({ path: 'topology', message: "must be 'standalone' or 'cluster'" });
  } else if (topology === 'standalone' && isCluster) {
    problems.push({
      path: 'topology',
      message: "must be 'cluster' for an ioredis Cluster client (the default)",
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    url: typeof url === 'string' ? url : '',
    client: isClient(client) ? client : undefined,
    keyPrefix,
    timeoutMs: Math.ceil(timeoutSeconds * 1_000),
    topology,
  };
}

function isClient(value: unknown): value is Client {
  const candidate = value as Partial<Redis> | null | undefined;
  return (
    typeof candidate?.evalsha === 'function' &&
    typeof candidate.on === 'function' &&
    typeof candidate.isCluster === 'boolean' &&
    typeof candidate.options === 'object'
  );
}

function openClient(url: string): Redis {
  return new Redis(url, {
    // A command waits for at most one reconnection attempt, then rejects: during an outage the
    // manager answers 503 promptly instead of queueing requests for the server's return.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Awaits every step, ignoring failures: for tidying that reads do not depend on. */
async function settleAll(steps: readonly Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(steps);
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function asBuffers(reply: unknown): Buffer[] {
  if (!Array.isArray(reply)) throw new Error(CORRUPT);
  return reply.map((item) => {
    if (!Buffer.isBuffer(item)) throw new Error(CORRUPT);
    return item;
  });
}

function asStrings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new Error(CORRUPT);
  return reply.map((item) => {
    if (typeof item !== 'string') throw new Error(CORRUPT);
    return item;
  });
}

/*
 * The record: `version,tokenHash~,user~,absoluteExpiresAt,createdAt,authenticatedAt,lastSeenAt,
 * idleExpiresAt,rotatedAt,packed,sealed`. Integers in base 36; the times after createdAt as
 * offsets from it (short for the usual deadlines); authenticatedAt empty when null; user empty
 * when null. The first four fields are what the Lua scripts read. `sealed` runs to the end, so it
 * needs no escaping. `packed` is empty when `sealed` is stored as UTF-8 text; otherwise it is the
 * byte length of a text prefix, and the bytes after it are the base64url tail of `sealed`
 * decoded (`v1.k1.<base64url>` keeps `v1.k1.` as text): a quarter less memory for the payload,
 * which dominates a record. About 60 bytes plus the payload in all.
 */
const CORRUPT = 'Corrupt session record in Redis';
const FIELDS = 10;
/** Shorter base64url tails are kept as text: packing them would save next to nothing. */
const MIN_PACKED_LENGTH = 16;

interface EncodedSession {
  readonly record: Buffer;
  readonly tokenHash: string;
  readonly user: string;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
}

function encodeSession(session: StoredSession): EncodedSession {
  const created = session.createdAt;
  const tokenHash = escapeField(session.tokenHash);
  const user = session.userId === null ? '' : encodeUser(session.userId);
  const { text, bytes } = packSealed(session.sealed);
  const header = [
    encodeInteger(session.version),
    tokenHash,
    user,
    encodeInteger(session.absoluteExpiresAt),
    encodeInteger(created),
    session.authenticatedAt === null ? '' : encodeInteger(session.authenticatedAt - created),
    encodeInteger(session.lastSeenAt - created),
    encodeInteger(session.idleExpiresAt - created),
    encodeInteger(session.rotatedAt - created),
    bytes === null ? '' : encodeInteger(Buffer.byteLength(text)),
    text,
  ].join(',');
  const record = bytes === null ? Buffer.from(header) : Buffer.concat([Buffer.from(header), bytes]);
  const deadline = expiresAt(session);
  // PXAT needs a positive deadline; anything else is a caller bug, refused before any write.
  if (!(deadline >= 1) || !(session.absoluteExpiresAt >= 1)) {
    throw new RangeError('Session deadlines must be positive epoch milliseconds');
  }
  return {
    record,
    tokenHash,
    user,
    expiresAt: deadline,
    absoluteExpiresAt: session.absoluteExpiresAt,
  };
}

/** Splits `sealed` into a text prefix and, when it ends in canonical base64url, its bytes. */
function packSealed(sealed: string): { text: string; bytes: Buffer | null } {
  const start = sealed.lastIndexOf('.') + 1;
  const tail = sealed.slice(start);
  if (tail.length >= MIN_PACKED_LENGTH) {
    const bytes = Buffer.from(tail, 'base64url');
    // Only when decoding is exactly reversible: no padding, no stray characters or bits.
    if (bytes.toString('base64url') === tail) return { text: sealed.slice(0, start), bytes };
  }
  return { text: sealed, bytes: null };
}

function encodeRetire(retire: RetiredToken | null): string[] {
  return retire === null
    ? ['0']
    : ['1', escapeField(retire.tokenHash), encodeInteger(retire.graceUntil)];
}

function encodeRetireHash(retire: RetiredToken | null): string | null {
  return retire === null ? null : escapeField(retire.tokenHash);
}

function decodeRecord(id: string, record: Buffer): StoredSession {
  const fields: string[] = [];
  let position = 0;
  for (let index = 0; index < FIELDS; index++) {
    const comma = record.indexOf(COMMA, position);
    if (comma < 0) throw new Error(CORRUPT);
    fields.push(record.toString('utf8', position, comma));
    position = comma + 1;
  }
  const [
    version,
    tokenHash,
    user,
    absolute,
    created,
    authenticated,
    lastSeen,
    idle,
    rotated,
    packed,
  ] = fields as [string, string, string, string, string, string, string, string, string, string];
  let sealed: string;
  if (packed === '') {
    sealed = record.toString('utf8', position);
  } else {
    const textEnd = position + decodeInteger(packed);
    if (textEnd > record.length) throw new Error(CORRUPT);
    sealed =
      record.toString('utf8', position, textEnd) + record.subarray(textEnd).toString('base64url');
  }
  const createdAt = decodeInteger(created);
  return {
    id,
    tokenHash: unescapeField(tokenHash),
    userId: user === '' ? null : user === '%' ? '' : unescapeField(user),
    createdAt,
    authenticatedAt: authenticated === '' ? null : createdAt + decodeInteger(authenticated),
    lastSeenAt: createdAt + decodeInteger(lastSeen),
    idleExpiresAt: createdAt + decodeInteger(idle),
    absoluteExpiresAt: decodeInteger(absolute),
    rotatedAt: createdAt + decodeInteger(rotated),
    version: decodeInteger(version),
    sealed,
  };
}

const COMMA = 0x2c;

/** The escaped user field of a record, as the index key and the scripts use it. */
function recordUser(record: Buffer): string {
  const first = record.indexOf(COMMA);
  const second = record.indexOf(COMMA, first + 1);
  const third = record.indexOf(COMMA, second + 1);
  if (first < 0 || second < 0 || third < 0) throw new Error(CORRUPT);
  return record.toString('utf8', second + 1, third);
}

function encodeInteger(value: number): string {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError('Session times and versions must be safe integers');
  }
  return value.toString(36);
}

function decodeInteger(text: string): number {
  const value = parseInt(text, 36);
  if (!Number.isSafeInteger(value)) throw new Error(CORRUPT);
  return value;
}

/** `%` and `,` escaped, so that a field never contains the record's separator. */
function escapeField(value: string): string {
  return value.replace(/[%,]/g, (character) => (character === '%' ? '%25' : '%2C'));
}

function unescapeField(value: string): string {
  return value.replace(/%2C|%25/g, (escape) => (escape === '%25' ? '%' : ','));
}

/** A user id as stored: escaped, and the empty id as a lone `%` (which escaping never makes). */
function encodeUser(userId: string): string {
  return userId === '' ? '%' : escapeField(userId);
}

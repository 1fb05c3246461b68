import type { Cluster, Redis } from 'ioredis';
import { ConfigError } from '../../core/errors.js';
import type { ConfigProblem } from '../../core/errors.js';

export interface RedisStoreCommonOptions {
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

export type Client = Redis | Cluster;
export type Topology = 'standalone' | 'cluster';

const DEFAULT_KEY_PREFIX = 'strongroom:';
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_:./-]{1,64}$/;
const DEFAULT_TIMEOUT_SECONDS = 2;

export interface ResolvedOptions {
  readonly url: string;
  readonly client: Client | undefined;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly topology: Topology;
}

export function resolveOptions(options: RedisStoreOptions): ResolvedOptions {
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
    problems.push(...clientProblems(client, isCluster));
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

/** What is wrong with a caller's client: not an ioredis client, or options the store cannot use. */
function clientProblems(client: unknown, isCluster: boolean): ConfigProblem[] {
  if (!isClient(client)) {
    return [{ path: 'client', message: 'must be an ioredis Redis or Cluster instance' }];
  }
  const problems: ConfigProblem[] = [];
  const clientOptions = client.options as { keyPrefix?: unknown; scaleReads?: unknown };
  const redisOptions = (client.options as { redisOptions?: { keyPrefix?: unknown } }).redisOptions;
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
  return problems;
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

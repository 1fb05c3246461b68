import type { SessionStore } from '../core/store.js';

// The one reader of store specs, for the CLI (`dist/src/cli`, in the package) and the demo
// (`dist/demo`, built alongside by tsconfig.build.json and importing `../src/cli/store-spec.js`).
// It lives with the CLI because only `dist/src` ships; it is not a public subpath, so its shape
// can change without a semver promise.

/**
 * A store as a spec string names it (`strongroom --store`, the demo's `STRONGROOM_STORE`).
 * URLs are kept exactly as given: they go to the driver, which reads credentials from them.
 */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'postgres'; readonly url: string };

/** A spec that names no store Strongroom has. The message names the scheme, never the URL. */
export class StoreSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreSpecError';
  }
}

/** Options the caller chooses; they apply to the stores that have them. */
export interface OpenStoreSpecOptions {
  /**
   * Passed to the SQLite and PostgreSQL stores (Redis expires sessions itself). `0` turns the
   * background purge off, for a process that runs one command and exits.
   * @default the store's own
   */
  readonly purgeIntervalSeconds?: number;
}

const SUPPORTED =
  'redis://, rediss://, postgres://, postgresql://, memory: or the path of an SQLite file';

/**
 * A scheme of two characters or more: `postgres:host` (a typo) is refused rather than taken for
 * a file name, while a Windows drive letter (`C:\data\sessions.db`) stays a path.
 */
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/**
 * Reads a store spec: `redis://…`, `rediss://…`, `postgres://…`, `postgresql://…`, `memory:`
 * (schemes in any case) or the path of an SQLite file. Surrounding whitespace is ignored.
 * Throws a {@link StoreSpecError} for an empty spec or an unsupported scheme.
 *
 * @example
 * ```ts
 * parseStoreSpec('redis://127.0.0.1:6379'); // { kind: 'redis', url: 'redis://127.0.0.1:6379' }
 * parseStoreSpec('.data/sessions.db'); // { kind: 'sqlite', path: '.data/sessions.db' }
 * ```
 */
export function parseStoreSpec(spec: string): StoreSpec {
  const trimmed = spec.trim();
  if (trimmed === '') throw new StoreSpecError(`The store spec is empty: use ${SUPPORTED}`);
  const scheme = SCHEME.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'sqlite', path: trimmed };
  const rest = trimmed.slice(scheme.length + 1);
  if ((scheme === 'redis' || scheme === 'rediss') && rest.startsWith('//')) {
    return { kind: 'redis', url: trimmed };
  }
  if ((scheme === 'postgres' || scheme === 'postgresql') && rest.startsWith('//')) {
    return { kind: 'postgres', url: trimmed };
  }
  if (scheme === 'memory' && rest === '') return { kind: 'memory' };
  throw new StoreSpecError(`Unsupported store "${scheme}:": use ${SUPPORTED}`);
}

/**
 * Opens the store a parsed spec names. Each store's module, and with it its driver, is loaded
 * only when that store is chosen: an SQLite setup never needs `pg` or `ioredis` installed.
 *
 * @example
 * ```ts
 * const store = await openStoreSpec(parseStoreSpec(process.env.STRONGROOM_STORE ?? ''), {
 *   purgeIntervalSeconds: 0,
 * });
 * ```
 */
export async function openStoreSpec(
  spec: StoreSpec,
  options: OpenStoreSpecOptions = {},
): Promise<SessionStore> {
  const purge =
    options.purgeIntervalSeconds === undefined
      ? {}
      : { purgeIntervalSeconds: options.purgeIntervalSeconds };
  switch (spec.kind) {
    case 'sqlite': {
      const { createSQLiteStore } = await import('../stores/sqlite.js');
      return createSQLiteStore({ path: spec.path, ...purge });
    }
    case 'memory': {
      const { createMemoryStore } = await import('../stores/memory.js');
      return createMemoryStore();
    }
    case 'redis': {
      const { createRedisStore } = await import('../stores/redis.js');
      return createRedisStore({ url: spec.url });
    }
    case 'postgres': {
      const { createPostgresStore } = await import('../stores/postgres.js');
      return createPostgresStore({ connectionString: spec.url, ...purge });
    }
  }
}

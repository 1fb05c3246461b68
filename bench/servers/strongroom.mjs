// How the benchmark servers (and the store-level benchmark) open Strongroom: straight from the
// built package in ../../dist, so `npm run build` is the only step between a change and a run.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomSecret } from './common.mjs';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = new URL('../../dist/src/', import.meta.url);

/** Each store and adapter is a separate module of the build; a missing one is skipped. */
export const STRONGROOM_MODULES = {
  core: 'index.js',
  'store:memory': 'stores/memory.js',
  'store:sqlite': 'stores/sqlite.js',
  'store:redis': 'stores/redis.js',
  'store:postgres': 'stores/postgres.js',
  'adapter:express': 'adapters/express.js',
  'adapter:express-session': 'adapters/express-session.js',
  'adapter:fastify': 'adapters/fastify.js',
  'adapter:web': 'adapters/web.js',
  'adapter:hono': 'adapters/hono.js',
};

export function strongroomModulePath(name) {
  return fileURLToPath(new URL(STRONGROOM_MODULES[name], DIST));
}

export function hasStrongroomModule(name) {
  return existsSync(strongroomModulePath(name));
}

export function importStrongroom(name) {
  return import(pathToFileURL(strongroomModulePath(name)).href);
}

/**
 * Opens a Strongroom store of `kind` with the connection settings the runner passes in the
 * environment. Options are the ones a production app would pick, except the memory store's
 * bound, raised so that login runs never evict (express-session's MemoryStore is unbounded).
 */
export async function openStrongroomStore(kind, env = process.env, extra = {}) {
  switch (kind) {
    case 'memory': {
      const { createMemoryStore } = await importStrongroom('store:memory');
      return createMemoryStore({
        maxSessions: Number(env.BENCH_MEMORY_MAX_SESSIONS ?? 2_000_000),
        ...extra,
      });
    }
    case 'sqlite': {
      const { createSQLiteStore } = await importStrongroom('store:sqlite');
      return extra.database
        ? createSQLiteStore(extra)
        : createSQLiteStore({ path: required(env, 'BENCH_SQLITE_PATH'), ...extra });
    }
    case 'redis': {
      const { createRedisStore } = await importStrongroom('store:redis');
      return createRedisStore({ url: required(env, 'BENCH_REDIS_URL'), ...extra });
    }
    case 'postgres': {
      const { createPostgresStore } = await importStrongroom('store:postgres');
      const store = createPostgresStore({
        connectionString: required(env, 'BENCH_PG_URL'),
        ...extra,
      });
      if (typeof store.ready === 'function') await store.ready();
      return store;
    }
    default:
      throw new Error(`Unknown Strongroom store "${kind}"`);
  }
}

/**
 * A session manager as the README configures it, over plain HTTP on loopback. CSRF checks are
 * off unless BENCH_CSRF=enforce: none of the other libraries has them, so the main rows compare
 * sessions alone, and one extra variant shows what the checks add.
 */
export async function createBenchManager(store, env = process.env) {
  const { createSessionManager } = await importStrongroom('core');
  const enforce = env.BENCH_CSRF === 'enforce';
  return createSessionManager({
    store,
    keys: [{ id: 'b', secret: randomSecret(32) }],
    cookie: { secure: 'allow-http-development' },
    csrf: enforce
      ? { protection: 'enforce', origins: ['http://127.0.0.1'] }
      : { protection: 'off' },
  });
}

function required(env, name) {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set (the runner sets it)`);
  return value;
}

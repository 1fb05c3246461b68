import type { SessionStore } from '../core/store.js';

/**
 * Opens the store a spec names: `redis://…`, `rediss://…`, `postgres://…`, `postgresql://…`,
 * or the path of an SQLite file. Drivers load only for the store chosen.
 */
export async function openStore(spec: string): Promise<SessionStore> {
  if (/^rediss?:\/\//i.test(spec)) {
    const { createRedisStore } = await import('../stores/redis.js');
    return createRedisStore({ url: spec });
  }
  if (/^postgres(ql)?:\/\//i.test(spec)) {
    const { createPostgresStore } = await import('../stores/postgres.js');
    return createPostgresStore({ connectionString: spec, purgeIntervalSeconds: 0 });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new Error(
      `Unsupported store "${spec.split(':')[0]}": use redis://, postgres:// or an SQLite file path`,
    );
  }
  const { createSQLiteStore } = await import('../stores/sqlite.js');
  return createSQLiteStore({ path: spec, purgeIntervalSeconds: 0 });
}

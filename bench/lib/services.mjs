// The Redis and PostgreSQL servers the store-backed variants use. Each is probed once; when it
// is down its rows are skipped with a note rather than failing the run.
//
// Redis: BENCH_REDIS_URL (default redis://127.0.0.1:6379/9). The benchmark owns that logical
// database: it flushes it between variants, and refuses to touch a non-empty database that it
// did not mark as its own.
// PostgreSQL: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test) is used only to
// create the database BENCH_PG_DATABASE (default strongroom_bench), which the benchmark owns:
// its tables are dropped between variants.
import pg from 'pg';
import { createClient } from 'redis';
import { processName } from './proc.mjs';

const OWNER_KEY = 'strongroom-bench:owner';

export async function probeRedis(env = process.env) {
  const url = env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/9';
  const client = createClient({ url, socket: { connectTimeout: 1500, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    return {
      available: false,
      url,
      note: `Redis at ${redact(url)} is not reachable (${error.message})`,
    };
  }
  try {
    const server = parseInfo(await client.info('server'));
    const size = await client.dbSize();
    if (size > 0 && (await client.get(OWNER_KEY)) === null) {
      await client.quit();
      return {
        available: false,
        url,
        note: `Redis database ${redact(url)} holds ${size} keys that are not the benchmark's; point BENCH_REDIS_URL at an empty database`,
      };
    }
    await client.set(OWNER_KEY, '1');
    const pid = Number(server.process_id);
    const local = processName(pid) !== null;
    return {
      available: true,
      url,
      version: server.redis_version,
      pid: local ? pid : null,
      note: local ? null : 'redis-server is not a local process: its CPU is not measured',
      client,
      async flush() {
        await client.flushDb();
        await client.set(OWNER_KEY, '1');
      },
      async usedMemory() {
        return Number(parseInfo(await client.info('memory')).used_memory);
      },
      async close() {
        await client.quit().catch(() => {});
      },
    };
  } catch (error) {
    await client.quit().catch(() => {});
    return { available: false, url, note: `Redis probe failed (${error.message})` };
  }
}

export async function probePostgres(env = process.env) {
  const adminUrl = env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const database = env.BENCH_PG_DATABASE ?? 'strongroom_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error('BENCH_PG_DATABASE: use [a-z0-9_]');
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (error) {
    return {
      available: false,
      note: `PostgreSQL at ${redact(adminUrl)} is not reachable (${error.message})`,
    };
  }
  let version;
  try {
    version = (await admin.query('SHOW server_version')).rows[0].server_version;
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${database}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return {
      available: false,
      note: `cannot create the database "${database}" (${error.message}); set BENCH_PG_DATABASE to one the benchmark may own`,
    };
  } finally {
    await admin.end().catch(() => {});
  }
  const benchUrl = (applicationName) => {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    if (applicationName) url.searchParams.set('application_name', applicationName);
    return url.toString();
  };
  const client = new pg.Client({ connectionString: benchUrl('strongroom-bench-runner') });
  await client.connect();
  const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const local = processName(backend) !== null;
  return {
    available: true,
    version,
    database,
    benchUrl,
    local,
    note: local ? null : 'PostgreSQL is not a local process: its CPU is not measured',
    client,
    /** Drops every table (and sequence, view) the previous variant left in the bench database. */
    async reset() {
      const { rows } = await client.query(
        `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')`,
      );
      for (const { relname, relkind } of rows) {
        const kind = { r: 'TABLE', p: 'TABLE', v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE' }[
          relkind
        ];
        await client.query(`DROP ${kind} IF EXISTS "${relname.replace(/"/g, '""')}" CASCADE`);
      }
    },
    /**
     * Backend pids of every other connection to the bench database: only the server under test
     * connects to it while a variant runs (stores may set their own application_name).
     */
    async backendPids() {
      const { rows } = await client.query(
        `SELECT pid FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      );
      return local ? rows.map((row) => row.pid) : [];
    },
    /** Bytes on disk of every relation (tables, indexes, TOAST) in the bench database. */
    async sizeBytes() {
      const { rows } = await client.query(
        `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm')`,
      );
      return Number(rows[0].bytes);
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

function parseInfo(text) {
  const out = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return out;
}

/** A URL without its password, for notes and reports. */
export function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

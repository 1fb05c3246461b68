import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, parseKeyList, type KeyInput, type SessionStore } from 'strongroom';
import { createMemoryStore } from 'strongroom/stores/memory';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
import {
  createDemoApp,
  DEFAULT_DEMO_EMAIL,
  DEFAULT_DEMO_PASSWORD,
  type TrustProxy,
} from './app.js';
import {
  ensurePrivateDirectory,
  makePrivateFile,
  preparePrivateDatabase,
} from './private-files.js';

/** A problem with the environment: printed without a stack trace, exit code 1. */
class StartupError extends Error {}

/** The project root: the nearest directory above this file with a package.json. */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function seconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d{1,9}$/.test(raw.trim())) {
    throw new StartupError(`${name} must be a whole number of seconds, got ${JSON.stringify(raw)}`);
  }
  return Number(raw.trim());
}

function port(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT?.trim() || '3000';
  const value = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || value > 65535) {
    throw new StartupError(`PORT must be a port number (0-65535), got ${JSON.stringify(env.PORT)}`);
  }
  return value;
}

/** `true`/`false`, a hop count, or Express's names and address lists (`loopback`, `10.0.0.0/8`). */
function trustProxy(env: NodeJS.ProcessEnv): TrustProxy {
  const raw = env.STRONGROOM_TRUST_PROXY?.trim();
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

async function openStore(
  env: NodeJS.ProcessEnv,
  dataDir: string,
  root: string,
): Promise<{ store: SessionStore; label: string }> {
  const spec = env.STRONGROOM_STORE?.trim() ?? '';
  if (spec === '') {
    ensurePrivateDirectory(dataDir);
    const path = join(dataDir, 'sessions.db');
    preparePrivateDatabase(path);
    return { store: createSQLiteStore({ path }), label: `sqlite ${relative(root, path) || path}` };
  }
  if (spec === 'memory:') {
    console.warn('Strongroom demo: memory store; every session is lost when the process stops.');
    return { store: createMemoryStore(), label: 'memory' };
  }
  if (/^postgres(ql)?:\/\//i.test(spec)) {
    // Loaded only when chosen, so the SQLite demo never needs the pg driver.
    const { createPostgresStore } = await import('strongroom/stores/postgres');
    return { store: createPostgresStore({ connectionString: spec }), label: 'postgres' };
  }
  if (/^rediss?:\/\//i.test(spec)) {
    const { createRedisStore } = await import('strongroom/stores/redis');
    return { store: createRedisStore({ url: spec }), label: 'redis' };
  }
  throw new StartupError(
    'STRONGROOM_STORE must be unset (SQLite file .data/sessions.db), "memory:", "redis://host:port" or "postgres://..."',
  );
}

/**
 * STRONGROOM_ORIGIN (comma-separated), or the address the demo listens on. Unsafe requests
 * whose Origin is anything else are refused, so behind a proxy set the public origin here.
 */
function publicOrigins(env: NodeJS.ProcessEnv, host: string, listenPort: number): string[] {
  const configured = env.STRONGROOM_ORIGIN?.trim();
  if (configured !== undefined && configured !== '') {
    return configured.split(',').map((origin) => origin.trim());
  }
  const loopback = ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host);
  const hosts = loopback
    ? ['127.0.0.1', 'localhost', '[::1]']
    : [host.includes(':') ? `[${host}]` : host];
  return hosts.map((name) => `http://${name}:${listenPort}`);
}

/** STRONGROOM_KEYS, or a demo key generated once and kept in `.data/demo-keys` (mode 0600). */
function loadKeys(env: NodeJS.ProcessEnv, dataDir: string, root: string): KeyInput[] {
  const configured = env.STRONGROOM_KEYS?.trim();
  if (configured !== undefined && configured !== '') return parseKeyList(configured);
  const file = join(dataDir, 'demo-keys');
  ensurePrivateDirectory(dataDir);
  if (!existsSync(file)) {
    const secret = randomBytes(32).toString('base64url');
    writeFileSync(file, `demo:${secret}\n`, { mode: 0o600, flag: 'wx' });
  }
  makePrivateFile(file);
  console.warn(
    `Strongroom demo: STRONGROOM_KEYS is not set; using the generated key in ${relative(root, file)}. ` +
      'Real applications must configure their own keys (`npx strongroom keygen`) and keep them out of the repository.',
  );
  return parseKeyList(readFileSync(file, 'utf8'));
}

async function main(): Promise<void> {
  const env = process.env;
  const root = findProjectRoot();
  const dataDir = env.STRONGROOM_DATA_DIR?.trim() || join(root, '.data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const listenPort = port(env);
  const timing = {
    idleTimeoutSeconds: seconds(env, 'STRONGROOM_IDLE_TIMEOUT'),
    absoluteTimeoutSeconds: seconds(env, 'STRONGROOM_ABSOLUTE_TIMEOUT'),
    rotationIntervalSeconds: seconds(env, 'STRONGROOM_ROTATION_INTERVAL'),
    rotationGraceSeconds: seconds(env, 'STRONGROOM_ROTATION_GRACE'),
    freshAgeSeconds: seconds(env, 'STRONGROOM_FRESH_AGE'),
  };
  const keys = loadKeys(env, dataDir, root);
  const { store, label } = await openStore(env, dataDir, root);

  let demo;
  try {
    demo = await createDemoApp({
      store,
      keys,
      dataDir,
      trustProxy: trustProxy(env),
      origins: publicOrigins(env, host, listenPort),
      demoEmail: env.DEMO_EMAIL?.trim() || DEFAULT_DEMO_EMAIL,
      demoPassword: env.DEMO_PASSWORD || DEFAULT_DEMO_PASSWORD,
      ...(timing.idleTimeoutSeconds !== undefined && {
        idleTimeoutSeconds: timing.idleTimeoutSeconds,
      }),
      ...(timing.absoluteTimeoutSeconds !== undefined && {
        absoluteTimeoutSeconds: timing.absoluteTimeoutSeconds,
      }),
      ...(timing.rotationIntervalSeconds !== undefined && {
        rotationIntervalSeconds: timing.rotationIntervalSeconds,
      }),
      ...(timing.rotationGraceSeconds !== undefined && {
        rotationGraceSeconds: timing.rotationGraceSeconds,
      }),
      ...(timing.freshAgeSeconds !== undefined && { freshAgeSeconds: timing.freshAgeSeconds }),
      // Demo-level events (CSRF rejections, failed logins) go to the same JSON log.
      onEvent: (event) => console.log(JSON.stringify(event)),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const { app, sessions } = demo;
  // Lifecycle events carry public session ids, never tokens (SM-54): safe to log as they are.
  sessions.on('*', (event) => console.log(JSON.stringify(event)));

  const server = app.listen(listenPort, host);
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('listening', resolveListen);
    server.once('error', rejectListen);
  }).catch(async (error: unknown) => {
    await demo.close();
    await store.close();
    throw new StartupError(`cannot listen on ${host}:${listenPort}: ${(error as Error).message}`);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  console.log(`Strongroom demo on http://${shown}:${address.port} (store: ${label})`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`Strongroom demo: ${signal}, shutting down`);
    server.close();
    server.closeIdleConnections();
    // In-flight requests get a moment to finish; then the rest are cut.
    const force = setTimeout(() => server.closeAllConnections(), 3_000);
    force.unref();
    server.once('close', () => {
      clearTimeout(force);
      demo
        .close()
        .then(() => store.close())
        .then(
          () => process.exit(0),
          (error: unknown) => {
            console.error('Strongroom demo: error while closing', error);
            process.exit(1);
          },
        );
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof StartupError || error instanceof ConfigError) {
    console.error(`Strongroom demo cannot start: ${error.message}`);
  } else {
    console.error('Strongroom demo cannot start:', error);
  }
  process.exit(1);
});

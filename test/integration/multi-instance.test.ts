import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../support/services.js';
import { OutageProxy } from '../support/tcp-proxy.js';
import { Browser, type DemoServer } from './demo-helpers.js';

/**
 * Two real demo processes sharing one store server, reached through a proxy that the test can
 * cut: logout everywhere seen by every instance at once (SM-27), and a store outage that fails
 * closed and recovers (SM-57, H-29).
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const PG_USER = process.env.PGUSER ?? 'postgres';
const PG_DATABASE = process.env.PGDATABASE ?? 'test';
const postgres = await serviceAvailable('PostgreSQL', 5432);
const redis = await serviceAvailable('Redis', 6379);
/** A logical database of the shared Redis server that only this test uses. */
const REDIS_DB = 3;

interface Backend {
  readonly name: string;
  readonly available: boolean;
  readonly port: number;
  storeUrl(proxyPort: number): string;
  /** Drops what the demo created in the store's default location. */
  cleanup(): Promise<void>;
}

const backends: Backend[] = [
  {
    name: 'PostgreSQL',
    available: postgres,
    port: 5432,
    storeUrl: (port) => `postgres://${PG_USER}@127.0.0.1:${port}/${PG_DATABASE}`,
    async cleanup() {
      const client = new pg.Client({ host: '127.0.0.1', user: PG_USER, database: PG_DATABASE });
      await client.connect();
      await client.query(
        'DROP TABLE IF EXISTS strongroom_retired_tokens, strongroom_sessions, strongroom_schema_version',
      );
      await client.end();
    },
  },
  {
    name: 'Redis',
    available: redis,
    port: 6379,
    storeUrl: (port) => `redis://127.0.0.1:${port}/${REDIS_DB}`,
    async cleanup() {
      const client = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB });
      await client.flushdb();
      client.disconnect();
    },
  },
];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts `node dist/demo/server.js` and resolves once it listens. */
async function startInstance(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; server: DemoServer }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/demo/server.js'], {
    cwd: root,
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port), NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Strongroom demo on')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
  // Drain output so the child never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.resume();
  const server = {
    base: `http://127.0.0.1:${port}`,
    https: false,
    cookieName: 'sid',
  } as DemoServer;
  return { child, server };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`two demo instances on ${backend.name}`, () => {
    const proxy = new OutageProxy(backend.port);
    const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-multi-'));
    const instances: ChildProcess[] = [];
    let a: DemoServer;
    let b: DemoServer;

    beforeAll(async () => {
      if (!existsSync(join(root, 'dist/demo/server.js'))) {
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root });
      }
      await backend.cleanup();
      await proxy.start();
      const env = {
        STRONGROOM_STORE: backend.storeUrl(proxy.port),
        STRONGROOM_KEYS: `multi:${randomBytes(32).toString('base64url')}`,
        STRONGROOM_DATA_DIR: dataDir,
      };
      // One after the other: the first creates the users database and the demo account.
      const first = await startInstance(env);
      const second = await startInstance(env);
      instances.push(first.child, second.child);
      a = first.server;
      b = second.server;
    }, 60_000);

    afterAll(async () => {
      for (const child of instances) child.kill();
      await proxy.stop();
      await backend.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const signedIn = async (server: DemoServer): Promise<Browser> => {
      const browser = new Browser(server);
      expect((await browser.login()).status).toBe(303);
      return browser;
    };

    it('[SM-27][H-10] logout everywhere on B ends the session A serves, on its very next request', async () => {
      const onA = await signedIn(a);
      const onB = await signedIn(b);
      expect((await onA.me()).status).toBe(200);
      // The same cookie works on either instance: they share the store.
      const elsewhere = new Browser(b);
      elsewhere.jar.set('sid', onA.token!);
      expect((await elsewhere.me()).status).toBe(200);

      const result = await onB.post('/logout-everywhere');
      expect(result.status).toBe(303);
      expect((await onA.me()).status).toBe(401);
      expect((await onB.me()).status).toBe(401);
    });

    it('[SM-57][H-29] a store outage answers 503 on both instances, and afterwards nothing changed', async () => {
      const alice = await signedIn(a);
      const revoked = await signedIn(b);
      const revokedToken = revoked.token!;
      expect((await revoked.post('/logout')).status).toBe(303);
      const csrf = await alice.csrf();

      await proxy.stop();
      try {
        for (const server of [a, b]) {
          const probe = new Browser(server);
          probe.jar.set('sid', alice.token!);
          expect((await probe.me()).status, server.base).toBe(503);
          const logout = await probe.request('/logout', { form: { _csrf: csrf } });
          expect(logout.status, server.base).toBe(503);
          expect(logout.setCookies).toEqual([]);
        }
      } finally {
        await proxy.start();
      }

      // The same token works again (no one was logged out by the outage) ...
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await alice.me()).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
      // ... and the revoked one stays dead.
      const replay = new Browser(a);
      replay.jar.set('sid', revokedToken);
      expect((await replay.me()).status).toBe(401);
    });
  });
}

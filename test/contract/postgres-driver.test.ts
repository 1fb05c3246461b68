/**
 * The PostgreSQL store and its driver: integers read exactly whatever the int8 parser, driver
 * and pool errors, closing pools, and (without a server) an unreachable database (SM-57).
 */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { SessionEvent } from '../../src/core/events.js';
import { createSessionManager } from '../../src/index.js';
import type { InsertResult } from '../../src/core/store.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import {
  NOW,
  makeSession,
  nextVersion as next,
  randomId,
  randomTokenHash,
} from '../../src/testing/store-contract-support.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';
import { serviceAvailable } from '../support/services.js';
import {
  DIRECT_URL,
  PG_DATABASE,
  PG_PORT,
  PG_USER,
  usePostgresFixture,
} from './postgres-support.js';

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, freshSchema, open, newPool } = usePostgresFixture();

  describe('integers', () => {
    it('reads bigint columns as numbers, whatever int8 parser the pool uses', async () => {
      for (const parse of [(value: string) => BigInt(value), (value: string) => Number(value)]) {
        const pool = newPool({
          types: {
            getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
              oid === 20
                ? parse
                : (pg.types.getTypeParser(
                    oid,
                    format,
                  ) as unknown)) as typeof pg.types.getTypeParser,
          },
        });
        const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
        const session = makeSession({ userId: 'user', authenticatedAt: NOW - 5 });
        await store.insert(session, { replaces: null, limit: null });
        expect(await store.findById(session.id)).toEqual(session);
        expect(await store.listByUser('user', NOW)).toEqual([session]);
      }
    });

    it('rejects a stored integer beyond the safe range instead of rounding it', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await admin.query(`UPDATE "${schema}".strongroom_sessions SET created_at = $1`, [
        '9007199254740993',
      ]);
      await expect(store.findById(session.id)).rejects.toThrow(/safe range/);
    });
  });

  describe('errors', () => {
    it('rejects a duplicate id with the driver error (unique violation), never throwing synchronously', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });

      let pending: Promise<InsertResult> | undefined;
      expect(() => {
        pending = store.insert(
          { ...makeSession(), id: session.id },
          { replaces: null, limit: null },
        );
      }).not.toThrow();
      // The store wraps the unique violation in a StoreConflictError (409), the driver error its cause.
      await expect(pending).rejects.toMatchObject({
        code: 'ERR_STORE_CONFLICT',
        cause: expect.objectContaining({ code: '23505' }) as unknown,
      });
    });

    it('a token hash is retired once: retiring it again rejects and changes nothing', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      const retire = { tokenHash: session.tokenHash, graceUntil: NOW };
      const rotated = next(session, { tokenHash: randomTokenHash() });
      expect(await store.update(rotated, { retire })).toBe(true);

      const again = next(rotated, { tokenHash: randomTokenHash() });
      await expect(store.update(again, { retire })).rejects.toMatchObject({ code: '23505' });
      expect(await store.findById(session.id)).toEqual(rotated);
    });

    it('warns once per outage when the pool reports a connection error, and never crashes', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const pool = newPool();
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();

      pool.emit('error', new Error('Connection terminated unexpectedly'));
      pool.emit('error', new Error('Connection terminated unexpectedly'));
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'STRONGROOM_POSTGRES_CONNECTION' });

      await store.findById(randomId());
      pool.emit('error', new Error('Connection terminated unexpectedly'));
      expect(warn).toHaveBeenCalledTimes(2);
    });

    it('does not warn of an outage for a statement that fails on its own (a duplicate id)', async () => {
      const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await expect(
        store.insert({ ...makeSession(), id: session.id }, { replaces: null, limit: null }),
      ).rejects.toMatchObject({
        code: 'ERR_STORE_CONFLICT',
        cause: expect.objectContaining({ code: '23505' }) as unknown,
      });
      expect(warn).not.toHaveBeenCalled();
    });

    it('close leaves a caller pool open, without the store’s listener, and later calls reject', async () => {
      const pool = newPool();
      const listeners = pool.listenerCount('error');
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      expect(pool.listenerCount('error')).toBe(listeners + 1);
      await store.ready();

      await Promise.all([store.close(), store.close()]);
      await store.close();
      expect(pool.listenerCount('error')).toBe(listeners);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await expect(store.findById(randomId())).rejects.toThrow(/closed/);
      await expect(store.purgeExpired(NOW, 0)).rejects.toThrow(/closed/);
      await expect(store.ready()).rejects.toThrow(/closed/);
    });

    it('close ends the pool the store created', async () => {
      const end = vi.spyOn(pg.Pool.prototype, 'end');
      const store = open({ connectionString: DIRECT_URL, schema: freshSchema() });
      await store.ready();
      await store.close();
      await store.close();
      expect(end).toHaveBeenCalledTimes(1);
      await expect(store.findById(randomId())).rejects.toThrow();
    });
  });
});

describe('createPostgresStore: an unreachable database', () => {
  /** A port nothing listens on: every connection attempt is refused at once. */
  async function refusedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it('[SM-57] store.failed and the one warning carry the cause’s code and message, never the password', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const port = await refusedPort();
    const password = 'pg-password-that-must-not-leak';
    const store = createPostgresStore({
      connectionString: `postgres://${PG_USER}:${password}@127.0.0.1:${port}/${PG_DATABASE}`,
      purgeIntervalSeconds: 0,
    });
    const manager = createSessionManager({
      store,
      keys: [TEST_KEY],
      csrf: { origins: [TEST_ORIGIN] },
    });
    const events: SessionEvent[] = [];
    manager.on('store.failed', (event) => events.push(event));
    try {
      await expect(manager.revokeUserSessions('user')).rejects.toBeInstanceOf(
        StoreUnavailableError,
      );
      await expect(manager.listUserSessions('user')).rejects.toBeInstanceOf(StoreUnavailableError);

      const cause = `ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`;
      expect(events.map(({ reason, detail }) => ({ reason, detail }))).toEqual([
        { reason: 'revoke', detail: cause },
        { reason: 'list', detail: cause },
      ]);
      const warnings = warn.mock.calls.filter(
        ([, options]) =>
          (options as { code?: string } | undefined)?.code === 'STRONGROOM_POSTGRES_CONNECTION',
      );
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]![0])).toBe(
        `The Strongroom PostgreSQL session store cannot reach the database (${cause}). ` +
          'Session calls fail (503) until it answers again; this warning is not repeated before then.',
      );
      expect(JSON.stringify([events, warn.mock.calls])).not.toContain(password);
    } finally {
      await store.close();
      warn.mockRestore();
    }
  });
});

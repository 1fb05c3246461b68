/**
 * The PostgreSQL store (needs a server on 127.0.0.1:5432): atomicity of replacements,
 * revocations, limits and deleteAll under concurrent transactions (READ COMMITTED).
 */
import type pg from 'pg';
import type { QueryConfig } from 'pg';
import { describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import type {
  DeleteAllResult,
  InsertResult,
  SessionStore,
  StoredSession,
} from '../../src/core/store.js';
import type { PostgresStore } from '../../src/stores/postgres.js';
import {
  HOUR,
  NOW,
  makeSession,
  nextVersion as next,
  randomId,
} from '../../src/testing/store-contract-support.js';
import { serviceAvailable } from '../support/services.js';
import { PG_PORT, usePostgresFixture } from './postgres-support.js';

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, freshSchema, open, newPool, count } = usePostgresFixture();

  describe('atomicity under concurrency (READ COMMITTED)', () => {
    const PARALLEL = 30;

    /** A store on a pool wide enough for every call of a round to run on its own connection. */
    async function wide(): Promise<{ store: PostgresStore; pool: pg.Pool; schema: string }> {
      const pool = newPool({ max: PARALLEL + 1 });
      const schema = freshSchema();
      const store = open({ pool, schema, purgeIntervalSeconds: 0 });
      await store.ready();
      // Open every connection now, so that a round's calls start together rather than one
      // connection handshake apart.
      const clients = await Promise.all(Array.from({ length: PARALLEL + 1 }, () => pool.connect()));
      for (const client of clients) client.release();
      return { store, pool, schema };
    }

    async function insertAll(store: SessionStore, sessions: StoredSession[]): Promise<void> {
      for (const session of sessions) await store.insert(session, { replaces: null, limit: null });
    }

    /** Resolves once a statement on `schema` waits for a lock held by another transaction. */
    async function untilWaiting(schema: string): Promise<void> {
      await vi.waitFor(
        async () => {
          const { rows } = await admin.query(
            `SELECT 1 FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
            [schema],
          );
          expect(rows).toHaveLength(1);
        },
        { timeout: 3_000, interval: 10 },
      );
    }

    it('[SM-31] a revocation that waits on a replacement in flight deletes the replacement too', async () => {
      const { store, pool, schema } = await wide();
      const user = randomId();
      const old = makeSession({ userId: user });
      await insertAll(store, [old]);

      // The regenerate's insert runs in a transaction left open: it has replaced the session
      // (holding the user's lock and the old row) but not committed yet.
      const client = await pool.connect();
      try {
        const inOpenTransaction = async (config: QueryConfig): Promise<pg.QueryResult> => {
          await client.query('BEGIN');
          return client.query(config);
        };
        const query = vi.spyOn(pool, 'query') as unknown as MockInstance<
          (config: QueryConfig) => Promise<pg.QueryResult>
        >;
        query.mockImplementationOnce(inOpenTransaction);
        const replacement = makeSession({ userId: user });
        expect(
          await store.insert(replacement, {
            replaces: { id: old.id, version: old.version },
            limit: null,
          }),
        ).toEqual({ status: 'inserted', evicted: [] });

        const revoking = store.deleteByUser(user, { except: null });
        await untilWaiting(schema);
        await client.query('COMMIT');

        // A lone DELETE would have waited on the old row, found it gone, and never seen the
        // replacement, committed after its snapshot was taken.
        expect(await revoking).toEqual([replacement.id]);
        expect(await store.findById(replacement.id)).toBeNull();
        expect(await store.listByUser(user, NOW)).toEqual([]);
      } finally {
        client.release();
      }
    });

    it(`[SM-31] ${PARALLEL} parallel regenerations racing a revocation leave no session of the user`, async () => {
      const { store, schema } = await wide();
      for (let round = 0; round < 5; round++) {
        const user = randomId();
        const sessions = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
        await insertAll(store, sessions);
        const replacements = sessions.map(() => makeSession({ userId: user }));

        const regenerate = (index: number): Promise<InsertResult> =>
          store.insert(replacements[index]!, {
            replaces: { id: sessions[index]!.id, version: sessions[index]!.version },
            limit: null,
          });
        const half = PARALLEL / 2;
        const first = Array.from({ length: half }, (_, index) => regenerate(index));
        const revoked = store.deleteByUser(user, { except: null });
        const second = Array.from({ length: PARALLEL - half }, (_, index) =>
          regenerate(half + index),
        );
        const [results, deleted] = await Promise.all([Promise.all([...first, ...second]), revoked]);

        expect(await store.listByUser(user, NOW), `round ${round}`).toEqual([]);
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}".strongroom_sessions WHERE user_id = $1`,
          [user],
        );
        expect(rows[0]!.n, `round ${round}`).toBe(0);
        // Each session was either revoked as it was, or replaced and then its replacement
        // revoked; a regeneration after the revocation changed nothing.
        results.forEach((result, index) => {
          const expected =
            result.status === 'inserted' ? replacements[index]!.id : sessions[index]!.id;
          expect(result.status).not.toBe('limit-reached');
          expect(deleted).toContain(expected);
        });
        expect(deleted).toHaveLength(PARALLEL);
      }
    });

    it(`[SM-34] ${PARALLEL} parallel logins never take a user past the limit ('refuse')`, async () => {
      const { store } = await wide();
      const user = randomId();
      const existing = [makeSession({ userId: user }), makeSession({ userId: user })];
      // An expired session does not count.
      const expired = makeSession({ userId: user, idleExpiresAt: NOW });
      await insertAll(store, [...existing, expired]);
      const limit = { max: 5, policy: 'refuse', now: NOW } as const;

      const logins = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
      const results = await Promise.all(
        logins.map((session) => store.insert(session, { replaces: null, limit })),
      );

      const inserted = logins.filter((_, index) => results[index]!.status === 'inserted');
      expect(inserted).toHaveLength(3);
      expect(results.filter((result) => result.status === 'limit-reached')).toHaveLength(
        PARALLEL - 3,
      );
      for (const result of results) {
        if (result.status === 'inserted') expect(result.evicted).toEqual([]);
      }
      const live = await store.listByUser(user, NOW);
      expect(live.map((session) => session.id).sort()).toEqual(
        [...existing, ...inserted].map((session) => session.id).sort(),
      );
    });

    it(`[SM-34] ${PARALLEL} parallel logins with 'evict-oldest' keep the limit and evict each session once`, async () => {
      const { store } = await wide();
      const user = randomId();
      const existing = Array.from({ length: 3 }, (_, index) =>
        makeSession({ userId: user, lastSeenAt: NOW - HOUR + index }),
      );
      await insertAll(store, existing);
      const limit = { max: 4, policy: 'evict-oldest', now: NOW } as const;

      const logins = Array.from({ length: PARALLEL }, () => makeSession({ userId: user }));
      const results = await Promise.all(
        logins.map((session) => store.insert(session, { replaces: null, limit })),
      );

      const evicted = results.flatMap((result) =>
        result.status === 'inserted' ? result.evicted : [],
      );
      expect(results.every((result) => result.status === 'inserted')).toBe(true);
      expect(new Set(evicted).size).toBe(evicted.length);
      expect(evicted).toHaveLength(existing.length + PARALLEL - limit.max);
      // The sessions from before, least recently used, are the first to go.
      expect(evicted).toEqual(expect.arrayContaining(existing.map((session) => session.id)));
      const live = await store.listByUser(user, NOW);
      expect(live).toHaveLength(limit.max);
      expect([...evicted, ...live.map((session) => session.id)].sort()).toEqual(
        [...existing, ...logins].map((session) => session.id).sort(),
      );
    });

    it('a replaced session that a concurrent write moved on is not replaced (conflict)', async () => {
      const { store } = await wide();
      const user = randomId();
      const session = makeSession({ userId: user });
      await insertAll(store, [session]);
      const written = next(session);

      const [updated, result] = await Promise.all([
        store.update(written, { retire: null }),
        store.insert(makeSession({ userId: user }), {
          replaces: { id: session.id, version: session.version },
          limit: null,
        }),
      ]);
      // Whichever committed first, exactly one of the two took effect.
      expect(result.status).toBe(updated ? 'conflict' : 'inserted');
      expect((await store.listByUser(user, NOW)).length).toBe(1);
    });

    it('deleteAll waits for a row a concurrent write holds instead of leaving it behind', async () => {
      const { store, schema } = await wide();
      const held = makeSession({ createdAt: NOW - HOUR });
      const free = makeSession({ createdAt: NOW - HOUR });
      await insertAll(store, [held, free]);

      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `SELECT 1 FROM "${schema}".strongroom_sessions WHERE id = $1 FOR UPDATE`,
          [held.id],
        );
        // The first call takes what it can without waiting; the next, with nothing else left
        // to delete, waits rather than report an empty pass while the row still exists.
        const options = { createdBefore: NOW, limit: 10, cursor: null };
        expect(await store.deleteAll(options)).toEqual({ deleted: [free.id], cursor: null });
        const waiting = store.deleteAll(options);
        await untilWaiting(schema);
        await client.query('COMMIT');
        expect(await waiting).toEqual({ deleted: [held.id], cursor: null });
      } finally {
        client.release();
      }
      expect(await store.deleteAll({ createdBefore: NOW, limit: 10, cursor: null })).toEqual({
        deleted: [],
        cursor: null,
      });
    });

    it('deleteAll racing logins, regenerations and revocations neither deadlocks nor leaves a session behind', async () => {
      const { store, schema } = await wide();
      const users = Array.from({ length: 3 }, () => randomId());
      const sessions = users.flatMap((user) =>
        Array.from({ length: 8 }, () => makeSession({ userId: user, createdAt: NOW - HOUR })),
      );
      await insertAll(store, sessions);
      const limit = { max: 4, policy: 'evict-oldest', now: NOW } as const;

      /** Passes until one deletes nothing, as the manager does. */
      const revokeAll = async (): Promise<void> => {
        for (;;) {
          let deleted = 0;
          let cursor: string | null = null;
          do {
            const batch: DeleteAllResult = await store.deleteAll({
              createdBefore: NOW,
              limit: 5,
              cursor,
            });
            deleted += batch.deleted.length;
            cursor = batch.cursor;
          } while (cursor !== null);
          if (deleted === 0) return;
        }
      };
      const writes = sessions.flatMap((session, index) => [
        store.insert(makeSession({ userId: session.userId, createdAt: NOW - HOUR }), {
          replaces: { id: session.id, version: session.version },
          limit,
        }),
        store.update(next(session), { retire: null }),
        ...(index % 8 === 0 ? [store.deleteByUser(session.userId!, { except: null })] : []),
      ]);
      await Promise.all([revokeAll(), ...writes]);

      // The writes are done, and the last pass deleted nothing: every session created before
      // the cut-off is gone, whichever order things happened in.
      await revokeAll();
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(0);
    });

    it('refuses to run under REPEATABLE READ, where the lock would come after the snapshot', async () => {
      const pool = newPool({ options: '-c default_transaction_isolation=repeatable\\ read' });
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();
      const session = makeSession({ userId: 'user' });
      await expect(store.insert(session, { replaces: null, limit: null })).rejects.toThrow(
        /READ COMMITTED/,
      );
      await expect(store.deleteByUser('user', { except: null })).rejects.toThrow(/READ COMMITTED/);
      await expect(store.deleteAll({ createdBefore: NOW, limit: 1, cursor: null })).rejects.toThrow(
        /READ COMMITTED/,
      );
      expect(await store.findById(session.id)).toBeNull();
    });
  });
});

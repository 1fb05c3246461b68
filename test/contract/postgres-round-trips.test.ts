/**
 * The PostgreSQL store (needs a server on 127.0.0.1:5432): one statement and one round trip
 * per operation, named prepared statements, index scans on the hot path.
 */
import type { QueryConfig } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DeleteAllResult, InsertResult } from '../../src/core/store.js';
import {
  NOW,
  makeSession,
  nextVersion as next,
  randomId,
  randomTokenHash,
} from '../../src/testing/store-contract-support.js';
import { serviceAvailable } from '../support/services.js';
import { PG_PORT, RoundTripCounter, usePostgresFixture } from './postgres-support.js';

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, freshSchema, open, newPool } = usePostgresFixture();

  describe('round trips', () => {
    const proxy = new RoundTripCounter();
    beforeAll(() => proxy.start());
    afterAll(() => proxy.stop());

    /** A store behind the counting proxy, its schema ready, and a spy on its pool's queries. */
    async function counted() {
      // One connection, so that "warm" really reuses the statements the cold pass prepared.
      const pool = newPool({ connectionString: proxy.url, max: 1 });
      const store = open({ pool, schema: freshSchema(), purgeIntervalSeconds: 0 });
      await store.ready();
      const queries = vi.spyOn(pool, 'query');
      const measure = async (call: () => Promise<unknown>) => {
        queries.mockClear();
        const roundTrips = await proxy.count(call);
        return { roundTrips, statements: queries.mock.calls.length };
      };
      return { pool, store, queries, measure };
    }

    it('every operation is one statement and one round trip, cold (parse) and warm (prepared)', async () => {
      const { store, measure } = await counted();
      const user = randomId();
      const one = { roundTrips: 1, statements: 1 };
      const limit = (max: number, policy: 'refuse' | 'evict-oldest') => ({ max, policy, now: NOW });

      for (const pass of ['cold', 'warm']) {
        const a = makeSession();
        const b = makeSession({ userId: user });
        let result: InsertResult | undefined;
        expect(await measure(() => store.insert(a, { replaces: null, limit: null })), pass).toEqual(
          one,
        );
        // Login: replaces the anonymous session, under the user's limit.
        expect(
          await measure(
            async () =>
              (result = await store.insert(b, {
                replaces: { id: a.id, version: a.version },
                limit: limit(2, 'refuse'),
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'inserted', evicted: [] });
        expect(await measure(() => store.findByTokenHash(b.tokenHash)), pass).toEqual(one);
        expect(await measure(() => store.findByTokenHash(randomTokenHash())), pass).toEqual(one);
        expect(await measure(() => store.findById(b.id)), pass).toEqual(one);

        const rotated = next(b, { tokenHash: randomTokenHash() });
        const retire = { tokenHash: b.tokenHash, graceUntil: NOW + 30_000 };
        let updated: boolean | undefined;
        expect(
          await measure(async () => (updated = await store.update(rotated, { retire }))),
          pass,
        ).toEqual(one);
        expect(updated).toBe(true);
        expect(
          await measure(
            async () => (updated = await store.update(next(rotated), { retire: null })),
          ),
          pass,
        ).toEqual(one);
        expect(updated).toBe(true);
        expect(
          await measure(async () => (updated = await store.update(rotated, { retire: null }))),
          pass,
        ).toEqual(one);
        expect(updated).toBe(false);
        expect(await measure(() => store.findByTokenHash(b.tokenHash)), pass).toEqual(one);

        // Every outcome of an insert: a second login evicting the first, one refused, one
        // replacing a session that has moved on.
        const c = makeSession({ userId: user });
        expect(
          await measure(
            async () =>
              (result = await store.insert(c, { replaces: null, limit: limit(1, 'evict-oldest') })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'inserted', evicted: [b.id] });
        expect(
          await measure(
            async () =>
              (result = await store.insert(makeSession({ userId: user }), {
                replaces: null,
                limit: limit(1, 'refuse'),
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'limit-reached' });
        expect(
          await measure(
            async () =>
              (result = await store.insert(makeSession({ userId: user }), {
                replaces: { id: c.id, version: c.version + 1 },
                limit: null,
              })),
          ),
          pass,
        ).toEqual(one);
        expect(result).toEqual({ status: 'conflict' });

        expect(await measure(() => store.listByUser(user, NOW)), pass).toEqual(one);
        expect(await measure(() => store.deleteByUser(user, { except: null })), pass).toEqual(one);
        expect(await measure(() => store.delete(randomId())), pass).toEqual(one);
        expect(await measure(() => store.purgeExpired(NOW, 100)), pass).toEqual(one);
        await store.insert(makeSession(), { replaces: null, limit: null });
        let batch: DeleteAllResult | undefined;
        expect(
          await measure(
            async () =>
              (batch = await store.deleteAll({ createdBefore: NOW, limit: 100, cursor: null })),
          ),
          pass,
        ).toEqual(one);
        expect(batch).toEqual({ deleted: [expect.any(String)], cursor: null });
      }
    });

    it('uses named prepared statements, one name per distinct text', async () => {
      const { store, queries } = await counted();
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      await store.findByTokenHash(session.tokenHash);
      await store.findByTokenHash(randomTokenHash());
      await store.findById(session.id);

      const configs = queries.mock.calls.map(([config]) => config as unknown as QueryConfig);
      expect(configs.map((config) => config.name)).toEqual([
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
        configs[1]!.name,
        expect.stringMatching(/^strongroom_[0-9a-f]{24}$/),
      ]);
      expect(new Set(configs.map((config) => config.name)).size).toBe(3);
    });

    it('finds a token with index scans only (the hot path never reads a whole table)', async () => {
      const { store, queries } = await counted();
      await store.findByTokenHash(randomTokenHash());
      const { text } = queries.mock.calls[0]![0] as unknown as QueryConfig;

      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN ${text.replaceAll('$1', "'x'")}`,
        );
        await client.query('ROLLBACK');
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        expect(plan).toMatch(/Index (Only )?Scan/);
        expect(plan).not.toMatch(/Seq Scan/);
      } finally {
        client.release();
      }
    });
  });
});

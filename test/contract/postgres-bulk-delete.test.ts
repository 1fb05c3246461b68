/**
 * The PostgreSQL store (needs a server on 127.0.0.1:5432): deleting many sessions, by
 * creation time (deleteAll, SM-30) and by expiry (purgeExpired and its timer).
 */
import type pg from 'pg';
import type { QueryConfig } from 'pg';
import { describe, expect, it, vi } from 'vitest';
import type { DeleteAllResult } from '../../src/core/store.js';
import {
  HOUR,
  NOW,
  makeSession,
  nextVersion as next,
  randomId,
  randomTokenHash,
} from '../../src/testing/store-contract-support.js';
import { serviceAvailable } from '../support/services.js';
import { PG_PORT, usePostgresFixture } from './postgres-support.js';

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, freshSchema, open, newPool, count } = usePostgresFixture();

  describe('deleteAll', () => {
    it('[SM-30] walks the table in windows of `limit` rows, whatever the share that matches', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const old = Array.from({ length: 7 }, (_, index) =>
        makeSession({ createdAt: NOW - HOUR, userId: index % 2 === 0 ? 'user' : null }),
      );
      const recent = Array.from({ length: 13 }, () => makeSession({ createdAt: NOW }));
      await store.ready();
      for (const session of [...old, ...recent]) {
        await store.insert(session, { replaces: null, limit: null });
      }
      const rotated = next(old[0]!, { tokenHash: randomTokenHash() });
      await store.update(rotated, { retire: { tokenHash: old[0]!.tokenHash, graceUntil: NOW } });

      const deleted: string[] = [];
      let cursor: string | null = null;
      let calls = 0;
      do {
        const batch: DeleteAllResult = await store.deleteAll({
          createdBefore: NOW,
          limit: 4,
          cursor,
        });
        expect(batch.deleted.length).toBeLessThanOrEqual(4);
        deleted.push(...batch.deleted);
        cursor = batch.cursor;
        calls++;
      } while (cursor !== null);

      expect(calls).toBe(Math.ceil((old.length + recent.length) / 4) + 1);
      expect(deleted.sort()).toEqual(old.map((session) => session.id).sort());
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(recent.length);
      expect(await count(`"${schema}".strongroom_retired_tokens`)).toBe(0);
      expect(await store.findByTokenHash(old[0]!.tokenHash)).toBeNull();
    });

    it('rejects a limit that is not a positive integer rather than deleting nothing', async () => {
      const store = open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      for (const limit of [0, -1, 1.5, Number.NaN]) {
        await expect(store.deleteAll({ createdBefore: NOW, limit, cursor: null })).rejects.toThrow(
          RangeError,
        );
      }
    });
  });

  describe('purge', () => {
    it('purges retired tokens whose own deadline passed while their session lives on', async () => {
      const schema = freshSchema();
      const store = open({ pool: admin, schema, purgeIntervalSeconds: 0 });
      const session = makeSession();
      const rotated = next(session, { tokenHash: randomTokenHash() });
      await store.insert(session, { replaces: null, limit: null });
      await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: NOW } });
      await admin.query(`UPDATE "${schema}".strongroom_retired_tokens SET expires_at = $1`, [
        NOW - 1,
      ]);

      expect(await store.purgeExpired(NOW, 10)).toBe(0);
      expect(await count(`"${schema}".strongroom_retired_tokens`)).toBe(0);
      expect(await store.findById(session.id)).toEqual(rotated);
    });

    it('two instances purging at once share the work without waiting on each other', async () => {
      const schema = freshSchema();
      const a = open({ pool: newPool(), schema, purgeIntervalSeconds: 0 });
      const b = open({ pool: newPool(), schema, purgeIntervalSeconds: 0 });
      await a.ready();
      await insertExpired(schema, 1_000, NOW - 1);

      const [first, second] = await Promise.all([
        a.purgeExpired(NOW, 600),
        b.purgeExpired(NOW, 600),
      ]);
      expect(first + second).toBe(1_000);
      expect(Math.max(first, second)).toBeLessThanOrEqual(600);
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(0);
    });

    it('sweeps in bounded batches, back to back, and close() stops the timer', async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const schema = freshSchema();
      const pool = newPool();
      const store = open({
        pool,
        schema,
        purgeIntervalSeconds: 60,
        purgeBatchSize: 500,
        now: () => NOW,
      });
      await store.ready();
      await insertExpired(schema, 1_200, NOW - 1_000);
      await insertExpired(schema, 3, NOW + HOUR);

      const queries = vi.spyOn(pool, 'query');
      /** The sessions deleted by each purge statement so far, checking each one's bound. */
      const batches = async (): Promise<number[]> => {
        const deleted: number[] = [];
        for (const [index, [call]] of queries.mock.calls.entries()) {
          const config = call as unknown as QueryConfig;
          if (!config.text.includes('FOR UPDATE SKIP LOCKED')) continue;
          expect(config.values).toEqual([NOW, 500]);
          const result = (await queries.mock.results[index]!.value) as pg.QueryResult<{
            sessions: number;
          }>;
          deleted.push(result.rows[0]!.sessions);
        }
        return deleted;
      };

      vi.advanceTimersByTime(59_999);
      expect(await batches()).toEqual([]);
      vi.advanceTimersByTime(1);
      await vi.waitFor(async () => expect(await batches()).toEqual([500, 500, 200]));
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(3);

      await store.close();
      expect(vi.getTimerCount()).toBe(0);
      await admin.query(`UPDATE "${schema}".strongroom_sessions SET expires_at = $1`, [NOW - 1]);
      vi.advanceTimersByTime(10 * 60_000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(await batches()).toEqual([500, 500, 200]);
      expect(await count(`"${schema}".strongroom_sessions`)).toBe(3);
    });

    it('starts no timer when purgeIntervalSeconds is 0, and an unref’d one otherwise', () => {
      const setIntervalSpy = vi.spyOn(globalThis, 'setInterval');
      open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 0 });
      expect(setIntervalSpy).not.toHaveBeenCalled();

      open({ pool: admin, schema: freshSchema(), purgeIntervalSeconds: 5 });
      expect(setIntervalSpy).toHaveBeenCalledTimes(1);
      const timer = setIntervalSpy.mock.results[0]!.value as NodeJS.Timeout;
      expect(timer.hasRef()).toBe(false);
    });
  });

  /** Inserts `total` sessions expiring at `at` straight into the table, in one statement. */
  async function insertExpired(schema: string, total: number, at: number): Promise<void> {
    await admin.query(
      `INSERT INTO "${schema}".strongroom_sessions
         (id, token_hash, user_id, created_at, authenticated_at, last_seen_at, idle_expires_at,
          absolute_expires_at, rotated_at, expires_at, version, sealed)
       SELECT 'bulk-' || g || '-' || $3, 'hash-' || g || '-' || $3, NULL, $1::bigint, NULL,
              $1::bigint, $2::bigint, $2::bigint, $1::bigint, $2::bigint, 1, 'sealed'
         FROM generate_series(1, $4::integer) AS g`,
      [at - HOUR, at, randomId(), total],
    );
  }
});

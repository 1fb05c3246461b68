/**
 * The cases of the store conformance suite about `purgeExpired`. Registered by
 * `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  HOUR,
  MINUTE,
  NOW,
  SECOND,
  itIf,
  nextVersion,
  randomId,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/**
 * purgeExpired deletes expired sessions in bounded batches. The counts are checked only where
 * `expiry` is `'purge'`: a backend with native TTLs may expire keys itself and report 0.
 */
export function describePurgeCases(
  { store, insert, rotate }: ContractContext,
  expiry: 'purge' | 'native-ttl',
): void {
  const checksPurgeCounts = expiry === 'purge';

  describe('purge', () => {
    itIf(checksPurgeCounts)(
      'purgeExpired removes only expired sessions and their retired tokens, and counts them',
      async () => {
        const user = randomId();
        const expired = [
          await insert({ userId: user, idleExpiresAt: NOW - MINUTE }),
          await insert({ absoluteExpiresAt: NOW - HOUR }),
          await insert({ idleExpiresAt: NOW }),
        ];
        const rotating = await insert({ idleExpiresAt: NOW + MINUTE });
        const { rotated, retire } = await rotate(rotating, NOW + 30 * SECOND);
        const expiredByUpdate = nextVersion(rotated, { idleExpiresAt: NOW - SECOND });
        expect(await store().update(expiredByUpdate, { retire: null })).toBe(true);
        const live = [await insert({ userId: user }), await insert({ idleExpiresAt: NOW + 1 })];

        expect(await store().purgeExpired(NOW, 100)).toBe(4);

        for (const session of [...expired, rotating]) {
          expect(await store().findById(session.id)).toBeNull();
          expect(await store().findByTokenHash(session.tokenHash)).toBeNull();
        }
        expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
        expect(await store().findByTokenHash(expiredByUpdate.tokenHash)).toBeNull();
        for (const session of live) expect(await store().findById(session.id)).toEqual(session);
        expect(await store().listByUser(user, NOW)).toEqual([live[0]]);
        expect(await store().purgeExpired(NOW, 100)).toBe(0);
      },
    );

    itIf(checksPurgeCounts)('purgeExpired deletes at most limit sessions per call', async () => {
      const expired = await Promise.all(
        Array.from({ length: 5 }, (_, index) => insert({ idleExpiresAt: NOW - index - 1 })),
      );
      const live = await insert();

      expect(await store().purgeExpired(NOW, 0)).toBe(0);
      expect(await store().purgeExpired(NOW, 2)).toBe(2);
      expect(await store().purgeExpired(NOW, 2)).toBe(2);
      expect(await store().purgeExpired(NOW, 2)).toBe(1);
      expect(await store().purgeExpired(NOW, 2)).toBe(0);

      for (const session of expired) expect(await store().findById(session.id)).toBeNull();
      expect(await store().findById(live.id)).toEqual(live);
    });

    it('purgeExpired before anything expired deletes nothing', async () => {
      const sessions = [await insert(), await insert({ userId: randomId() })];
      expect(await store().purgeExpired(NOW - HOUR, 100)).toBe(0);
      for (const session of sessions) expect(await store().findById(session.id)).toEqual(session);
    });
  });
}

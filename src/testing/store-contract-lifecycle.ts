/**
 * The cases of the store conformance suite about the life of a store: `close`, and outages of
 * its backend. Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  FRESH,
  HOUR,
  NOW,
  OUTAGE_CALL_TIMEOUT_MS,
  RECOVERY_TIMEOUT_MS,
  eventually,
  makeSession,
  nextVersion,
  randomId,
  settle,
} from './store-contract-support.js';
import type { ContractContext, Outage } from './store-contract-support.js';

/** close, and (where the setup can take the backend down) every call during an outage. */
export function describeLifecycleCases(context: ContractContext, outage: Outage | null): void {
  describe('lifecycle', () => {
    registerCloseCase(context);
    if (outage !== null) registerOutageCase(context, outage);
  });
}

/** close is idempotent, and the store refuses work once closed. */
function registerCloseCase({ store, insert }: ContractContext): void {
  it('close is idempotent and later calls reject', async () => {
    const session = await insert();
    await store().close();
    await store().close();
    await expect(store().findById(session.id)).rejects.toThrow();
  });
}

/** Every call rejects while the backend is down; the store recovers once it is back. */
function registerOutageCase({ store, insert }: ContractContext, outage: Outage): void {
  it(
    'rejects every call while the backend is down, and works again once it is back',
    async () => {
      const session = await insert({ userId: randomId() });
      await outage.stop();
      try {
        const calls: Record<string, () => Promise<unknown>> = {
          findByTokenHash: () => store().findByTokenHash(session.tokenHash),
          findById: () => store().findById(session.id),
          insert: () => store().insert(makeSession(), FRESH),
          update: () => store().update(nextVersion(session), { retire: null }),
          delete: () => store().delete(randomId()),
          deleteByUser: () => store().deleteByUser(randomId(), { except: null }),
          deleteAll: () => store().deleteAll({ createdBefore: NOW - HOUR, limit: 1, cursor: null }),
          listByUser: () => store().listByUser(session.userId!, NOW),
          purgeExpired: () => store().purgeExpired(NOW - HOUR, 1),
        };
        for (const [method, call] of Object.entries(calls)) {
          expect(await settle(call), method).toBe('rejected');
        }
      } finally {
        await outage.start();
      }

      const fresh = makeSession();
      await eventually(() => store().insert(fresh, FRESH));
      expect(await store().findById(fresh.id)).toEqual(fresh);
    },
    OUTAGE_CALL_TIMEOUT_MS * 11 + RECOVERY_TIMEOUT_MS,
  );
}

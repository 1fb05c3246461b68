/**
 * The cases of the store conformance suite about an insert whose session id or token hash
 * another session already holds. Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import { isStrongroomError } from '../core/errors.js';
import type { SessionStore, StoredSession } from '../core/store.js';
import { FRESH, NOW, makeSession, randomId } from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/**
 * With 128-bit ids and 256-bit tokens a taken id or token hash never happens by chance: it
 * points at a broken random source or at someone writing to the store. The store must refuse
 * the record with a `StoreConflictError` (`ERR_STORE_CONFLICT`, 409), so that the manager can
 * tell it from an outage (503), and must never overwrite the session that holds it.
 */
export function describeConflictCases({ store, insert }: ContractContext): void {
  describe('insert of a taken session id or token hash (ERR_STORE_CONFLICT)', () => {
    it('an insert whose session id another session holds rejects with ERR_STORE_CONFLICT and changes nothing', async () => {
      const existing = await insert({ userId: randomId() });
      const clash = makeSession({ id: existing.id, userId: randomId() });

      await expectStoreConflict(store().insert(clash, FRESH));

      await expectIntact(store(), existing);
      expect(await store().findByTokenHash(clash.tokenHash)).toBeNull();
      expect(await store().listByUser(clash.userId!, NOW)).toEqual([]);
    });

    it('an insert whose token hash another session holds rejects with ERR_STORE_CONFLICT and changes nothing', async () => {
      const holder = await insert({ userId: randomId() });
      const clash = makeSession({ tokenHash: holder.tokenHash, userId: randomId() });

      await expectStoreConflict(store().insert(clash, FRESH));

      await expectIntact(store(), holder);
      expect(await store().findById(clash.id)).toBeNull();
      expect(await store().listByUser(clash.userId!, NOW)).toEqual([]);
    });
  });
}

/**
 * Checks that `attempt` rejects with a Strongroom error of code `ERR_STORE_CONFLICT`. The brand
 * check of `isStrongroomError`, unlike `instanceof`, also accepts the `StoreConflictError` of
 * another copy of Strongroom (a third-party store that brought its own).
 */
async function expectStoreConflict(attempt: Promise<unknown>): Promise<void> {
  const error = await attempt.then(
    () => new Error('the insert resolved'),
    (reason: unknown) => reason,
  );
  expect(error).toMatchObject({ code: 'ERR_STORE_CONFLICT' });
  expect(isStrongroomError(error, 'ERR_STORE_CONFLICT'), 'a StoreConflictError').toBe(true);
}

/** Checks that `session` is stored exactly as it was, under its id, token hash and user. */
async function expectIntact(target: SessionStore, session: StoredSession): Promise<void> {
  expect(await target.findById(session.id)).toEqual(session);
  expect(await target.findByTokenHash(session.tokenHash)).toEqual({
    session,
    retiredGraceUntil: null,
  });
  expect(await target.listByUser(session.userId!, NOW)).toEqual([session]);
}

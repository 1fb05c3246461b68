/**
 * The `strongroom/testing` subpath: {@link describeStoreContract}, the store conformance suite.
 * Its cases live in the `store-contract-*.ts` files, one per theme; this file registers them
 * and gives each test a fresh store.
 *
 * @module
 */
import { afterEach, beforeEach, describe, expect } from 'vitest';
import type { RetiredToken, SessionStore, StoredSession } from '../core/store.js';
import { describeConcurrencyCases } from './store-contract-concurrency.js';
import { describeConflictCases } from './store-contract-conflicts.js';
import { describeDeleteAllCases } from './store-contract-delete-all.js';
import { describeLifecycleCases } from './store-contract-lifecycle.js';
import { describeLookupCases } from './store-contract-lookups.js';
import { describePurgeCases } from './store-contract-purge.js';
import { describeReplacementCases } from './store-contract-replacement.js';
import { describeDeleteCases, describeUpdateCases } from './store-contract-updates.js';
import { describeUserIndexCases } from './store-contract-user-index.js';
import { describeUserLimitCases } from './store-contract-user-limits.js';
import {
  FRESH,
  INSERTED,
  NOW,
  makeSession,
  nextVersion,
  randomTokenHash,
} from './store-contract-support.js';
import type { ContractContext, Outage } from './store-contract-support.js';

/** How {@link describeStoreContract} gets stores to test, and how it takes the backend down. */
export interface StoreContractSetup {
  /**
   * Returns a new, empty, ready store. Called before every test; the suite closes the store
   * after the test. Stores backed by a shared server can isolate tests with a fresh key or
   * table prefix per call, or by clearing the backend.
   */
  open(): Promise<SessionStore>;
  /**
   * Makes the backend unreachable (stop the server, cut the connection). With {@link start},
   * enables the outage tests; without, they are skipped.
   */
  stop?(): Promise<void>;
  /** Makes the backend reachable again after {@link stop}. */
  start?(): Promise<void>;
  /**
   * How expired sessions leave the store. `'purge'`: `purgeExpired` deletes them and returns
   * the count (checked). `'native-ttl'`: the backend expires keys itself and `purgeExpired`
   * may return 0, so the purge-count tests are skipped.
   *
   * @default 'purge'
   */
  readonly expiry?: 'purge' | 'native-ttl';
}

/**
 * Registers the store conformance suite with Vitest: every store Strongroom ships passes it,
 * and a third-party store should too. Call it at the top level of a test file.
 *
 * Each test gets a fresh store from `setup.open()` and closes it afterwards. Records are built
 * relative to a fixed instant in the year 2100. Expiry is "deadline ≤ now": a session whose
 * earlier deadline equals `now` is expired for `listByUser` and `purgeExpired`.
 *
 * @example
 * ```ts
 * // test/my-store.test.ts
 * import { describeStoreContract } from 'strongroom/testing';
 * import { createMyStore } from '../src/my-store.js';
 *
 * describeStoreContract('my store', {
 *   open: async () => createMyStore({ url: process.env.MY_STORE_URL }),
 * });
 * ```
 */
export function describeStoreContract(name: string, setup: StoreContractSetup): void {
  // Cases that do not apply to a store are not registered at all (rather than skipped), so a
  // skip in CI always means something is missing: purge counts on stores whose backend expires
  // keys itself, outages on stores that have no server to lose.
  const expiry = setup.expiry ?? 'purge';
  const outage: Outage | null =
    setup.stop !== undefined && setup.start !== undefined ? (setup as Outage) : null;

  describe(`${name}: session store contract`, () => {
    let store: SessionStore;

    beforeEach(async () => {
      store = await setup.open();
    });

    afterEach(async () => {
      await store.close();
    });

    async function insert(overrides: Partial<StoredSession> = {}): Promise<StoredSession> {
      const session = makeSession(overrides);
      expect(await store.insert(session, FRESH)).toEqual(INSERTED);
      return session;
    }

    async function rotate(
      session: StoredSession,
      graceUntil: number,
    ): Promise<{ rotated: StoredSession; retire: RetiredToken }> {
      const rotated = nextVersion(session, { tokenHash: randomTokenHash(), rotatedAt: NOW });
      const retire = { tokenHash: session.tokenHash, graceUntil };
      expect(await store.update(rotated, { retire })).toBe(true);
      return { rotated, retire };
    }

    const context: ContractContext = { store: () => store, insert, rotate };
    describeLookupCases(context);
    describeConflictCases(context);
    describeUpdateCases(context);
    describeDeleteCases(context);
    describeUserIndexCases(context);
    describePurgeCases(context, expiry);
    describeConcurrencyCases(context);
    describeReplacementCases(context);
    describeUserLimitCases(context);
    describeDeleteAllCases(context);
    describeLifecycleCases(context, outage);
  });
}

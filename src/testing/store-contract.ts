import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InsertResult, RetiredToken, SessionStore, StoredSession } from '../core/store.js';
import {
  describeDeleteAllCases,
  describeReplacementCases,
  describeUserLimitCases,
} from './store-contract-cases.js';
import {
  CONFLICT,
  FRESH,
  HOUR,
  INSERTED,
  MINUTE,
  NOW,
  OUTAGE_CALL_TIMEOUT_MS,
  RECOVERY_TIMEOUT_MS,
  SECOND,
  byId,
  eventually,
  makeSession,
  nextVersion,
  randomId,
  randomTokenHash,
  replacing,
  settle,
  sorted,
} from './store-contract-support.js';

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
  const checksPurgeCounts = (setup.expiry ?? 'purge') === 'purge';
  const canCauseOutage = setup.stop !== undefined && setup.start !== undefined;
  const itIf =
    (applies: boolean) =>
    (title: string, test: () => Promise<void>, timeout?: number): void => {
      if (applies) it(title, test, timeout);
    };

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

    describe('insert and find', () => {
      it('round-trips a session through insert, findByTokenHash and findById', async () => {
        const anonymous = await insert();
        const signedIn = await insert({
          userId: randomId(),
          authenticatedAt: NOW - 5 * MINUTE + 1,
          createdAt: NOW - 10 * MINUTE + 7,
          lastSeenAt: NOW - 3,
          idleExpiresAt: NOW + 30 * MINUTE + 11,
          absoluteExpiresAt: NOW + 12 * HOUR + 13,
          rotatedAt: NOW - 2 * MINUTE + 17,
          version: 41,
          sealed: `v1.k1.${randomBytes(6_000).toString('base64url')}`,
        });

        for (const session of [anonymous, signedIn]) {
          expect(await store.findByTokenHash(session.tokenHash)).toEqual({
            session,
            retiredGraceUntil: null,
          });
          expect(await store.findById(session.id)).toEqual(session);
        }
      });

      it('returns null for an unknown token hash or session id', async () => {
        await insert();
        expect(await store.findByTokenHash(randomTokenHash())).toBeNull();
        expect(await store.findById(randomId())).toBeNull();
      });

      it('keys are hashes: the store holds exactly the token hash it was given', async () => {
        const session = await insert();
        expect((await store.findById(session.id))?.tokenHash).toBe(session.tokenHash);
        expect((await store.findByTokenHash(session.tokenHash))?.session.tokenHash).toBe(
          session.tokenHash,
        );
      });

      it('keeps a copy: changing the inserted or returned object changes nothing stored', async () => {
        const original = makeSession({ userId: randomId() });
        const handedIn = { ...original };
        await store.insert(handedIn, FRESH);
        (handedIn as { sealed: string }).sealed = 'changed by the caller';
        (handedIn as { version: number }).version = 99;

        const returned = await store.findById(original.id);
        expect(returned).toEqual(original);
        try {
          (returned as { sealed: string }).sealed = 'changed by a reader';
        } catch {
          // a store may hand out frozen records
        }
        expect(await store.findById(original.id)).toEqual(original);
        expect((await store.findByTokenHash(original.tokenHash))?.session).toEqual(original);
      });

      it('[SM-16] insert with replaces deletes the old session and its retired tokens', async () => {
        const old = await insert({ userId: randomId() });
        const { rotated, retire } = await rotate(old, NOW + 30 * SECOND);

        const fresh = makeSession({ userId: old.userId });
        expect(await store.insert(fresh, replacing(rotated))).toEqual(INSERTED);

        expect(await store.findById(old.id)).toBeNull();
        expect(await store.findByTokenHash(rotated.tokenHash)).toBeNull();
        expect(await store.findByTokenHash(retire.tokenHash)).toBeNull();
        expect(await store.findById(fresh.id)).toEqual(fresh);
        expect(await store.findByTokenHash(fresh.tokenHash)).toEqual({
          session: fresh,
          retiredGraceUntil: null,
        });
      });

      it('[SM-31] insert replacing a session that never existed reports conflict and inserts nothing', async () => {
        const fresh = makeSession();
        const options = { replaces: { id: randomId(), version: 1 }, limit: null };
        expect(await store.insert(fresh, options)).toEqual(CONFLICT);
        expect(await store.findById(fresh.id)).toBeNull();
        expect(await store.findByTokenHash(fresh.tokenHash)).toBeNull();
      });

      it('insert rejects an id already in use, and then deletes nothing (one atomic step)', async () => {
        const existing = await insert();
        const replaced = await insert();
        const clash = makeSession({ id: existing.id });

        await expect(store.insert(clash, replacing(replaced))).rejects.toThrow();

        expect(await store.findById(existing.id)).toEqual(existing);
        expect(await store.findById(replaced.id)).toEqual(replaced);
        expect(await store.findByTokenHash(clash.tokenHash)).toBeNull();
      });

      it('insert rejects a token hash already in use, and then deletes or evicts nothing', async () => {
        const user = randomId();
        const holder = await insert({ userId: randomId() });
        const mine = [
          await insert({ userId: user, lastSeenAt: NOW - HOUR }),
          await insert({ userId: user }),
        ];
        const clash = makeSession({ userId: user, tokenHash: holder.tokenHash });

        const limit = { max: 1, policy: 'evict-oldest' as const, now: NOW };
        await expect(store.insert(clash, { replaces: null, limit })).rejects.toThrow();
        await expect(store.insert(clash, replacing(mine[0]!, limit))).rejects.toThrow();

        expect(await store.findById(clash.id)).toBeNull();
        expect(byId(await store.listByUser(user, NOW))).toEqual(byId(mine));
        expect(await store.findByTokenHash(holder.tokenHash)).toEqual({
          session: holder,
          retiredGraceUntil: null,
        });
      });
    });

    describe('update', () => {
      it('is compare-and-set: succeeds with version + 1, fails for a stale version', async () => {
        const session = await insert();
        const second = nextVersion(session, { lastSeenAt: NOW + MINUTE, sealed: 'second' });
        expect(await store.update(second, { retire: null })).toBe(true);
        expect(await store.findById(session.id)).toEqual(second);
        expect(await store.findByTokenHash(session.tokenHash)).toEqual({
          session: second,
          retiredGraceUntil: null,
        });

        const stale = nextVersion(session, { sealed: 'stale' });
        expect(await store.update(stale, { retire: null })).toBe(false);
        const skipping = { ...nextVersion(second), version: second.version + 2, sealed: 'skip' };
        expect(await store.update(skipping, { retire: null })).toBe(false);
        expect(await store.findById(session.id)).toEqual(second);
      });

      it('[SM-31] returns false for a deleted session and does not recreate it', async () => {
        const session = await insert({ userId: randomId() });
        expect(await store.delete(session.id)).toBe(true);

        const late = nextVersion(session, { tokenHash: randomTokenHash() });
        expect(
          await store.update(late, {
            retire: { tokenHash: session.tokenHash, graceUntil: NOW + MINUTE },
          }),
        ).toBe(false);

        expect(await store.findById(session.id)).toBeNull();
        expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
        expect(await store.findByTokenHash(late.tokenHash)).toBeNull();
        expect(await store.listByUser(session.userId!, NOW)).toEqual([]);
      });

      it('returns false for a session that never existed', async () => {
        const ghost = nextVersion(makeSession());
        expect(await store.update(ghost, { retire: null })).toBe(false);
        expect(await store.findById(ghost.id)).toBeNull();
      });

      it('with retire keeps the old token findable with its grace window and the new one current', async () => {
        const session = await insert();
        const { rotated, retire } = await rotate(session, NOW + 30 * SECOND);

        expect(await store.findByTokenHash(rotated.tokenHash)).toEqual({
          session: rotated,
          retiredGraceUntil: null,
        });
        expect(await store.findByTokenHash(retire.tokenHash)).toEqual({
          session: rotated,
          retiredGraceUntil: NOW + 30 * SECOND,
        });
        expect(await store.findById(session.id)).toEqual(rotated);

        const { rotated: third } = await rotate(rotated, NOW + 90 * SECOND);
        expect(await store.findByTokenHash(session.tokenHash)).toEqual({
          session: third,
          retiredGraceUntil: NOW + 30 * SECOND,
        });
        expect(await store.findByTokenHash(rotated.tokenHash)).toEqual({
          session: third,
          retiredGraceUntil: NOW + 90 * SECOND,
        });
        expect((await store.findByTokenHash(third.tokenHash))?.retiredGraceUntil).toBeNull();
      });

      it('a failed update retires nothing', async () => {
        const session = await insert();
        const stale = { ...nextVersion(session, { tokenHash: randomTokenHash() }), version: 7 };
        const retire = { tokenHash: session.tokenHash, graceUntil: NOW + MINUTE };
        expect(await store.update(stale, { retire })).toBe(false);

        expect(await store.findByTokenHash(session.tokenHash)).toEqual({
          session,
          retiredGraceUntil: null,
        });
        expect(await store.findByTokenHash(stale.tokenHash)).toBeNull();
      });

      it('[SM-20] keeps a retired token after its grace window, until the session ends', async () => {
        const session = await insert();
        const { rotated, retire } = await rotate(session, NOW - MINUTE);
        await store.purgeExpired(NOW, 100);

        expect(await store.findByTokenHash(retire.tokenHash)).toEqual({
          session: rotated,
          retiredGraceUntil: NOW - MINUTE,
        });
      });
    });

    describe('delete', () => {
      it('returns whether the session existed', async () => {
        const session = await insert();
        expect(await store.delete(session.id)).toBe(true);
        expect(await store.findById(session.id)).toBeNull();
        expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
        expect(await store.delete(session.id)).toBe(false);
        expect(await store.delete(randomId())).toBe(false);
      });

      it('takes the retired tokens of the session with it', async () => {
        const session = await insert();
        const { rotated, retire } = await rotate(session, NOW + 30 * SECOND);
        const { retire: secondRetire } = await rotate(rotated, NOW + 60 * SECOND);

        expect(await store.delete(session.id)).toBe(true);
        expect(await store.findByTokenHash(retire.tokenHash)).toBeNull();
        expect(await store.findByTokenHash(secondRetire.tokenHash)).toBeNull();
      });

      it('leaves other sessions alone', async () => {
        const doomed = await insert();
        const other = await insert();
        await store.delete(doomed.id);
        expect(await store.findById(other.id)).toEqual(other);
      });
    });

    describe('user index', () => {
      it('[SM-27] deleteByUser deletes every session of the user and returns exactly their ids', async () => {
        const user = randomId();
        const mine = [await insert({ userId: user }), await insert({ userId: user })];
        const expired = await insert({ userId: user, idleExpiresAt: NOW - MINUTE });
        const { retire } = await rotate(await insert({ userId: user }), NOW + MINUTE);
        const rotatedId = (await store.findByTokenHash(retire.tokenHash))!.session.id;
        const otherUser = await insert({ userId: randomId() });
        const anonymous = await insert();

        const deleted = await store.deleteByUser(user, { except: null });

        expect(sorted(deleted)).toEqual(
          sorted([...mine, expired].map((s) => s.id).concat(rotatedId)),
        );
        for (const id of deleted) expect(await store.findById(id)).toBeNull();
        expect(await store.findByTokenHash(retire.tokenHash)).toBeNull();
        expect(await store.listByUser(user, NOW)).toEqual([]);
        expect(await store.findById(otherUser.id)).toEqual(otherUser);
        expect(await store.findById(anonymous.id)).toEqual(anonymous);
        expect(await store.deleteByUser(user, { except: null })).toEqual([]);
      });

      it('[SM-28] deleteByUser with except keeps that one session', async () => {
        const user = randomId();
        const current = await insert({ userId: user });
        const others = [await insert({ userId: user }), await insert({ userId: user })];
        const otherUser = await insert({ userId: randomId() });

        const deleted = await store.deleteByUser(user, { except: current.id });

        expect(sorted(deleted)).toEqual(sorted(others.map((s) => s.id)));
        expect(await store.findById(current.id)).toEqual(current);
        expect(await store.listByUser(user, NOW)).toEqual([current]);
        expect(await store.findById(otherUser.id)).toEqual(otherUser);
      });

      it('deleteByUser of a user without sessions returns an empty list', async () => {
        await insert({ userId: randomId() });
        expect(await store.deleteByUser(randomId(), { except: null })).toEqual([]);
      });

      it('listByUser lists only the unexpired sessions of that user', async () => {
        const user = randomId();
        const live = [
          await insert({ userId: user }),
          await insert({ userId: user, idleExpiresAt: NOW + 1 }),
        ];
        await insert({ userId: user, idleExpiresAt: NOW - MINUTE });
        await insert({ userId: user, absoluteExpiresAt: NOW - 1 });
        await insert({ userId: user, idleExpiresAt: NOW });
        await insert({ userId: randomId() });
        await insert();

        expect(byId(await store.listByUser(user, NOW))).toEqual(byId(live));
        expect(await store.listByUser(randomId(), NOW)).toEqual([]);
      });

      it('follows a user id change through update (anonymous, then signed in, then another user)', async () => {
        const alice = randomId();
        const bob = randomId();
        const anonymous = await insert();

        const signedIn = nextVersion(anonymous, { userId: alice, authenticatedAt: NOW });
        expect(await store.update(signedIn, { retire: null })).toBe(true);
        expect(await store.listByUser(alice, NOW)).toEqual([signedIn]);

        const switched = nextVersion(signedIn, { userId: bob });
        expect(await store.update(switched, { retire: null })).toBe(true);
        expect(await store.listByUser(alice, NOW)).toEqual([]);
        expect(await store.deleteByUser(alice, { except: null })).toEqual([]);
        expect(await store.deleteByUser(bob, { except: null })).toEqual([anonymous.id]);
      });

      it('follows insert with replaces (login replaces the anonymous or previous session)', async () => {
        const user = randomId();
        const anonymous = await insert();
        const first = makeSession({ userId: user, authenticatedAt: NOW });
        expect(await store.insert(first, replacing(anonymous))).toEqual(INSERTED);
        expect(await store.listByUser(user, NOW)).toEqual([first]);

        const second = makeSession({ userId: user, authenticatedAt: NOW });
        expect(await store.insert(second, replacing(first))).toEqual(INSERTED);
        expect(await store.listByUser(user, NOW)).toEqual([second]);
        expect(await store.deleteByUser(user, { except: null })).toEqual([second.id]);
      });
    });

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
          expect(await store.update(expiredByUpdate, { retire: null })).toBe(true);
          const live = [await insert({ userId: user }), await insert({ idleExpiresAt: NOW + 1 })];

          expect(await store.purgeExpired(NOW, 100)).toBe(4);

          for (const session of [...expired, rotating]) {
            expect(await store.findById(session.id)).toBeNull();
            expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
          }
          expect(await store.findByTokenHash(retire.tokenHash)).toBeNull();
          expect(await store.findByTokenHash(expiredByUpdate.tokenHash)).toBeNull();
          for (const session of live) expect(await store.findById(session.id)).toEqual(session);
          expect(await store.listByUser(user, NOW)).toEqual([live[0]]);
          expect(await store.purgeExpired(NOW, 100)).toBe(0);
        },
      );

      itIf(checksPurgeCounts)('purgeExpired deletes at most limit sessions per call', async () => {
        const expired = await Promise.all(
          Array.from({ length: 5 }, (_, index) => insert({ idleExpiresAt: NOW - index - 1 })),
        );
        const live = await insert();

        expect(await store.purgeExpired(NOW, 0)).toBe(0);
        expect(await store.purgeExpired(NOW, 2)).toBe(2);
        expect(await store.purgeExpired(NOW, 2)).toBe(2);
        expect(await store.purgeExpired(NOW, 2)).toBe(1);
        expect(await store.purgeExpired(NOW, 2)).toBe(0);

        for (const session of expired) expect(await store.findById(session.id)).toBeNull();
        expect(await store.findById(live.id)).toEqual(live);
      });

      it('purgeExpired before anything expired deletes nothing', async () => {
        const sessions = [await insert(), await insert({ userId: randomId() })];
        expect(await store.purgeExpired(NOW - HOUR, 100)).toBe(0);
        for (const session of sessions) expect(await store.findById(session.id)).toEqual(session);
      });
    });

    describe('concurrency', () => {
      it('of 20 parallel updates from the same version, exactly one wins', async () => {
        const session = await insert();
        const contenders = Array.from({ length: 20 }, (_, index) =>
          nextVersion(session, { sealed: `contender-${index}`, tokenHash: randomTokenHash() }),
        );

        const results = await Promise.all(
          contenders.map((contender) => store.update(contender, { retire: null })),
        );

        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = contenders[results.indexOf(true)];
        expect(await store.findById(session.id)).toEqual(winner);
        for (const loser of contenders.filter((contender) => contender !== winner)) {
          expect(await store.findByTokenHash(loser.tokenHash)).toBeNull();
        }
      });

      it('parallel updates to different sessions all succeed', async () => {
        const sessions = await Promise.all(Array.from({ length: 20 }, () => insert()));
        const updates = sessions.map((session) => nextVersion(session, { sealed: 'updated' }));

        const results = await Promise.all(
          updates.map((update) => store.update(update, { retire: null })),
        );

        expect(results).toEqual(updates.map(() => true));
        for (const update of updates) expect(await store.findById(update.id)).toEqual(update);
      });

      it('deleteByUser removes all of 200 sessions of one user', async () => {
        const user = randomId();
        const sessions = await Promise.all(
          Array.from({ length: 200 }, () => insert({ userId: user })),
        );
        const bystander = await insert({ userId: randomId() });

        expect(await store.listByUser(user, NOW)).toHaveLength(200);
        const deleted = await store.deleteByUser(user, { except: null });

        expect(sorted(deleted)).toEqual(sorted(sessions.map((s) => s.id)));
        expect(await store.listByUser(user, NOW)).toEqual([]);
        expect(await store.findById(bystander.id)).toEqual(bystander);
      });

      it('[SM-27] revoke-all while logins happen leaves no survivor', async () => {
        const user = randomId();
        const earlier = await Promise.all(
          Array.from({ length: 20 }, () => insert({ userId: user })),
        );
        const { retire } = await rotate(earlier[0]!, NOW + MINUTE);
        const anonymous = await Promise.all(Array.from({ length: 20 }, () => insert()));

        // Logins (each replacing an anonymous session) started just before, and just after,
        // the revocation, and a devices-list read, all in flight together with it.
        const logins = anonymous.map((previous) => ({
          previous,
          session: makeSession({ userId: user, authenticatedAt: NOW }),
        }));
        const login = ({ previous, session }: (typeof logins)[number]): Promise<InsertResult> =>
          store.insert(session, replacing(previous));
        const before = logins.slice(0, 10).map(login);
        const revocation = store.deleteByUser(user, { except: null });
        const after = logins.slice(10).map(login);
        const listing = store.listByUser(user, NOW);
        const [deleted, results] = await Promise.all([
          revocation,
          Promise.all([...before, ...after]),
          listing,
        ]);

        // The replaced anonymous sessions were untouched by the revocation: every login went in.
        expect(results).toEqual(logins.map(() => INSERTED));

        // Every session that existed when deleteByUser was called is gone, rotated tokens too.
        expect(deleted).toEqual(expect.arrayContaining(earlier.map((s) => s.id)));
        for (const session of earlier) {
          expect(await store.findById(session.id)).toBeNull();
          expect(await store.findByTokenHash(session.tokenHash)).toBeNull();
        }
        expect(await store.findByTokenHash(retire.tokenHash)).toBeNull();
        // Only this user's sessions were deleted, and none of them can still be found.
        const known = new Set([...earlier, ...logins.map((l) => l.session)].map((s) => s.id));
        expect(deleted.filter((id) => !known.has(id))).toEqual([]);
        expect(new Set(deleted).size).toBe(deleted.length);
        for (const id of deleted) expect(await store.findById(id)).toBeNull();
        // A racing login either lost (deleted, unreachable) or won: then it is intact, listed
        // and revocable. Every replaced anonymous session is gone either way.
        const survivors = logins.map((l) => l.session).filter((s) => !deleted.includes(s.id));
        for (const { previous, session } of logins) {
          expect(await store.findById(previous.id)).toBeNull();
          const found = await store.findByTokenHash(session.tokenHash);
          if (deleted.includes(session.id)) expect(found).toBeNull();
          else expect(found).toEqual({ session, retiredGraceUntil: null });
        }
        expect(byId(await store.listByUser(user, NOW))).toEqual(byId(survivors));
        const second = await store.deleteByUser(user, { except: null });
        expect(sorted(second)).toEqual(sorted(survivors.map((s) => s.id)));
        expect(await store.listByUser(user, NOW)).toEqual([]);
      });
    });

    const context = { store: () => store, insert, rotate };
    describeReplacementCases(context);
    describeUserLimitCases(context);
    describeDeleteAllCases(context);

    describe('lifecycle', () => {
      it('close is idempotent and later calls reject', async () => {
        const session = await insert();
        await store.close();
        await store.close();
        await expect(store.findById(session.id)).rejects.toThrow();
      });

      itIf(canCauseOutage)(
        'rejects every call while the backend is down, and works again once it is back',
        async () => {
          const session = await insert({ userId: randomId() });
          await setup.stop!();
          try {
            const calls: Record<string, () => Promise<unknown>> = {
              findByTokenHash: () => store.findByTokenHash(session.tokenHash),
              findById: () => store.findById(session.id),
              insert: () => store.insert(makeSession(), FRESH),
              update: () => store.update(nextVersion(session), { retire: null }),
              delete: () => store.delete(randomId()),
              deleteByUser: () => store.deleteByUser(randomId(), { except: null }),
              deleteAll: () =>
                store.deleteAll({ createdBefore: NOW - HOUR, limit: 1, cursor: null }),
              listByUser: () => store.listByUser(session.userId!, NOW),
              purgeExpired: () => store.purgeExpired(NOW - HOUR, 1),
            };
            for (const [method, call] of Object.entries(calls)) {
              expect(await settle(call), method).toBe('rejected');
            }
          } finally {
            await setup.start!();
          }

          const fresh = makeSession();
          await eventually(() => store.insert(fresh, FRESH));
          expect(await store.findById(fresh.id)).toEqual(fresh);
        },
        OUTAGE_CALL_TIMEOUT_MS * 11 + RECOVERY_TIMEOUT_MS,
      );
    });
  });
}

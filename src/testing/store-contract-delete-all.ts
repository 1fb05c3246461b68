/**
 * The cases of the store conformance suite about incident-response deletion by creation time
 * (SM-30). Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { StoredSession } from '../core/store.js';
import {
  CONFLICT,
  FRESH,
  HOUR,
  INSERTED,
  MINUTE,
  NOW,
  byId,
  deleteAllUntilQuiet,
  expectGone,
  makeSession,
  randomId,
  regenerated,
  replacing,
  sorted,
  yieldMicrotasks,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** How long the cases that write a thousand sessions may take on a networked store. */
const BULK_TIMEOUT_MS = 60_000;

/** The creation-time cut-off of every case: sessions created before it are deleted. */
const cutoff = NOW - HOUR;

/** SM-30: incident response deletes every session created before a cut-off, in batches. */
export function describeDeleteAllCases(context: ContractContext): void {
  describe('deleteAll (SM-30)', () => {
    registerCutoffCases(context);
    registerBulkDeleteAllCase(context);
    registerDeleteAllRaceCase(context);
  });
}

/** Exactly the sessions created before the cut-off go, at most limit per call. */
function registerCutoffCases({ store, insert, rotate }: ContractContext): void {
  it('[SM-30] deletes the sessions created before the cut-off, every user’s and anonymous, and only those', async () => {
    const alice = randomId();
    const bob = randomId();
    const old = [
      await insert({ userId: alice, createdAt: cutoff - 1 }),
      await insert({ userId: bob, createdAt: cutoff - HOUR }),
      await insert({ createdAt: cutoff - 1 }),
      await insert({ userId: alice, createdAt: cutoff - 2 * HOUR, idleExpiresAt: NOW - MINUTE }),
    ];
    const first = await rotate(await insert({ userId: bob, createdAt: cutoff - 1 }), NOW + MINUTE);
    const second = await rotate(first.rotated, NOW + 2 * MINUTE);
    const keptAlice = await insert({ userId: alice, createdAt: cutoff });
    const keptBob = await insert({ userId: bob, createdAt: cutoff + 1 });
    const keptAnonymous = await rotate(await insert({ createdAt: NOW }), NOW + MINUTE);

    const { deleted } = await deleteAllUntilQuiet(store(), { createdBefore: cutoff, limit: 100 });

    expect(sorted(deleted)).toEqual(sorted([...old, second.rotated].map((s) => s.id)));
    for (const session of [...old, second.rotated]) await expectGone(store(), session);
    for (const { retire } of [first, second]) {
      expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
    }
    for (const session of [keptAlice, keptBob, keptAnonymous.rotated]) {
      expect(await store().findById(session.id)).toEqual(session);
    }
    expect(await store().findByTokenHash(keptAnonymous.retire.tokenHash)).toEqual({
      session: keptAnonymous.rotated,
      retiredGraceUntil: NOW + MINUTE,
    });
    // The user index holds nothing of the deleted sessions either.
    expect(await store().listByUser(alice, NOW)).toEqual([keptAlice]);
    expect(await store().listByUser(bob, NOW)).toEqual([keptBob]);
    expect(await store().deleteByUser(alice, { except: null })).toEqual([keptAlice.id]);
    expect(await store().deleteByUser(bob, { except: null })).toEqual([keptBob.id]);
  });

  it('[SM-30] deletes at most limit sessions per call', async () => {
    const old = await Promise.all(
      Array.from({ length: 5 }, (_, index) => insert({ createdAt: cutoff - index - 1 })),
    );
    const kept = await insert({ createdAt: cutoff });

    const one = await store().deleteAll({ createdBefore: cutoff, limit: 2, cursor: null });
    expect(one.deleted.length).toBeLessThanOrEqual(2);
    // The helper checks every further call against the limit too.
    const rest = await deleteAllUntilQuiet(store(), { createdBefore: cutoff, limit: 2 });

    expect(sorted([...one.deleted, ...rest.deleted])).toEqual(sorted(old.map((s) => s.id)));
    for (const session of old) await expectGone(store(), session);
    expect(await store().findById(kept.id)).toEqual(kept);
    expect(await store().deleteAll({ createdBefore: cutoff, limit: 2, cursor: null })).toEqual({
      deleted: [],
      cursor: null,
    });
  });
}

/** The manager's loop removes more sessions than one call may. */
function registerBulkDeleteAllCase({ store, insert }: ContractContext): void {
  it(
    '[SM-30] a loop until a pass deletes nothing removes 1,200 sessions with limit 500',
    async () => {
      const users = Array.from({ length: 12 }, () => randomId());
      const old: StoredSession[] = [];
      for (let batch = 0; batch < 6; batch++) {
        const inserted = await Promise.all(
          Array.from({ length: 200 }, (_, index) =>
            insert({
              userId: index % 4 === 0 ? null : users[index % users.length]!,
              createdAt: cutoff - 1 - batch * 200 - index,
            }),
          ),
        );
        old.push(...inserted);
      }
      const kept = [await insert({ userId: users[0]!, createdAt: NOW }), await insert()];

      const { deleted } = await deleteAllUntilQuiet(store(), {
        createdBefore: cutoff,
        limit: 500,
      });

      expect(deleted).toHaveLength(1_200);
      expect(sorted(deleted)).toEqual(sorted(old.map((s) => s.id)));
      for (let start = 0; start < old.length; start += 200) {
        const found = await Promise.all(
          old.slice(start, start + 200).map((session) => store().findById(session.id)),
        );
        expect(found.filter((session) => session !== null)).toEqual([]);
      }
      for (const user of users.slice(1)) expect(await store().listByUser(user, NOW)).toEqual([]);
      expect(await store().listByUser(users[0]!, NOW)).toEqual([kept[0]]);
      for (const session of kept) expect(await store().findById(session.id)).toEqual(session);
    },
    BULK_TIMEOUT_MS,
  );
}

/** A deleteAll loop racing regenerations and logins. */
function registerDeleteAllRaceCase({ store, insert }: ContractContext): void {
  it('[SM-30] a deleteAll loop racing regenerations leaves no session created before the cut-off', async () => {
    const users = [randomId(), randomId(), randomId()];
    const old = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        insert({
          userId: index % 4 === 3 ? null : users[index % 3]!,
          createdAt: cutoff - 1 - index,
        }),
      ),
    );
    const regenerations = old.map((session) => ({ session, fresh: regenerated(session) }));
    const newcomers = Array.from({ length: 9 }, (_, index) =>
      makeSession({ userId: users[index % 3]!, createdAt: NOW }),
    );

    // Half the regenerations go out at once, half spread over the loop's steps, so that some
    // land before their original is deleted (and must be deleted in turn) and some after.
    const loop = deleteAllUntilQuiet(store(), { createdBefore: cutoff, limit: 7 });
    const regenerating = Promise.all(
      regenerations.map(async ({ session, fresh }, index) => {
        await yieldMicrotasks(index % 2 === 0 ? 0 : index);
        return store().insert(fresh, replacing(session));
      }),
    );
    const loggingIn = Promise.all(
      newcomers.map(async (session, index) => {
        await yieldMicrotasks(index * 10);
        return store().insert(session, FRESH);
      }),
    );
    const [, results, logins] = await Promise.all([loop, regenerating, loggingIn]);

    for (const [index, { session, fresh }] of regenerations.entries()) {
      expect([INSERTED, CONFLICT]).toContainEqual(results[index]);
      await expectGone(store(), session);
      await expectGone(store(), fresh);
    }
    expect(logins).toEqual(newcomers.map(() => INSERTED));
    for (const user of users) {
      const theirs = newcomers.filter((session) => session.userId === user);
      expect(byId(await store().listByUser(user, NOW))).toEqual(byId(theirs));
    }
  });
}

/**
 * The cases of the store conformance suite about the sessions of one user: `deleteByUser` and
 * `listByUser`. Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  INSERTED,
  MINUTE,
  NOW,
  byId,
  makeSession,
  nextVersion,
  randomId,
  replacing,
  sorted,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** The user index: deleteByUser (SM-27, SM-28) and listByUser follow every write. */
export function describeUserIndexCases(context: ContractContext): void {
  describe('user index', () => {
    registerDeleteByUserCases(context);
    registerUserListingCases(context);
  });
}

/** deleteByUser deletes exactly the sessions of the user, or all but one. */
function registerDeleteByUserCases({ store, insert, rotate }: ContractContext): void {
  it('[SM-27] deleteByUser deletes every session of the user and returns exactly their ids', async () => {
    const user = randomId();
    const mine = [await insert({ userId: user }), await insert({ userId: user })];
    const expired = await insert({ userId: user, idleExpiresAt: NOW - MINUTE });
    const { retire } = await rotate(await insert({ userId: user }), NOW + MINUTE);
    const rotatedId = (await store().findByTokenHash(retire.tokenHash))!.session.id;
    const otherUser = await insert({ userId: randomId() });
    const anonymous = await insert();

    const deleted = await store().deleteByUser(user, { except: null });

    expect(sorted(deleted)).toEqual(sorted([...mine, expired].map((s) => s.id).concat(rotatedId)));
    for (const id of deleted) expect(await store().findById(id)).toBeNull();
    expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
    expect(await store().listByUser(user, NOW)).toEqual([]);
    expect(await store().findById(otherUser.id)).toEqual(otherUser);
    expect(await store().findById(anonymous.id)).toEqual(anonymous);
    expect(await store().deleteByUser(user, { except: null })).toEqual([]);
  });

  it('[SM-28] deleteByUser with except keeps that one session', async () => {
    const user = randomId();
    const current = await insert({ userId: user });
    const others = [await insert({ userId: user }), await insert({ userId: user })];
    const otherUser = await insert({ userId: randomId() });

    const deleted = await store().deleteByUser(user, { except: current.id });

    expect(sorted(deleted)).toEqual(sorted(others.map((s) => s.id)));
    expect(await store().findById(current.id)).toEqual(current);
    expect(await store().listByUser(user, NOW)).toEqual([current]);
    expect(await store().findById(otherUser.id)).toEqual(otherUser);
  });

  it('deleteByUser of a user without sessions returns an empty list', async () => {
    await insert({ userId: randomId() });
    expect(await store().deleteByUser(randomId(), { except: null })).toEqual([]);
  });
}

/** listByUser lists the live sessions of a user, through updates and replacements. */
function registerUserListingCases({ store, insert }: ContractContext): void {
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

    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(live));
    expect(await store().listByUser(randomId(), NOW)).toEqual([]);
  });

  it('follows a user id change through update (anonymous, then signed in, then another user)', async () => {
    const alice = randomId();
    const bob = randomId();
    const anonymous = await insert();

    const signedIn = nextVersion(anonymous, { userId: alice, authenticatedAt: NOW });
    expect(await store().update(signedIn, { retire: null })).toBe(true);
    expect(await store().listByUser(alice, NOW)).toEqual([signedIn]);

    const switched = nextVersion(signedIn, { userId: bob });
    expect(await store().update(switched, { retire: null })).toBe(true);
    expect(await store().listByUser(alice, NOW)).toEqual([]);
    expect(await store().deleteByUser(alice, { except: null })).toEqual([]);
    expect(await store().deleteByUser(bob, { except: null })).toEqual([anonymous.id]);
  });

  it('follows insert with replaces (login replaces the anonymous or previous session)', async () => {
    const user = randomId();
    const anonymous = await insert();
    const first = makeSession({ userId: user, authenticatedAt: NOW });
    expect(await store().insert(first, replacing(anonymous))).toEqual(INSERTED);
    expect(await store().listByUser(user, NOW)).toEqual([first]);

    const second = makeSession({ userId: user, authenticatedAt: NOW });
    expect(await store().insert(second, replacing(first))).toEqual(INSERTED);
    expect(await store().listByUser(user, NOW)).toEqual([second]);
    expect(await store().deleteByUser(user, { except: null })).toEqual([second.id]);
  });
}

/**
 * The cases of the store conformance suite about the per-user session limit (SM-34).
 * Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { StoredSession } from '../core/store.js';
import {
  HOUR,
  INSERTED,
  LIMIT_REACHED,
  MINUTE,
  NOW,
  byId,
  expectGone,
  limited,
  makeSession,
  nextVersion,
  randomId,
  randomTokenHash,
  regenerated,
  replacing,
  sorted,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** SM-34: at most `max` live sessions per user, enforced in the insert itself. */
export function describeUserLimitCases(context: ContractContext): void {
  describe('user session limit (SM-34)', () => {
    registerLimitCountingCases(context);
    registerAnonymousLimitCases(context);
    registerEvictionCases(context);
    registerParallelLimitCases(context);
  });
}

/** refuse, and which sessions count towards the limit: not expired ones, not the replaced one. */
function registerLimitCountingCases({ store, insert }: ContractContext): void {
  it('[SM-34] refuse: an insert past max reports limit-reached and changes nothing', async () => {
    const user = randomId();
    const live = [
      await insert({ userId: user }),
      await insert({ userId: user }),
      await insert({ userId: user }),
    ];

    const refused = makeSession({ userId: user });
    const limit = limited(3, 'refuse');
    expect(await store().insert(refused, { replaces: null, limit })).toEqual(LIMIT_REACHED);
    await expectGone(store(), refused);
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(live));

    const admitted = makeSession({ userId: user });
    const roomier = limited(4, 'refuse');
    expect(await store().insert(admitted, { replaces: null, limit: roomier })).toEqual(INSERTED);
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId([...live, admitted]));
  });

  it('[SM-34] sessions expired at the limit’s now do not count, whatever the policy', async () => {
    const user = randomId();
    const live = await insert({ userId: user });
    // Least recently used of all, so a store that counted them would evict them first. Live
    // by the real clock: the limit's `now`, not the store's clock, decides.
    await insert({ userId: user, lastSeenAt: NOW - 2 * HOUR, idleExpiresAt: NOW });
    await insert({ userId: user, lastSeenAt: NOW - 2 * HOUR, absoluteExpiresAt: NOW - MINUTE });

    const second = makeSession({ userId: user });
    const refuse = limited(2, 'refuse');
    expect(await store().insert(second, { replaces: null, limit: refuse })).toEqual(INSERTED);
    const third = makeSession({ userId: user });
    const evict = limited(3, 'evict-oldest');
    expect(await store().insert(third, { replaces: null, limit: evict })).toEqual(INSERTED);

    expect(byId(await store().listByUser(user, NOW))).toEqual(byId([live, second, third]));
  });

  it('[SM-34] the replaced session does not count', async () => {
    const user = randomId();
    const sessions = [
      await insert({ userId: user }),
      await insert({ userId: user }),
      await insert({ userId: user }),
    ];

    const first = regenerated(sessions[0]!);
    const refuse = limited(3, 'refuse');
    expect(await store().insert(first, replacing(sessions[0]!, refuse))).toEqual(INSERTED);
    const second = regenerated(sessions[1]!);
    const evict = limited(3, 'evict-oldest');
    expect(await store().insert(second, replacing(sessions[1]!, evict))).toEqual(INSERTED);

    expect(byId(await store().listByUser(user, NOW))).toEqual(byId([first, second, sessions[2]!]));
  });
}

/** Anonymous sessions never count, and anonymous inserts are never limited. */
function registerAnonymousLimitCases({ store, insert }: ContractContext): void {
  it('[SM-34] a login replacing an anonymous session counts only the user’s sessions', async () => {
    const user = randomId();
    const existing = await insert({ userId: user, lastSeenAt: NOW - HOUR });
    const anonymous = await insert();

    const login = makeSession({ userId: user, authenticatedAt: NOW, lastSeenAt: NOW });
    const evict = limited(1, 'evict-oldest');
    expect(await store().insert(login, replacing(anonymous, evict))).toEqual({
      status: 'inserted',
      evicted: [existing.id],
    });
    await expectGone(store(), existing);
    await expectGone(store(), anonymous);
    expect(await store().listByUser(user, NOW)).toEqual([login]);
  });

  it('[SM-34] anonymous inserts are not limited', async () => {
    const anonymous = [await insert(), await insert()];
    const user = randomId();
    const signedIn = await insert({ userId: user });

    for (const policy of ['refuse', 'evict-oldest'] as const) {
      const next = makeSession();
      const options = { replaces: null, limit: limited(1, policy) };
      expect(await store().insert(next, options)).toEqual(INSERTED);
      anonymous.push(next);
    }
    for (const session of [...anonymous, signedIn]) {
      expect(await store().findById(session.id)).toEqual(session);
    }
  });
}

/** evict-oldest evicts the least recently used sessions, as many as needed. */
function registerEvictionCases({ store, insert }: ContractContext): void {
  it('[SM-34] evict-oldest deletes the least recently used live sessions (lastSeenAt, then createdAt, then id), tokens and all', async () => {
    const user = randomId();
    const oldest = await insert({ userId: user, lastSeenAt: NOW - 5 * HOUR });
    // Rotated without touching lastSeenAt, so that its retired token must go with it.
    const rotated = nextVersion(oldest, {
      tokenHash: randomTokenHash(),
      lastSeenAt: NOW - 5 * HOUR,
    });
    const retire = { tokenHash: oldest.tokenHash, graceUntil: NOW + MINUTE };
    expect(await store().update(rotated, { retire })).toBe(true);
    const seenAt = NOW - 4 * HOUR;
    const createdEarlier = await insert({
      userId: user,
      lastSeenAt: seenAt,
      createdAt: NOW - 7 * HOUR,
    });
    const createdLater = await insert({
      userId: user,
      lastSeenAt: seenAt,
      createdAt: NOW - 6 * HOUR,
    });
    // Ids that differ only in a leading digit sort alike under any collation.
    const suffix = randomId().slice(1);
    const tie = { userId: user, lastSeenAt: NOW - 3 * HOUR, createdAt: NOW - 6 * HOUR };
    const largerId = await insert({ ...tie, id: `2${suffix}` });
    const smallerId = await insert({ ...tie, id: `1${suffix}` });
    const recent = await insert({ userId: user, lastSeenAt: NOW - MINUTE });
    await insert({ userId: user, lastSeenAt: NOW - 9 * HOUR, idleExpiresAt: NOW - HOUR });
    const bystanders = [
      await insert({ userId: randomId(), lastSeenAt: NOW - 9 * HOUR }),
      await insert({ lastSeenAt: NOW - 9 * HOUR }),
    ];

    // Six live sessions and max 6: every insert evicts exactly one, in LRU order.
    const newcomers: StoredSession[] = [];
    for (const victim of [rotated, createdEarlier, createdLater, smallerId, largerId]) {
      const newcomer = makeSession({ userId: user, lastSeenAt: NOW });
      const options = { replaces: null, limit: limited(6, 'evict-oldest') };
      expect(await store().insert(newcomer, options)).toEqual({
        status: 'inserted',
        evicted: [victim.id],
      });
      await expectGone(store(), victim);
      newcomers.push(newcomer);
    }

    expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId([recent, ...newcomers]));
    for (const session of bystanders) {
      expect(await store().findById(session.id)).toEqual(session);
    }
  });

  it('[SM-34] evict-oldest evicts as many as needed and lists each of them', async () => {
    const user = randomId();
    const old = [
      await insert({ userId: user, lastSeenAt: NOW - 3 * HOUR }),
      await insert({ userId: user, lastSeenAt: NOW - 2 * HOUR }),
      await insert({ userId: user, lastSeenAt: NOW - HOUR }),
    ];
    const kept = await insert({ userId: user, lastSeenAt: NOW - MINUTE });

    const newcomer = makeSession({ userId: user, lastSeenAt: NOW });
    const options = { replaces: null, limit: limited(2, 'evict-oldest') };
    const result = await store().insert(newcomer, options);

    expect(result.status).toBe('inserted');
    expect(sorted(result.status === 'inserted' ? result.evicted : [])).toEqual(
      sorted(old.map((s) => s.id)),
    );
    for (const session of old) await expectGone(store(), session);
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId([kept, newcomer]));
  });
}

/** Both policies hold under parallel inserts. */
function registerParallelLimitCases({ store, insert }: ContractContext): void {
  it('[SM-34] refuse holds under 20 parallel inserts: exactly max go in', async () => {
    const user = randomId();
    const contenders = Array.from({ length: 20 }, () => makeSession({ userId: user }));

    const limit = limited(3, 'refuse');
    const results = await Promise.all(
      contenders.map((session) => store().insert(session, { replaces: null, limit })),
    );

    expect(results.filter((result) => result.status === 'inserted')).toEqual([
      INSERTED,
      INSERTED,
      INSERTED,
    ]);
    expect(results.filter((result) => result.status === 'limit-reached')).toHaveLength(17);
    const winners = contenders.filter((_, index) => results[index]?.status === 'inserted');
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(winners));
    for (const loser of contenders.filter((session) => !winners.includes(session))) {
      await expectGone(store(), loser);
    }
  });

  it('[SM-34] evict-oldest holds under 20 parallel inserts: exactly max are live at the end', async () => {
    const user = randomId();
    const earlier = [
      await insert({ userId: user, lastSeenAt: NOW - HOUR }),
      await insert({ userId: user, lastSeenAt: NOW - HOUR }),
    ];
    const contenders = Array.from({ length: 20 }, () =>
      makeSession({ userId: user, lastSeenAt: NOW }),
    );

    const limit = limited(3, 'evict-oldest');
    const results = await Promise.all(
      contenders.map((session) => store().insert(session, { replaces: null, limit })),
    );

    expect(results.map((result) => result.status)).toEqual(contenders.map(() => 'inserted'));
    const evicted = results.flatMap((result) =>
      result.status === 'inserted' ? result.evicted : [],
    );
    expect(new Set(evicted).size).toBe(evicted.length);
    const everyone = [...earlier, ...contenders];
    expect(sorted(evicted.filter((id) => !everyone.some((s) => s.id === id)))).toEqual([]);
    // The two earlier sessions were the least recently used of all, so they went first.
    expect(evicted).toEqual(expect.arrayContaining(earlier.map((s) => s.id)));
    const live = everyone.filter((session) => !evicted.includes(session.id));
    expect(live).toHaveLength(3);
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(live));
    for (const session of everyone.filter((s) => evicted.includes(s.id))) {
      await expectGone(store(), session);
    }
  });
}

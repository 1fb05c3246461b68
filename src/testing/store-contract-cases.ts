/**
 * The cases of the store conformance suite about ending sessions for good: replacements that
 * must not bring an ended session back (SM-31), the per-user session limit (SM-34) and
 * incident-response deletion by creation time (SM-30). Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { InsertResult, StoredSession } from '../core/store.js';
import {
  CONFLICT,
  FRESH,
  HOUR,
  INSERTED,
  LIMIT_REACHED,
  MINUTE,
  NOW,
  byId,
  deleteAllUntilQuiet,
  expectGone,
  limited,
  makeSession,
  nextVersion,
  randomId,
  randomTokenHash,
  regenerated,
  replacing,
  sorted,
  yieldMicrotasks,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** How long the cases that write a thousand sessions may take on a networked store. */
const BULK_TIMEOUT_MS = 60_000;

/** SM-31: a replacement (login, regenerate) never resurrects a session that was ended. */
export function describeReplacementCases({ store, insert, rotate }: ContractContext): void {
  describe('replacement of an ended or changed session (SM-31)', () => {
    it('[SM-31] insert replacing a stale version reports conflict and changes nothing', async () => {
      const user = randomId();
      const old = await insert({ userId: user });
      const written = nextVersion(old, { sealed: 'written concurrently' });
      expect(await store().update(written, { retire: null })).toBe(true);

      // Both an older and a newer version than the stored one are "not exactly that version".
      for (const version of [old.version, written.version + 1]) {
        const fresh = regenerated(old);
        const options = { replaces: { id: old.id, version }, limit: null };
        expect(await store().insert(fresh, options)).toEqual(CONFLICT);
        await expectGone(store(), fresh);
      }
      expect(await store().findById(old.id)).toEqual(written);
      expect(await store().findByTokenHash(written.tokenHash)).toEqual({
        session: written,
        retiredGraceUntil: null,
      });
      expect(await store().listByUser(user, NOW)).toEqual([written]);
    });

    it('[SM-31] insert replacing a logged-out or revoked session reports conflict and brings nothing back', async () => {
      const user = randomId();
      const loggedOut = await insert({ userId: user });
      const { rotated: revoked, retire } = await rotate(
        await insert({ userId: user }),
        NOW + MINUTE,
      );
      expect(await store().delete(loggedOut.id)).toBe(true);
      expect(await store().deleteByUser(user, { except: null })).toEqual([revoked.id]);

      for (const ended of [loggedOut, revoked]) {
        const fresh = regenerated(ended);
        expect(await store().insert(fresh, replacing(ended))).toEqual(CONFLICT);
        await expectGone(store(), fresh);
        await expectGone(store(), ended);
      }
      expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
      expect(await store().listByUser(user, NOW)).toEqual([]);
    });

    it('[SM-31] an insert that conflicts evicts nothing for the user limit', async () => {
      const user = randomId();
      const others = [await insert({ userId: user }), await insert({ userId: user })];
      const ended = await insert({ userId: user });
      expect(await store().delete(ended.id)).toBe(true);

      const fresh = regenerated(ended);
      expect(await store().insert(fresh, replacing(ended, limited(1, 'evict-oldest')))).toEqual(
        CONFLICT,
      );
      expect(byId(await store().listByUser(user, NOW))).toEqual(byId(others));
      await expectGone(store(), fresh);
    });

    it('[SM-31] deleteByUser racing 20 regenerations of the user’s sessions leaves the user no session', async () => {
      const user = randomId();
      const originals = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          insert({ userId: user, authenticatedAt: NOW - HOUR, createdAt: NOW - HOUR + index }),
        ),
      );
      const { rotated, retire } = await rotate(originals[0]!, NOW + MINUTE);
      const bystander = await insert({ userId: randomId() });

      // Each regeneration replaces the version it read, keeping the creation time; half start
      // just before the revocation, half just after, all in flight together with it.
      const regenerations = [rotated, ...originals.slice(1)].map((session) => ({
        session,
        fresh: regenerated(session),
      }));
      const regenerate = ({
        session,
        fresh,
      }: (typeof regenerations)[number]): Promise<InsertResult> =>
        store().insert(fresh, replacing(session));
      const before = regenerations.slice(0, 10).map(regenerate);
      const revocation = store().deleteByUser(user, { except: null });
      const after = regenerations.slice(10).map(regenerate);
      const [deleted, results] = await Promise.all([
        revocation,
        Promise.all([...before, ...after]),
      ]);

      expect(await store().listByUser(user, NOW)).toEqual([]);
      for (const [index, { session, fresh }] of regenerations.entries()) {
        const result = results[index];
        expect([INSERTED, CONFLICT]).toContainEqual(result);
        await expectGone(store(), session);
        await expectGone(store(), fresh);
        // A regeneration that went in first was revoked with the rest; one that conflicted
        // left its original to the revocation.
        expect(deleted).toContain(result?.status === 'inserted' ? fresh.id : session.id);
      }
      expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
      const known = new Set(regenerations.flatMap(({ session, fresh }) => [session.id, fresh.id]));
      expect(deleted.filter((id) => !known.has(id))).toEqual([]);
      expect(new Set(deleted).size).toBe(deleted.length);
      expect(await store().findById(bystander.id)).toEqual(bystander);
    });

    it('[SM-31] delete racing the regeneration of the same session: one wins, nothing comes back', async () => {
      const user = randomId();
      const sessions = await Promise.all(
        Array.from({ length: 20 }, () => insert({ userId: user, authenticatedAt: NOW - HOUR })),
      );

      // Half the races start with the regeneration, half with the logout.
      const races = sessions.map((session, index) => {
        const fresh = regenerated(session);
        const regenerate = (): Promise<InsertResult> => store().insert(fresh, replacing(session));
        const logout = (): Promise<boolean> => store().delete(session.id);
        if (index % 2 === 0) {
          const regeneration = regenerate();
          return { session, fresh, regeneration, deletion: logout() };
        }
        const deletion = logout();
        return { session, fresh, regeneration: regenerate(), deletion };
      });

      const survivors: StoredSession[] = [];
      for (const { session, fresh, regeneration, deletion } of races) {
        const [result, existed] = await Promise.all([regeneration, deletion]);
        await expectGone(store(), session);
        if (existed) {
          // The logout came first: the regeneration must not bring the session back.
          expect(result).toEqual(CONFLICT);
          await expectGone(store(), fresh);
        } else {
          // The regeneration came first: the logout found nothing under the old id.
          expect(result).toEqual(INSERTED);
          expect(await store().findByTokenHash(fresh.tokenHash)).toEqual({
            session: fresh,
            retiredGraceUntil: null,
          });
          survivors.push(fresh);
        }
      }
      expect(byId(await store().listByUser(user, NOW))).toEqual(byId(survivors));
    });
  });
}

/** SM-34: at most `max` live sessions per user, enforced in the insert itself. */
export function describeUserLimitCases({ store, insert }: ContractContext): void {
  describe('user session limit (SM-34)', () => {
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

      expect(byId(await store().listByUser(user, NOW))).toEqual(
        byId([first, second, sessions[2]!]),
      );
    });

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
  });
}

/** SM-30: incident response deletes every session created before a cut-off, in batches. */
export function describeDeleteAllCases({ store, insert, rotate }: ContractContext): void {
  const cutoff = NOW - HOUR;

  describe('deleteAll (SM-30)', () => {
    it('[SM-30] deletes the sessions created before the cut-off, every user’s and anonymous, and only those', async () => {
      const alice = randomId();
      const bob = randomId();
      const old = [
        await insert({ userId: alice, createdAt: cutoff - 1 }),
        await insert({ userId: bob, createdAt: cutoff - HOUR }),
        await insert({ createdAt: cutoff - 1 }),
        await insert({ userId: alice, createdAt: cutoff - 2 * HOUR, idleExpiresAt: NOW - MINUTE }),
      ];
      const first = await rotate(
        await insert({ userId: bob, createdAt: cutoff - 1 }),
        NOW + MINUTE,
      );
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
  });
}

/**
 * The cases of the store conformance suite about replacements (login, regenerate) that must not
 * bring an ended session back (SM-31). Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { InsertResult, StoredSession } from '../core/store.js';
import {
  CONFLICT,
  HOUR,
  INSERTED,
  MINUTE,
  NOW,
  byId,
  expectGone,
  limited,
  nextVersion,
  randomId,
  regenerated,
  replacing,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** SM-31: a replacement (login, regenerate) never resurrects a session that was ended. */
export function describeReplacementCases(context: ContractContext): void {
  describe('replacement of an ended or changed session (SM-31)', () => {
    registerEndedReplacementCases(context);
    registerRevocationRaceCase(context);
    registerLogoutRaceCase(context);
  });
}

/** Replacing a stale, logged-out or revoked session reports conflict and changes nothing. */
function registerEndedReplacementCases({ store, insert, rotate }: ContractContext): void {
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
    const { rotated: revoked, retire } = await rotate(await insert({ userId: user }), NOW + MINUTE);
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
}

/** deleteByUser racing regenerations of every session of the user. */
function registerRevocationRaceCase({ store, insert, rotate }: ContractContext): void {
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
    const [deleted, results] = await Promise.all([revocation, Promise.all([...before, ...after])]);

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
}

/** delete racing the regeneration of the same session. */
function registerLogoutRaceCase({ store, insert }: ContractContext): void {
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
}

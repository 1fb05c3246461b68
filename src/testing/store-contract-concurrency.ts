/**
 * The cases of the store conformance suite about parallel calls on one store. Registered by
 * `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import type { InsertResult } from '../core/store.js';
import {
  INSERTED,
  MINUTE,
  NOW,
  byId,
  makeSession,
  nextVersion,
  randomId,
  randomTokenHash,
  replacing,
  sorted,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** Parallel calls: compare-and-set holds, and revoke-all leaves no survivor (SM-27). */
export function describeConcurrencyCases(context: ContractContext): void {
  describe('concurrency', () => {
    registerParallelWriteCases(context);
    registerRevokeAllRaceCase(context);
  });
}

/** Parallel updates and a large deleteByUser. */
function registerParallelWriteCases({ store, insert }: ContractContext): void {
  it('of 20 parallel updates from the same version, exactly one wins', async () => {
    const session = await insert();
    const contenders = Array.from({ length: 20 }, (_, index) =>
      nextVersion(session, { sealed: `contender-${index}`, tokenHash: randomTokenHash() }),
    );

    const results = await Promise.all(
      contenders.map((contender) => store().update(contender, { retire: null })),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = contenders[results.indexOf(true)];
    expect(await store().findById(session.id)).toEqual(winner);
    for (const loser of contenders.filter((contender) => contender !== winner)) {
      expect(await store().findByTokenHash(loser.tokenHash)).toBeNull();
    }
  });

  it('parallel updates to different sessions all succeed', async () => {
    const sessions = await Promise.all(Array.from({ length: 20 }, () => insert()));
    const updates = sessions.map((session) => nextVersion(session, { sealed: 'updated' }));

    const results = await Promise.all(
      updates.map((update) => store().update(update, { retire: null })),
    );

    expect(results).toEqual(updates.map(() => true));
    for (const update of updates) expect(await store().findById(update.id)).toEqual(update);
  });

  it('deleteByUser removes all of 200 sessions of one user', async () => {
    const user = randomId();
    const sessions = await Promise.all(Array.from({ length: 200 }, () => insert({ userId: user })));
    const bystander = await insert({ userId: randomId() });

    expect(await store().listByUser(user, NOW)).toHaveLength(200);
    const deleted = await store().deleteByUser(user, { except: null });

    expect(sorted(deleted)).toEqual(sorted(sessions.map((s) => s.id)));
    expect(await store().listByUser(user, NOW)).toEqual([]);
    expect(await store().findById(bystander.id)).toEqual(bystander);
  });
}

/** deleteByUser racing logins that replace anonymous sessions. */
function registerRevokeAllRaceCase({ store, insert, rotate }: ContractContext): void {
  it('[SM-27] revoke-all while logins happen leaves no survivor', async () => {
    const user = randomId();
    const earlier = await Promise.all(Array.from({ length: 20 }, () => insert({ userId: user })));
    const { retire } = await rotate(earlier[0]!, NOW + MINUTE);
    const anonymous = await Promise.all(Array.from({ length: 20 }, () => insert()));

    // Logins (each replacing an anonymous session) started just before, and just after,
    // the revocation, and a devices-list read, all in flight together with it.
    const logins = anonymous.map((previous) => ({
      previous,
      session: makeSession({ userId: user, authenticatedAt: NOW }),
    }));
    const login = ({ previous, session }: (typeof logins)[number]): Promise<InsertResult> =>
      store().insert(session, replacing(previous));
    const before = logins.slice(0, 10).map(login);
    const revocation = store().deleteByUser(user, { except: null });
    const after = logins.slice(10).map(login);
    const listing = store().listByUser(user, NOW);
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
      expect(await store().findById(session.id)).toBeNull();
      expect(await store().findByTokenHash(session.tokenHash)).toBeNull();
    }
    expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
    // Only this user's sessions were deleted, and none of them can still be found.
    const known = new Set([...earlier, ...logins.map((l) => l.session)].map((s) => s.id));
    expect(deleted.filter((id) => !known.has(id))).toEqual([]);
    expect(new Set(deleted).size).toBe(deleted.length);
    for (const id of deleted) expect(await store().findById(id)).toBeNull();
    // A racing login either lost (deleted, unreachable) or won: then it is intact, listed
    // and revocable. Every replaced anonymous session is gone either way.
    const survivors = logins.map((l) => l.session).filter((s) => !deleted.includes(s.id));
    for (const { previous, session } of logins) {
      expect(await store().findById(previous.id)).toBeNull();
      const found = await store().findByTokenHash(session.tokenHash);
      if (deleted.includes(session.id)) expect(found).toBeNull();
      else expect(found).toEqual({ session, retiredGraceUntil: null });
    }
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(survivors));
    const second = await store().deleteByUser(user, { except: null });
    expect(sorted(second)).toEqual(sorted(survivors.map((s) => s.id)));
    expect(await store().listByUser(user, NOW)).toEqual([]);
  });
}

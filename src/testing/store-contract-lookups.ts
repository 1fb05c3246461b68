/**
 * The cases of the store conformance suite about `insert`, `findByTokenHash` and `findById`.
 * Registered by `describeStoreContract`.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CONFLICT,
  FRESH,
  HOUR,
  INSERTED,
  MINUTE,
  NOW,
  SECOND,
  byId,
  makeSession,
  randomId,
  randomTokenHash,
  replacing,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** Insert, then find by token hash and by id: what goes in comes out, and nothing else. */
export function describeLookupCases(context: ContractContext): void {
  describe('insert and find', () => {
    registerFindCases(context);
    registerInsertCases(context);
  });
}

/** Lookups by token hash and by id, and the copies they hand out. */
function registerFindCases({ store, insert }: ContractContext): void {
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
      expect(await store().findByTokenHash(session.tokenHash)).toEqual({
        session,
        retiredGraceUntil: null,
      });
      expect(await store().findById(session.id)).toEqual(session);
    }
  });

  it('returns null for an unknown token hash or session id', async () => {
    await insert();
    expect(await store().findByTokenHash(randomTokenHash())).toBeNull();
    expect(await store().findById(randomId())).toBeNull();
  });

  it('keys are hashes: the store holds exactly the token hash it was given', async () => {
    const session = await insert();
    expect((await store().findById(session.id))?.tokenHash).toBe(session.tokenHash);
    expect((await store().findByTokenHash(session.tokenHash))?.session.tokenHash).toBe(
      session.tokenHash,
    );
  });

  it('keeps a copy: changing the inserted or returned object changes nothing stored', async () => {
    const original = makeSession({ userId: randomId() });
    const handedIn = { ...original };
    await store().insert(handedIn, FRESH);
    (handedIn as { sealed: string }).sealed = 'changed by the caller';
    (handedIn as { version: number }).version = 99;

    const returned = await store().findById(original.id);
    expect(returned).toEqual(original);
    try {
      (returned as { sealed: string }).sealed = 'changed by a reader';
    } catch {
      // a store may hand out frozen records
    }
    expect(await store().findById(original.id)).toEqual(original);
    expect((await store().findByTokenHash(original.tokenHash))?.session).toEqual(original);
  });
}

/** Inserts that replace a session, and inserts that must change nothing. */
function registerInsertCases({ store, insert, rotate }: ContractContext): void {
  it('[SM-16] insert with replaces deletes the old session and its retired tokens', async () => {
    const old = await insert({ userId: randomId() });
    const { rotated, retire } = await rotate(old, NOW + 30 * SECOND);

    const fresh = makeSession({ userId: old.userId });
    expect(await store().insert(fresh, replacing(rotated))).toEqual(INSERTED);

    expect(await store().findById(old.id)).toBeNull();
    expect(await store().findByTokenHash(rotated.tokenHash)).toBeNull();
    expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
    expect(await store().findById(fresh.id)).toEqual(fresh);
    expect(await store().findByTokenHash(fresh.tokenHash)).toEqual({
      session: fresh,
      retiredGraceUntil: null,
    });
  });

  it('[SM-31] insert replacing a session that never existed reports conflict and inserts nothing', async () => {
    const fresh = makeSession();
    const options = { replaces: { id: randomId(), version: 1 }, limit: null };
    expect(await store().insert(fresh, options)).toEqual(CONFLICT);
    expect(await store().findById(fresh.id)).toBeNull();
    expect(await store().findByTokenHash(fresh.tokenHash)).toBeNull();
  });

  it('insert rejects an id already in use, and then deletes nothing (one atomic step)', async () => {
    const existing = await insert();
    const replaced = await insert();
    const clash = makeSession({ id: existing.id });

    await expect(store().insert(clash, replacing(replaced))).rejects.toThrow();

    expect(await store().findById(existing.id)).toEqual(existing);
    expect(await store().findById(replaced.id)).toEqual(replaced);
    expect(await store().findByTokenHash(clash.tokenHash)).toBeNull();
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
    await expect(store().insert(clash, { replaces: null, limit })).rejects.toThrow();
    await expect(store().insert(clash, replacing(mine[0]!, limit))).rejects.toThrow();

    expect(await store().findById(clash.id)).toBeNull();
    expect(byId(await store().listByUser(user, NOW))).toEqual(byId(mine));
    expect(await store().findByTokenHash(holder.tokenHash)).toEqual({
      session: holder,
      retiredGraceUntil: null,
    });
  });
}

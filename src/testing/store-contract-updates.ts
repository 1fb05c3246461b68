/**
 * The cases of the store conformance suite about the writes to one session: compare-and-set
 * `update`, the tokens a rotation retires, and `delete`. Registered by `describeStoreContract`.
 *
 * @module
 */
import { describe, expect, it } from 'vitest';
import {
  MINUTE,
  NOW,
  SECOND,
  makeSession,
  nextVersion,
  randomId,
  randomTokenHash,
} from './store-contract-support.js';
import type { ContractContext } from './store-contract-support.js';

/** Compare-and-set updates, and the tokens a rotation retires (SM-20). */
export function describeUpdateCases(context: ContractContext): void {
  describe('update', () => {
    registerCompareAndSetCases(context);
    registerRetireCases(context);
  });
}

/** Deleting one session takes its retired tokens and nothing else. */
export function describeDeleteCases({ store, insert, rotate }: ContractContext): void {
  describe('delete', () => {
    it('returns whether the session existed', async () => {
      const session = await insert();
      expect(await store().delete(session.id)).toBe(true);
      expect(await store().findById(session.id)).toBeNull();
      expect(await store().findByTokenHash(session.tokenHash)).toBeNull();
      expect(await store().delete(session.id)).toBe(false);
      expect(await store().delete(randomId())).toBe(false);
    });

    it('takes the retired tokens of the session with it', async () => {
      const session = await insert();
      const { rotated, retire } = await rotate(session, NOW + 30 * SECOND);
      const { retire: secondRetire } = await rotate(rotated, NOW + 60 * SECOND);

      expect(await store().delete(session.id)).toBe(true);
      expect(await store().findByTokenHash(retire.tokenHash)).toBeNull();
      expect(await store().findByTokenHash(secondRetire.tokenHash)).toBeNull();
    });

    it('leaves other sessions alone', async () => {
      const doomed = await insert();
      const other = await insert();
      await store().delete(doomed.id);
      expect(await store().findById(other.id)).toEqual(other);
    });
  });
}

/** An update succeeds only from the stored version, and never recreates a session. */
function registerCompareAndSetCases({ store, insert }: ContractContext): void {
  it('is compare-and-set: succeeds with version + 1, fails for a stale version', async () => {
    const session = await insert();
    const second = nextVersion(session, { lastSeenAt: NOW + MINUTE, sealed: 'second' });
    expect(await store().update(second, { retire: null })).toBe(true);
    expect(await store().findById(session.id)).toEqual(second);
    expect(await store().findByTokenHash(session.tokenHash)).toEqual({
      session: second,
      retiredGraceUntil: null,
    });

    const stale = nextVersion(session, { sealed: 'stale' });
    expect(await store().update(stale, { retire: null })).toBe(false);
    const skipping = { ...nextVersion(second), version: second.version + 2, sealed: 'skip' };
    expect(await store().update(skipping, { retire: null })).toBe(false);
    expect(await store().findById(session.id)).toEqual(second);
  });

  it('[SM-31] returns false for a deleted session and does not recreate it', async () => {
    const session = await insert({ userId: randomId() });
    expect(await store().delete(session.id)).toBe(true);

    const late = nextVersion(session, { tokenHash: randomTokenHash() });
    expect(
      await store().update(late, {
        retire: { tokenHash: session.tokenHash, graceUntil: NOW + MINUTE },
      }),
    ).toBe(false);

    expect(await store().findById(session.id)).toBeNull();
    expect(await store().findByTokenHash(session.tokenHash)).toBeNull();
    expect(await store().findByTokenHash(late.tokenHash)).toBeNull();
    expect(await store().listByUser(session.userId!, NOW)).toEqual([]);
  });

  it('returns false for a session that never existed', async () => {
    const ghost = nextVersion(makeSession());
    expect(await store().update(ghost, { retire: null })).toBe(false);
    expect(await store().findById(ghost.id)).toBeNull();
  });
}

/** A rotation keeps the retired token findable, with its grace window. */
function registerRetireCases({ store, insert, rotate }: ContractContext): void {
  it('with retire keeps the old token findable with its grace window and the new one current', async () => {
    const session = await insert();
    const { rotated, retire } = await rotate(session, NOW + 30 * SECOND);

    expect(await store().findByTokenHash(rotated.tokenHash)).toEqual({
      session: rotated,
      retiredGraceUntil: null,
    });
    expect(await store().findByTokenHash(retire.tokenHash)).toEqual({
      session: rotated,
      retiredGraceUntil: NOW + 30 * SECOND,
    });
    expect(await store().findById(session.id)).toEqual(rotated);

    const { rotated: third } = await rotate(rotated, NOW + 90 * SECOND);
    expect(await store().findByTokenHash(session.tokenHash)).toEqual({
      session: third,
      retiredGraceUntil: NOW + 30 * SECOND,
    });
    expect(await store().findByTokenHash(rotated.tokenHash)).toEqual({
      session: third,
      retiredGraceUntil: NOW + 90 * SECOND,
    });
    expect((await store().findByTokenHash(third.tokenHash))?.retiredGraceUntil).toBeNull();
  });

  it('a failed update retires nothing', async () => {
    const session = await insert();
    const stale = { ...nextVersion(session, { tokenHash: randomTokenHash() }), version: 7 };
    const retire = { tokenHash: session.tokenHash, graceUntil: NOW + MINUTE };
    expect(await store().update(stale, { retire })).toBe(false);

    expect(await store().findByTokenHash(session.tokenHash)).toEqual({
      session,
      retiredGraceUntil: null,
    });
    expect(await store().findByTokenHash(stale.tokenHash)).toBeNull();
  });

  it('[SM-20] keeps a retired token after its grace window, until the session ends', async () => {
    const session = await insert();
    const { rotated, retire } = await rotate(session, NOW - MINUTE);
    await store().purgeExpired(NOW, 100);

    expect(await store().findByTokenHash(retire.tokenHash)).toEqual({
      session: rotated,
      retiredGraceUntil: NOW - MINUTE,
    });
  });
}

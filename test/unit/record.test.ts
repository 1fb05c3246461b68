import { describe, expect, it } from 'vitest';
import {
  dueWrites,
  expiryReason,
  idleDeadline,
  newRecord,
  nextVersion,
  rotated,
  rotationAfterWrite,
  standingOfRetired,
  touched,
  withinConfiguredDeadlines,
  type RecordRules,
} from '../../src/core/record.js';
import type { StoredSession } from '../../src/core/store.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2030, 0, 1);

const rules: RecordRules = {
  idleTimeoutMs: 30 * MINUTE,
  absoluteTimeoutMs: 12 * HOUR,
  touchIntervalMs: MINUTE,
  rotationIntervalMs: 15 * MINUTE,
  rotationGraceMs: 30 * SECOND,
};

function record(overrides: Partial<StoredSession> = {}): StoredSession {
  const fields = newRecord(
    {
      id: 'id-1',
      tokenHash: 'hash-1',
      userId: 'user-1',
      createdAt: T0,
      authenticatedAt: T0,
      absoluteExpiresAt: T0 + rules.absoluteTimeoutMs,
    },
    T0,
    rules,
  );
  return { ...fields, version: 1, sealed: 'sealed', ...overrides };
}

const FRESH_TOKEN = { sealedWithActiveKey: true, successorSeen: true };

describe('record rules (pure, no store)', () => {
  it('[SM-21] a new record is seen and rotated now, idle deadline one idle timeout away', () => {
    const r = record();
    expect(r.lastSeenAt).toBe(T0);
    expect(r.rotatedAt).toBe(T0);
    expect(r.idleExpiresAt).toBe(T0 + rules.idleTimeoutMs);
  });

  it('[SM-21] [SM-22] expires idle at the idle deadline and absolute at the absolute one, absolute first', () => {
    const r = record();
    expect(expiryReason(r, r.idleExpiresAt - 1)).toBeNull();
    expect(expiryReason(r, r.idleExpiresAt)).toBe('idle');
    expect(expiryReason({ ...r, idleExpiresAt: r.absoluteExpiresAt }, r.absoluteExpiresAt)).toBe(
      'absolute',
    );
    expect(expiryReason(r, r.absoluteExpiresAt + HOUR)).toBe('absolute');
  });

  it('[SM-23] activity never moves the idle deadline past the absolute deadline', () => {
    const r = record();
    const late = r.absoluteExpiresAt - 5 * MINUTE;
    expect(idleDeadline(r, late, rules)).toBe(r.absoluteExpiresAt);
    expect(touched(r, late, rules).idleExpiresAt).toBe(r.absoluteExpiresAt);
  });

  it('[SM-21] a touch moves last seen and the idle deadline, nothing else', () => {
    const r = record();
    const t = touched(r, T0 + 10 * MINUTE, rules);
    expect(t).toEqual({
      ...r,
      lastSeenAt: T0 + 10 * MINUTE,
      idleExpiresAt: T0 + 40 * MINUTE,
    });
  });

  it('[SM-20] a rotation is a touch with a new token hash and rotation time', () => {
    const r = record();
    const t = rotated(r, 'hash-2', T0 + 20 * MINUTE, rules);
    expect(t.tokenHash).toBe('hash-2');
    expect(t.rotatedAt).toBe(T0 + 20 * MINUTE);
    expect(t.lastSeenAt).toBe(T0 + 20 * MINUTE);
    expect(t.createdAt).toBe(r.createdAt);
  });

  it('[SM-31] the next version counts up by one and carries the new ciphertext', () => {
    const r = record({ version: 7 });
    expect(nextVersion(r, touched(r, T0 + MINUTE, rules), 'new').version).toBe(8);
    expect(nextVersion(r, r, 'new').sealed).toBe('new');
  });

  it('[SM-51] a record whose deadlines reach past the configured timeouts is refused', () => {
    const r = record();
    expect(withinConfiguredDeadlines(r, rules)).toBe(true);
    expect(
      withinConfiguredDeadlines({ ...r, absoluteExpiresAt: r.absoluteExpiresAt + 1 }, rules),
    ).toBe(false);
    expect(withinConfiguredDeadlines({ ...r, idleExpiresAt: r.idleExpiresAt + 1 }, rules)).toBe(
      false,
    );
  });

  describe('due writes', () => {
    it('[SM-21] nothing within the touch interval, a touch after it', () => {
      const r = record();
      expect(dueWrites(r, 'current', FRESH_TOKEN, T0 + MINUTE - 1, rules)).toBeNull();
      expect(dueWrites(r, 'current', FRESH_TOKEN, T0 + MINUTE, rules)).toEqual({ rotate: false });
    });

    it('[SM-20] a rotation once the rotation interval has passed, and after a lost response', () => {
      const r = record();
      expect(dueWrites(r, 'current', FRESH_TOKEN, T0 + 15 * MINUTE, rules)).toEqual({
        rotate: true,
      });
      expect(dueWrites(r, 'lost-response', FRESH_TOKEN, T0 + 1, rules)).toEqual({ rotate: true });
    });

    it('[SM-20] nothing at all within a grace window, even when a rotation would be due', () => {
      expect(dueWrites(record(), 'grace', FRESH_TOKEN, T0 + HOUR, rules)).toBeNull();
    });

    it('[SM-51] a record sealed under an older key, or a token not yet seen, is written at once', () => {
      const r = record();
      const olderKey = { sealedWithActiveKey: false, successorSeen: true };
      const unseen = { sealedWithActiveKey: true, successorSeen: false };
      expect(dueWrites(r, 'current', olderKey, T0 + 1, rules)).toEqual({ rotate: false });
      expect(dueWrites(r, 'current', unseen, T0 + 1, rules)).toEqual({ rotate: false });
    });
  });

  describe('theft rule', () => {
    const rotatedAt = T0 + 20 * MINUTE;
    const session = { rotatedAt };
    const state = { previousTokenHash: 'old', successorSeen: true };

    it('[SM-20] the previous token within the grace window, measured from arrival, is honoured', () => {
      expect(
        standingOfRetired('old', session, state, rotatedAt + rules.rotationGraceMs, rules),
      ).toBe('grace');
    });

    it('[SM-20] the previous token after the grace window, once its successor was seen, is theft', () => {
      expect(
        standingOfRetired('old', session, state, rotatedAt + rules.rotationGraceMs + 1, rules),
      ).toBe('theft');
    });

    it('[SM-20] the previous token after the grace window while its successor was never seen is a lost response', () => {
      const unseen = { ...state, successorSeen: false };
      expect(standingOfRetired('old', session, unseen, rotatedAt + HOUR, rules)).toBe(
        'lost-response',
      );
    });

    it('[SM-20] any older retired token is theft, even within the grace window', () => {
      expect(standingOfRetired('older', session, state, rotatedAt, rules)).toBe('theft');
    });
  });

  describe('rotation state after a write', () => {
    const session = { tokenHash: 'current' };
    const state = { previousTokenHash: 'previous', successorSeen: false };

    it('[SM-20] a touch marks the current token seen and keeps the previous hash', () => {
      expect(rotationAfterWrite(session, state, 'current', false)).toEqual({
        previousTokenHash: 'previous',
        successorSeen: true,
      });
    });

    it('[SM-20] a rotation retires the presented token behind an unseen successor', () => {
      expect(rotationAfterWrite(session, state, 'current', true)).toEqual({
        previousTokenHash: 'current',
        successorSeen: false,
      });
    });

    it('[SM-20] after a lost response the previous token stays the one honoured', () => {
      expect(rotationAfterWrite(session, state, 'lost-response', true)).toEqual({
        previousTokenHash: 'previous',
        successorSeen: false,
      });
    });
  });
});

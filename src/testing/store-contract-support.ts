/**
 * Records, constants and helpers shared by the cases of the store conformance suite
 * (`describeStoreContract` in `store-contract.ts`, its cases in the `store-contract-*.ts` files
 * named for what they test). Internal to `strongroom/testing`.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type {
  InsertOptions,
  InsertResult,
  RetiredToken,
  SessionStore,
  StoredSession,
  UserSessionLimit,
} from '../core/store.js';

/**
 * Far in the future, so that a backend with native TTLs, which counts from the real clock,
 * never drops a record during a test; "expired" records are expired relative to this instant.
 */
export const NOW = Date.UTC(2100, 0, 1);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const OUTAGE_CALL_TIMEOUT_MS = 10_000;
export const RECOVERY_TIMEOUT_MS = 15_000;
/** A runaway `deleteAll` loop fails the test instead of hanging it. */
const MAX_DELETE_ALL_CALLS = 10_000;

/** A plain insert: no session replaced, no user limit. */
export const FRESH: InsertOptions = Object.freeze({ replaces: null, limit: null });
export const INSERTED: InsertResult = Object.freeze({ status: 'inserted', evicted: [] });
export const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });
export const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

/** What the cases of one store's run share: the store of the running test and two shortcuts. */
export interface ContractContext {
  /** The store of the running test (a new one for every test). */
  readonly store: () => SessionStore;
  /** Inserts a new session built from `overrides` with {@link FRESH}, checking it went in. */
  readonly insert: (overrides?: Partial<StoredSession>) => Promise<StoredSession>;
  /** Rotates the token of `session` (lastSeenAt becomes {@link NOW}), retiring the old one. */
  readonly rotate: (
    session: StoredSession,
    graceUntil: number,
  ) => Promise<{ rotated: StoredSession; retire: RetiredToken }>;
}

/** How the suite takes the backend of a store down and brings it back (the setup's methods). */
export interface Outage {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * `it`, registered only where the case `applies`. Cases that do not apply to a store are not
 * registered at all (rather than skipped), so that a skip in CI always means something is
 * missing.
 */
export function itIf(
  applies: boolean,
): (title: string, test: () => Promise<void>, timeout?: number) => void {
  return (title, test, timeout) => {
    if (applies) it(title, test, timeout);
  };
}

export function randomId(): string {
  return randomBytes(16).toString('base64url');
}

export function randomTokenHash(): string {
  return createHash('sha256').update(randomBytes(32)).digest('base64url');
}

export function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomId(),
    tokenHash: randomTokenHash(),
    userId: null,
    createdAt: NOW - MINUTE,
    authenticatedAt: null,
    lastSeenAt: NOW - MINUTE,
    idleExpiresAt: NOW + 30 * MINUTE,
    absoluteExpiresAt: NOW + 12 * HOUR,
    rotatedAt: NOW - MINUTE,
    version: 1,
    sealed: `v1.k1.${randomBytes(48).toString('base64url')}`,
    ...overrides,
  };
}

export function nextVersion(
  session: StoredSession,
  changes: Partial<StoredSession> = {},
): StoredSession {
  return { ...session, lastSeenAt: NOW, version: session.version + 1, ...changes };
}

/**
 * The session `regenerate()` makes of `session`: a new id and token for the same user, keeping
 * the creation time (so an incident cut-off that covered the old session covers this one).
 */
export function regenerated(session: StoredSession): StoredSession {
  return makeSession({
    userId: session.userId,
    createdAt: session.createdAt,
    authenticatedAt: session.authenticatedAt,
  });
}

/** Insert options replacing `session` at the version the caller holds. */
export function replacing(
  session: StoredSession,
  limit: UserSessionLimit | null = null,
): InsertOptions {
  return { replaces: { id: session.id, version: session.version }, limit };
}

/** A user session limit evaluated at {@link NOW}. */
export function limited(max: number, policy: UserSessionLimit['policy']): UserSessionLimit {
  return { max, policy, now: NOW };
}

export function sorted(ids: readonly string[]): string[] {
  return [...ids].sort();
}

export function byId(sessions: readonly StoredSession[]): StoredSession[] {
  return [...sessions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Checks that `session` can be found neither by its id nor by its current token hash. */
export async function expectGone(store: SessionStore, session: StoredSession): Promise<void> {
  expect(await store.findById(session.id), `session ${session.id}`).toBeNull();
  expect(await store.findByTokenHash(session.tokenHash), `token of ${session.id}`).toBeNull();
}

/** Yields `count` times to the microtask queue, to spread racing calls over another's steps. */
export async function yieldMicrotasks(count: number): Promise<void> {
  for (let index = 0; index < count; index++) await Promise.resolve();
}

/**
 * Calls `deleteAll` the way the session manager does (SM-30): pass after pass, each from a
 * null cursor until a null cursor comes back, until a whole pass deletes nothing. Checks that
 * no call deletes more than `limit`, and returns every id deleted.
 */
export async function deleteAllUntilQuiet(
  store: SessionStore,
  { createdBefore, limit }: { readonly createdBefore: number; readonly limit: number },
): Promise<{ deleted: string[]; calls: number }> {
  const deleted: string[] = [];
  let calls = 0;
  for (;;) {
    let deletedInPass = 0;
    let cursor: string | null = null;
    do {
      if (++calls > MAX_DELETE_ALL_CALLS) {
        throw new Error(`deleteAll still deleted sessions after ${MAX_DELETE_ALL_CALLS} calls`);
      }
      const result = await store.deleteAll({ createdBefore, limit, cursor });
      expect(result.deleted.length, 'sessions deleted by one call').toBeLessThanOrEqual(limit);
      deleted.push(...result.deleted);
      deletedInPass += result.deleted.length;
      cursor = result.cursor;
    } while (cursor !== null);
    if (deletedInPass === 0) return { deleted, calls };
  }
}

/** Whether the call threw synchronously, rejected, resolved, or did not settle in time. */
export async function settle(
  call: () => Promise<unknown>,
): Promise<'threw' | 'rejected' | 'resolved' | 'timed out'> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch {
    return 'threw';
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), OUTAGE_CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      promise.then(
        () => 'resolved' as const,
        () => 'rejected' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Retries `call` until it resolves; a reconnecting client may need a moment. */
export async function eventually(call: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  for (;;) {
    try {
      await call();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

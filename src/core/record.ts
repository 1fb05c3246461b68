import type { StoredSession } from './store.js';

/**
 * The pure rules of a session record: when it expires, how activity, rotation and new data
 * change it, and when a request has to write. No store, no crypto, no clock of their own: the
 * load pipeline and `Session` call them with `now`, and they are unit-tested alone.
 */

/** A record without its ciphertext and version: what the associated data of the ciphertext binds. */
export type RecordFields = Omit<StoredSession, 'sealed' | 'version'>;

/** The configured durations the rules depend on, in milliseconds. */
export interface RecordRules {
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly touchIntervalMs: number;
  readonly rotationIntervalMs: number;
  readonly rotationGraceMs: number;
}

/** What a brand-new record needs from its caller; the rest follows from the rules. */
export interface NewRecordInput {
  readonly id: string;
  readonly tokenHash: string;
  readonly userId: string | null;
  readonly createdAt: number;
  readonly authenticatedAt: number | null;
  readonly absoluteExpiresAt: number;
}

/**
 * How a live token relates to its session: the current token, the previous one within its
 * grace window, or the previous one after it whose successor was never presented (the
 * response that carried it was lost, so the session rotates again).
 */
export type TokenStanding = 'current' | 'grace' | 'lost-response';

/** What the theft rule needs to know of the sealed payload. */
export interface RotationState {
  /** The hash of the token the last rotation replaced, null before the first rotation. */
  readonly previousTokenHash: string | null;
  /** Whether the current token has been presented since it was issued. */
  readonly successorSeen: boolean;
}

/** Which deadline has passed, if any (SM-21, SM-22). */
export function expiryReason(
  session: Pick<StoredSession, 'idleExpiresAt' | 'absoluteExpiresAt'>,
  now: number,
): 'idle' | 'absolute' | null {
  if (now >= session.absoluteExpiresAt) return 'absolute';
  if (now >= session.idleExpiresAt) return 'idle';
  return null;
}

/** The absolute deadline of a session created, or signed in, at `now`. */
export function absoluteDeadline(now: number, rules: RecordRules): number {
  return now + rules.absoluteTimeoutMs;
}

/** The idle deadline after activity at `now`, never past the absolute one (SM-23). */
export function idleDeadline(
  session: Pick<StoredSession, 'absoluteExpiresAt'>,
  now: number,
  rules: RecordRules,
): number {
  return Math.min(now + rules.idleTimeoutMs, session.absoluteExpiresAt);
}

/**
 * A record may not outlive the configured timeouts: a deadline past them was written by
 * someone other than this library, or under a longer configuration that no longer applies.
 */
export function withinConfiguredDeadlines(session: RecordFields, rules: RecordRules): boolean {
  return (
    session.absoluteExpiresAt - session.createdAt <= rules.absoluteTimeoutMs &&
    session.idleExpiresAt - session.lastSeenAt <= rules.idleTimeoutMs
  );
}

/** The fields of a brand-new record, seen and rotated at `now`. */
export function newRecord(input: NewRecordInput, now: number, rules: RecordRules): RecordFields {
  return {
    ...input,
    lastSeenAt: now,
    idleExpiresAt: idleDeadline(input, now, rules),
    rotatedAt: now,
  };
}

/** Activity at `now`: last seen, and the idle deadline moved on. */
export function touched(record: RecordFields, now: number, rules: RecordRules): RecordFields {
  return { ...record, lastSeenAt: now, idleExpiresAt: idleDeadline(record, now, rules) };
}

/** Activity at `now` with a new token (SM-20). */
export function rotated(
  record: RecordFields,
  tokenHash: string,
  now: number,
  rules: RecordRules,
): RecordFields {
  return { ...touched(record, now, rules), tokenHash, rotatedAt: now };
}

/** The next version of a record: compare-and-set counts on `version` (SM-31). */
export function nextVersion(
  previous: StoredSession,
  fields: RecordFields,
  sealed: string,
): StoredSession {
  return { ...fields, version: previous.version + 1, sealed };
}

/** Until when a token retired at `now` is still honoured. */
export function retiredGraceUntil(now: number, rules: RecordRules): number {
  return now + rules.rotationGraceMs;
}

/**
 * SM-20: only the token the last rotation replaced is honoured: within the grace window
 * (measured from the request's arrival), or after it while its successor has never been
 * presented (the response carrying it was lost; the session rotates again). Any other
 * retired token, or the previous one once its successor was seen, is theft. The grace
 * deadline comes from the sealed record, not from the store's copy.
 */
export function standingOfRetired(
  tokenHash: string,
  session: Pick<StoredSession, 'rotatedAt'>,
  state: RotationState,
  arrivedAt: number,
  rules: RecordRules,
): TokenStanding | 'theft' {
  if (state.previousTokenHash !== tokenHash) return 'theft';
  if (arrivedAt <= session.rotatedAt + rules.rotationGraceMs) return 'grace';
  return state.successorSeen ? 'theft' : 'lost-response';
}

/** What a request's load must write: `{ rotate }`, or null for nothing. */
export interface DueWrites {
  readonly rotate: boolean;
}

/**
 * Whether loading the session must write: rotation (interval passed, or a lost response),
 * touch (at most once per touch interval), re-sealing under the active key, or the first use
 * of a new token (recorded for SM-20). Nothing within a grace window: the winner of the
 * rotation writes.
 */
export function dueWrites(
  session: Pick<StoredSession, 'rotatedAt' | 'lastSeenAt'>,
  standing: TokenStanding,
  state: { readonly sealedWithActiveKey: boolean; readonly successorSeen: boolean },
  now: number,
  rules: RecordRules,
): DueWrites | null {
  if (standing === 'grace') return null;
  if (standing === 'lost-response') return ROTATE;
  const rotate = now - session.rotatedAt >= rules.rotationIntervalMs;
  const touch = now - session.lastSeenAt >= rules.touchIntervalMs;
  if (rotate) return ROTATE;
  return touch || !state.sealedWithActiveKey || !state.successorSeen ? TOUCH : null;
}

const ROTATE: DueWrites = Object.freeze({ rotate: true });
const TOUCH: DueWrites = Object.freeze({ rotate: false });

/**
 * The rotation state after a load's write. Rotating retires the token just presented behind
 * the new one, except after a lost response: the client still holds the previous token, so it
 * stays the one honoured and the undelivered current token is retired behind it.
 */
export function rotationAfterWrite(
  session: Pick<StoredSession, 'tokenHash'>,
  state: RotationState,
  standing: TokenStanding,
  rotate: boolean,
): RotationState {
  if (!rotate) return { previousTokenHash: state.previousTokenHash, successorSeen: true };
  const previousTokenHash =
    standing === 'lost-response' ? state.previousTokenHash : session.tokenHash;
  return { previousTokenHash, successorSeen: false };
}

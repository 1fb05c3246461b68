import { passesBindings } from './bindings.js';
import type { CoreContext } from './context.js';
import { TooManyRequestsError } from './errors.js';
import { expiryReason, standingOfRetired, type TokenStanding } from './record.js';
import type { RequestContext } from './request.js';
import type { OpenedSession } from './sealing.js';
import type { StoredSession, TokenMatch } from './store.js';

/** No request is honoured as having arrived longer ago than this (a stalled upload). */
const MAX_ARRIVAL_AGE_MS = 10 * 60_000;

/** What one well-formed token turned out to be. */
export type Resolution =
  | {
      readonly kind: 'live';
      readonly token: string;
      readonly session: StoredSession;
      readonly opened: OpenedSession;
      readonly standing: TokenStanding;
    }
  | {
      readonly kind: 'dead';
      /** The record when it merely expired: its CSRF secret may still vouch for a form. */
      readonly expired: StoredSession | null;
    };
export type LiveResolution = Extract<Resolution, { kind: 'live' }>;

const DEAD: Resolution = { kind: 'dead', expired: null };

/** A token's store entry, and which of the ring's hashes of the token found it. */
interface FoundToken {
  readonly match: TokenMatch;
  readonly tokenHash: string;
}

/**
 * SM-55: a client that guessed too many tokens gets no more lookups for a while. Clients are
 * told apart by the address the adapter determined; a request without one (a Fetch host that
 * supplies no IP) is not counted: one shared bucket would let a single guesser lock every such
 * visitor out. Its unknown tokens are still reported (`session.unknown_token`).
 */
export function refuseGuesser(core: CoreContext, request: RequestContext): void {
  if (core.guesses === null || request.ip === null) return;
  const blockedFor = core.guesses.blockedFor(request.ip, core.now());
  if (blockedFor > 0) throw new TooManyRequestsError(Math.ceil(blockedFor / 1000));
}

/** Classifies one well-formed token, applying the consequences of expiry, theft and binding. */
export async function resolveToken(
  core: CoreContext,
  request: RequestContext,
  token: string,
): Promise<Resolution> {
  const found = await findToken(core, token);
  if (found === null) {
    // SM-15: strict mode; an unknown token is never adopted.
    core.events.emit('session.unknown_token', request, {});
    if (request.ip !== null && core.guesses?.recordUnknown(request.ip, core.now()) === true)
      core.events.emit('session.guessing', request, { reason: 'unknown-tokens' });
    return DEAD;
  }
  const { session, retiredGraceUntil } = found.match;
  const fields = { sessionId: session.id, userId: session.userId };
  const now = core.now();
  const expired = expiryReason(session, now);
  if (expired !== null) {
    await core.store.call('expire', (store) => store.delete(session.id));
    core.events.emit('session.expired', request, { ...fields, reason: expired });
    return { kind: 'dead', expired: session };
  }
  const opened = core.sealer.open(session);
  if (opened === null) {
    core.events.emit('session.tampered', request, fields);
    return DEAD;
  }
  const arrivedAt = now - arrivalAge(request);
  const standing =
    retiredGraceUntil === null
      ? 'current'
      : standingOfRetired(found.tokenHash, session, opened.payload, arrivedAt, core.config);
  if (standing === 'theft') {
    await reportTheft(core, request, session);
    return DEAD;
  }
  // Most apps bind nothing: no extra promise on their hot path.
  if (core.bindsClients && !(await passesBindings(core, request, session, opened.payload)))
    return DEAD;
  return { kind: 'live', token, session, opened, standing };
}

/**
 * The token under the active key's hash, or, for sessions issued before a key rotation, under
 * an older key's: one more store read per older key, only for tokens the first did not find.
 */
async function findToken(core: CoreContext, token: string): Promise<FoundToken | null> {
  const keyRing = core.config.keyRing;
  const tokenHash = keyRing.tokenHash(token);
  const match = await core.store.call('load', (store) => store.findByTokenHash(tokenHash));
  if (match !== null) return { match, tokenHash };
  if (keyRing.size === 1) return null;
  for (const olderHash of keyRing.tokenHashes(token).slice(1)) {
    const older = await core.store.call('load', (store) => store.findByTokenHash(olderHash));
    if (older !== null) return { match: older, tokenHash: olderHash };
  }
  return null;
}

/**
 * SM-20: the successor was presented, and now its predecessor is again, after the grace
 * window: two parties hold the session.
 */
async function reportTheft(
  core: CoreContext,
  request: RequestContext,
  session: StoredSession,
): Promise<void> {
  const policy = core.config.theftPolicy;
  if (policy === 'revoke') await core.store.call('revoke', (store) => store.delete(session.id));
  core.events.emit('session.theft_detected', request, {
    sessionId: session.id,
    userId: session.userId,
    reason: policy,
  });
}

/** A non-negative, finite age: an adapter's clock glitch must never widen the grace window. */
function arrivalAge(request: RequestContext): number {
  const age = request.ageMs ?? 0;
  return Number.isFinite(age) && age > 0 ? Math.min(age, MAX_ARRIVAL_AGE_MS) : 0;
}

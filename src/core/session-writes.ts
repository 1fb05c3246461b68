import { generateCSRFSecret } from '../csrf/synchronizer-token.js';
import type { ResolvedConfig } from './config.js';
import type { CoreContext } from './context.js';
import {
  InsecureTransportError,
  InvalidArgumentError,
  SessionEndedError,
  SessionLimitError,
  StoreUnavailableError,
} from './errors.js';
import type { StoreOperation } from './events.js';
import type { SessionPayload } from './payload.js';
import { absoluteDeadline, expiryReason, newRecord, nextVersion, touched } from './record.js';
import type { CookieSink, RequestContext } from './request.js';
import { clientMetadata } from './session-info.js';
import type { StoredSession } from './store.js';
import { generateSessionId, generateToken } from './token.js';

/**
 * How a request's `Session` writes: compare-and-set on the record version, merged at key level
 * and retried against concurrent writers; brand-new records for creation, login and
 * regeneration. A session that ended meanwhile is never written again (SM-31).
 */

/** What one request's session holds; the functions here move it forward. */
export interface SessionState {
  record: StoredSession | null;
  payload: SessionPayload | null;
  preSessionSecret: string | null;
}

/** Everything a write needs: the manager's parts, the request, and its session's state. */
export interface SessionScope {
  readonly core: CoreContext;
  readonly request: RequestContext;
  readonly sink: CookieSink;
  readonly state: SessionState;
}

/** What a brand-new record is built from. */
export interface NewSession {
  readonly userId: string | null;
  readonly createdAt: number;
  readonly authenticatedAt: number | null;
  readonly absoluteExpiresAt: number;
  readonly data: Readonly<Record<string, unknown>>;
  readonly persistent: boolean;
  /** The sealed credential fingerprint. */
  readonly credential: string | null;
}

/** The state a replacement (login, regenerate) starts from. */
export interface Current {
  readonly record: StoredSession;
  readonly payload: SessionPayload;
}

export type ReplacementEvent = 'session.authenticated' | 'session.regenerated';

type DataChange = (data: Readonly<Record<string, unknown>>) => Record<string, unknown>;

/** A write retried this often against concurrent writers before giving up loudly. */
const MAX_WRITE_ATTEMPTS = 32;
const MAX_USER_ID_LENGTH = 255;

/** Applies `change` to the data, creating the session when there is none yet. */
export async function writeData(scope: SessionScope, change: DataChange): Promise<void> {
  const { core, state } = scope;
  if (state.record === null) {
    await createSession(scope, change({}));
    return;
  }
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const record: StoredSession = state.record;
    const payload = state.payload as SessionPayload;
    const now = core.now();
    if (expiryReason(record, now) !== null) throw endSession(scope);
    const nextPayload: SessionPayload = { ...payload, data: change(payload.data) };
    const fields = touched(record, now, core.config);
    const next = nextVersion(record, fields, core.sealer.seal(fields, nextPayload));
    if (await core.store.call('update', (store) => store.update(next, { retire: null }))) {
      state.record = next;
      state.payload = nextPayload;
      return;
    }
    // Another request wrote first: merge our change into its version and try again.
    const live = await readLive(core, record.id, 'update');
    if (live === null) throw endSession(scope);
    state.record = live.record;
    state.payload = live.payload;
    // Jitter breaks the lockstep of many writers retrying against each other.
    if (attempt > 0) await sleep(Math.random() * 2 * attempt);
  }
  throw new StoreUnavailableError('update (too many concurrent writers)');
}

async function createSession(scope: SessionScope, data: Record<string, unknown>): Promise<void> {
  const { core, state } = scope;
  const now = core.now();
  const next = {
    userId: null,
    createdAt: now,
    authenticatedAt: null,
    absoluteExpiresAt: absoluteDeadline(now, core.config),
    data,
    persistent: false,
    credential: null,
  };
  // Adopting the pre-session CSRF secret keeps forms rendered before the first write valid.
  await issueRecord(scope, next, state.preSessionSecret, null);
  core.events.emit('session.created', scope.request, { sessionId: state.record?.id ?? null });
}

/**
 * Issues a new session in place of the current one (or of none). The store deletes the
 * current record only if it is still there at the version this request read: when a
 * concurrent write moved it on, the replacement starts again from that version; when it was
 * ended (logout, revocation, expiry), the replacement throws and nothing is created (SM-31).
 */
export async function replaceSession(
  scope: SessionScope,
  event: ReplacementEvent,
  build: (current: Current | null) => NewSession,
): Promise<void> {
  const { core, state } = scope;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const previous = state.record;
    const payload = state.payload;
    const current = previous === null || payload === null ? null : { record: previous, payload };
    const next = build(current);
    // A fresh CSRF secret: tokens rendered before a privilege change stop working (SM-19).
    if (await issueRecord(scope, next, null, previous)) {
      core.events.emit(event, scope.request, {
        sessionId: state.record?.id ?? null,
        userId: next.userId,
        previousSessionId: previous?.id ?? null,
      });
      return;
    }
    await reloadReplaced(scope, event, previous as StoredSession);
  }
  throw new StoreUnavailableError('insert (too many concurrent writers)');
}

/** After a lost compare-and-set: start again from the replaced session's current version. */
async function reloadReplaced(
  scope: SessionScope,
  event: ReplacementEvent,
  replaced: StoredSession,
): Promise<void> {
  const { core, state } = scope;
  const live = await readLive(core, replaced.id, 'insert');
  if (live === null) {
    // A login whose anonymous pre-login session is gone (a parallel login consumed it, a
    // double-submitted form) proves who the user is by itself: it signs in afresh, taking
    // nothing from the lost session. A signed-in session that ended stays ended.
    if (event !== 'session.authenticated' || replaced.userId !== null) throw endSession(scope);
    state.record = null;
    state.payload = null;
    return;
  }
  state.record = live.record;
  state.payload = live.payload;
}

/**
 * Reads the session again, so that what other requests wrote since this one loaded it shows.
 *
 * @throws {SessionEndedError} it was logged out, revoked or expired meanwhile (SM-31).
 */
export async function reloadSession(scope: SessionScope): Promise<void> {
  const { core, state } = scope;
  if (state.record === null) return;
  const live = await readLive(core, state.record.id, 'load');
  if (live === null) throw endSession(scope);
  state.record = live.record;
  state.payload = live.payload;
}

/** The session's version in the store now, or null when it is gone, unreadable or expired. */
async function readLive(
  core: CoreContext,
  sessionId: string,
  operation: StoreOperation,
): Promise<Current | null> {
  const fresh = await core.store.call(operation, (store) => store.findById(sessionId));
  const opened = fresh === null ? null : core.sealer.open(fresh);
  if (fresh === null || opened === null || expiryReason(fresh, core.now()) !== null) return null;
  return { record: fresh, payload: opened.payload };
}

/**
 * Writes a brand-new record (new id, new token) and issues its cookie. False when the
 * session it replaces is no longer at the version this request read.
 */
async function issueRecord(
  scope: SessionScope,
  next: NewSession,
  csrfSecret: string | null,
  replaces: StoredSession | null,
): Promise<boolean> {
  assertCanIssueCookie(scope);
  const { core, request, state } = scope;
  const { runtime, sessionLimit } = core.config;
  const now = core.now();
  const id = generateSessionId(runtime);
  const token = generateToken(runtime);
  const payload: SessionPayload = {
    data: next.data,
    ...clientMetadata(request),
    csrfSecret: csrfSecret ?? generateCSRFSecret(runtime.randomBytes),
    persistent: next.persistent,
    // A brand-new token has no predecessor for theft detection to watch.
    previousTokenHash: null,
    successorSeen: true,
    credential: next.credential,
  };
  const fields = newRecord(
    { ...next, id, tokenHash: core.config.keyRing.tokenHash(token) },
    now,
    core.config,
  );
  const record: StoredSession = {
    ...fields,
    version: 1,
    sealed: core.sealer.seal(fields, payload),
  };
  const limit = sessionLimit === null || next.userId === null ? null : { ...sessionLimit, now };
  const replaced = replaces === null ? null : { id: replaces.id, version: replaces.version };
  const result = await core.store.call('insert', (store) =>
    store.insert(record, { replaces: replaced, limit }),
  );
  if (result.status === 'conflict') return false;
  if (result.status === 'limit-reached') {
    core.events.emit('session.limit_reached', request, { userId: next.userId, reason: 'refuse' });
    throw new SessionLimitError();
  }
  for (const sessionId of result.evicted) {
    core.events.emit('session.revoked', request, {
      sessionId,
      userId: next.userId,
      reason: 'session-limit',
    });
  }
  state.record = record;
  state.payload = payload;
  core.cookies.issueSession(scope.sink, request, token, record, {
    persistent: payload.persistent,
    now: core.now(),
  });
  if (state.preSessionSecret !== null) {
    // The session now holds its own CSRF secret; the pre-session cookie has served its purpose.
    core.cookies.expirePreSession(scope.sink, request);
    state.preSessionSecret = null;
  }
  return true;
}

/** The record a login writes: a new session for `userId`, keeping only the listed keys (SM-18). */
export function signedIn(
  core: CoreContext,
  current: Current | null,
  userId: string,
  options: {
    readonly keep?: readonly string[];
    readonly data?: object;
    readonly cookie?: 'browser-session' | 'persistent';
    readonly credential: string | null;
  },
): NewSession {
  const now = core.now();
  const kept: Record<string, unknown> = {};
  for (const key of options.keep ?? []) {
    if (current !== null && Object.hasOwn(current.payload.data, key))
      kept[key] = current.payload.data[key];
  }
  return {
    userId,
    createdAt: now,
    authenticatedAt: now,
    absoluteExpiresAt: absoluteDeadline(now, core.config),
    data: { ...kept, ...options.data },
    persistent: options.cookie === 'persistent',
    credential: options.credential,
  };
}

/** The record a regeneration writes: same user, data and deadlines (SM-17). */
export function regenerated(
  current: Current,
  credential: string | null | undefined,
  cookie: 'browser-session' | 'persistent' | undefined,
): NewSession {
  const { record, payload } = current;
  return {
    userId: record.userId,
    createdAt: record.createdAt,
    authenticatedAt: record.authenticatedAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    data: payload.data,
    persistent: cookie === undefined ? payload.persistent : cookie === 'persistent',
    credential: credential ?? payload.credential,
  };
}

/**
 * Checks a login's user id, and returns the sealed fingerprint of its credential (SM-28):
 * required when the manager checks one, null when it does not.
 */
export function loginFingerprint(
  config: ResolvedConfig,
  userId: string,
  credential: string | undefined,
): string | null {
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw new InvalidArgumentError(
      `userId must be a non-empty string of at most ${MAX_USER_ID_LENGTH} characters`,
    );
  }
  if (credential === undefined) {
    if (config.currentCredential === null) return null;
    throw new InvalidArgumentError(
      'login() needs the credential it was checked against ({ credential }), because the manager has currentCredential',
    );
  }
  if (typeof credential !== 'string' || credential.length === 0) {
    throw new InvalidArgumentError('credential must be a non-empty string');
  }
  return config.keyRing.credentialFingerprint(userId, credential);
}

/** Issues the pre-session CSRF secret of a visitor without a session (SM-45). */
export function issuePreSessionSecret(scope: SessionScope): string {
  assertCanIssueCookie(scope);
  const secret = generateCSRFSecret(scope.core.config.runtime.randomBytes);
  scope.core.cookies.issuePreSession(scope.sink, scope.request, secret);
  scope.state.preSessionSecret = secret;
  return secret;
}

/** Forgets the session and returns the error a write that found it ended throws. */
export function endSession(scope: SessionScope): SessionEndedError {
  forgetSession(scope);
  return new SessionEndedError();
}

/** Drops local state and expires the cookie. */
export function forgetSession(scope: SessionScope): void {
  scope.state.record = null;
  scope.state.payload = null;
  if (canIssueCookie(scope)) scope.core.cookies.expireSession(scope.sink, scope.request);
}

function canIssueCookie({ core, request }: SessionScope): boolean {
  return request.secure || core.config.allowInsecureHttp;
}

function assertCanIssueCookie(scope: SessionScope): void {
  if (!canIssueCookie(scope)) throw new InsecureTransportError();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

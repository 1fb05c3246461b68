import {
  checkOrigin,
  describeOriginHeader,
  isUnsafeMethod,
  pickToken,
} from '../csrf/request-check.js';
import { isWellFormedCSRFToken, verifyCSRFToken } from '../csrf/synchronizer-token.js';
import { resolveConfig, type SessionManagerOptions } from './config.js';
import { CSRFError, TooManyRequestsError, type CSRFFailureReason } from './errors.js';
import { readCookies } from './cookie.js';
import { Engine, type FoundToken, type OpenedSession } from './engine.js';
import type { CookieSink, RequestContext } from './request.js';
import { EventHub, type SessionEventListener, type SessionEventType } from './events.js';
import { describeSessions } from './session-info.js';
import { Session, type SessionData, type SessionInfo, type UntypedSessionData } from './session.js';
import type { StoredSession } from './store.js';
import { passesBindings } from './bindings.js';
import { GuessLimiter } from './guess-limiter.js';
import { revokeAllSessions } from './revoke-all.js';
import type { SessionPayload } from './payload.js';
import { generateToken, isWellFormedSessionId, isWellFormedToken } from './token.js';

/**
 * Loads and manages sessions. Framework-free: it takes header strings in and hands Set-Cookie
 * strings to a sink; the adapters (`strongroom/express`, ...) translate.
 */
export interface SessionManager<Data extends SessionData = UntypedSessionData> {
  /**
   * Resolves the request's session: validates the cookie, enforces the timeouts, rotates the
   * token when due and extends the idle deadline (at most once per touch interval). Never
   * throws for a bad cookie (the visitor is simply anonymous); rejects with
   * `StoreUnavailableError` when the store fails.
   */
  load(request: RequestContext, sink: CookieSink): Promise<Session<Data>>;
  /** Subscribes to lifecycle events (or `'*'`); returns the unsubscribe function. */
  on(type: SessionEventType | '*', listener: SessionEventListener): () => void;
  /** Administrative: ends every session of a user (account disabled, SM-29/SM-30). */
  revokeUserSessions(userId: string): Promise<number>;
  /**
   * Incident response (SM-30): ends every session that exists when it is called, of every user
   * and anonymous ones, in bounded batches, one `session.revoked` event each (reason
   * `revoke-all`). Sessions created by logins after the call started are kept. Returns how many
   * were ended.
   */
  revokeAllSessions(options?: { readonly batchSize?: number }): Promise<number>;
  /** Administrative: ends one session by its public id. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Administrative: a user's live sessions. */
  listUserSessions(userId: string): Promise<SessionInfo[]>;
  /** Deletes expired sessions in bounded batches; returns how many went. */
  purgeExpired(options?: { readonly batchSize?: number }): Promise<number>;
}

/** How many session cookies one request may present before none of them is looked up. */
const MAX_SESSION_COOKIES = 4;
/** Clients tracked by the token-guessing defence; the oldest window goes first beyond it. */
const MAX_TRACKED_CLIENTS = 10_000;
/** No request is honoured as having arrived longer ago than this (a stalled upload). */
const MAX_ARRIVAL_AGE_MS = 10 * 60_000;

/**
 * How a live token relates to its session: the current token, the previous one within its
 * grace window, or the previous one after it whose successor was never presented (the
 * response that carried it was lost, so the session rotates again).
 */
type TokenStanding = 'current' | 'grace' | 'lost-response';

interface DueWrites {
  readonly now: number;
  readonly rotate: boolean;
}

type Resolution =
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
type LiveResolution = Extract<Resolution, { kind: 'live' }>;
const DEAD: Resolution = { kind: 'dead', expired: null };

/**
 * Creates a session manager. Throws a `ConfigError` listing every configuration problem.
 *
 * @example
 * ```ts
 * import { createSessionManager, parseKeyList } from 'strongroom';
 * import { createSQLiteStore } from 'strongroom/stores/sqlite';
 *
 * interface AppData { cart: string[] }
 * const sessions = createSessionManager<AppData>({
 *   store: createSQLiteStore({ path: '.data/sessions.db' }),
 *   keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
 * });
 * sessions.on('session.theft_detected', (event) => logger.warn(event));
 * ```
 */
export function createSessionManager<Data extends SessionData = UntypedSessionData>(
  options: SessionManagerOptions,
): SessionManager<Data> {
  const config = resolveConfig(options);
  const engine = new Engine(config, new EventHub());
  const guesses =
    config.unknownTokenLimit === null
      ? null
      : new GuessLimiter({
          max: config.unknownTokenLimit.perClient,
          windowMs: config.unknownTokenLimit.windowMs,
          maxClients: MAX_TRACKED_CLIENTS,
        });
  const bindsClients = config.clientBinding !== 'off' || config.currentCredential !== null;
  if (config.allowInsecureHttp) {
    process.emitWarning(
      'Strongroom: cookie.secure is "allow-http-development": session cookies may travel over plain HTTP. Never use this in production.',
    );
  }

  async function load(request: RequestContext, sink: CookieSink): Promise<Session<Data>> {
    const anonymous = (preSessionSecret: string | null = null): Session<Data> =>
      new Session<Data>(engine, request, sink, { record: null, payload: null, preSessionSecret });
    // Layer 1 of the CSRF defence needs no session: reject before touching the store.
    const checked =
      config.csrf.enforce && request.csrf !== 'skip' && isUnsafeMethod(request.method);
    if (checked) {
      const reason = checkOrigin(
        { secFetchSite: request.fetchSite, origin: request.origin },
        config.csrf,
      );
      if (reason !== null) throw rejectCSRF(request, reason, null);
    }
    // SM-06/SM-59: a session never moves between HTTPS and plain HTTP.
    if (!request.secure && !config.allowInsecureHttp) {
      if (checked) verifyToken(request, null, undefined);
      return anonymous();
    }

    const name = engine.cookieName(request.secure);
    const csrfName = engine.csrfCookieName(request.secure);
    const cookies = readCookies(request.cookieHeader, [name, csrfName]);
    const values = cookies.get(name) ?? [];
    const preSessionSecret = singleToken(cookies.get(csrfName) ?? []);
    if (values.length === 0) {
      if (checked) verifyToken(request, preSessionSecret, undefined);
      return anonymous(preSessionSecret);
    }

    if (values.length > MAX_SESSION_COOKIES) {
      // A browser holds a few at most (other paths or domains); more is an attack on the store.
      engine.emit('session.duplicate_cookie', request, { reason: `${values.length} values` });
      if (checked) verifyToken(request, preSessionSecret, undefined);
      return anonymous(preSessionSecret);
    }
    const tokens = values.filter(isWellFormedToken);
    if (tokens.length < values.length) engine.emit('session.malformed_token', request, {});
    if (values.length > 1)
      engine.emit('session.duplicate_cookie', request, { reason: `${values.length} values` });
    if (tokens.length > 0) refuseGuesser(request);

    const resolutions =
      tokens.length === 1
        ? [await resolve(request, tokens[0] as string)]
        : await Promise.all(tokens.map((token) => resolve(request, token)));
    const live = resolutions.filter((r) => r.kind === 'live');
    // SM-13: with several candidates, accept only when exactly one is a live session, so a
    // planted cookie can neither select the attacker's session nor lock the victim out.
    const chosen = live.length === 1 ? live[0] : undefined;
    if (checked) {
      // A form rendered before the session expired still carries a token of its secret:
      // honour it (the request proceeds anonymous), so signing in again or out is not a 403.
      const expired = resolutions.flatMap((r) =>
        r.kind === 'dead' && r.expired !== null ? [r.expired] : [],
      );
      const expiredSecret =
        live.length === 0 && expired.length === 1
          ? engine.open(expired[0] as StoredSession)?.payload.csrfSecret
          : undefined;
      verifyToken(
        request,
        chosen?.opened.payload.csrfSecret ?? expiredSecret ?? preSessionSecret,
        chosen?.session,
      );
    }
    if (chosen === undefined) {
      // With two live sessions, a deletion would remove only the host-only cookie and leave a
      // planted one (with Domain) to be the "only" candidate next time: delete nothing then.
      if (live.length === 0) sink.setCookie(name, engine.expiredCookie(request, name));
      return anonymous(preSessionSecret);
    }
    const due = dueWrites(chosen);
    // Most reads need no write; skipping the async call keeps them free of another promise.
    const refreshed =
      due === null
        ? { record: chosen.session, payload: chosen.opened.payload }
        : await refresh(request, sink, chosen, due);
    if (refreshed === null) {
      sink.setCookie(name, engine.expiredCookie(request, name));
      return anonymous(preSessionSecret);
    }
    return new Session<Data>(engine, request, sink, { ...refreshed, preSessionSecret: null });
  }

  /**
   * Sessions issued before a key rotation are stored under an older key's hash: one more store
   * read per older key, and only for tokens the active key's hash did not find.
   */
  async function findUnderOlderKeys(token: string): Promise<FoundToken | null> {
    for (const tokenHash of config.keyRing.tokenHashes(token).slice(1)) {
      const match = await engine.call('load', (store) => store.findByTokenHash(tokenHash));
      if (match !== null) return { match, tokenHash };
    }
    return null;
  }

  /** SM-55: a client that guessed too many tokens gets no more lookups for a while. */
  function refuseGuesser(request: RequestContext): void {
    if (guesses === null) return;
    const blockedFor = guesses.blockedFor(clientKey(request), engine.now());
    if (blockedFor > 0) throw new TooManyRequestsError(Math.ceil(blockedFor / 1000));
  }

  /**
   * Layer 2: the synchronizer token, checked against the session's CSRF secret (or the
   * pre-session one) before any write, so a rejected request changes nothing (SM-36, SM-39).
   */
  function verifyToken(
    request: RequestContext,
    secret: string | null,
    session: StoredSession | undefined,
  ): void {
    const picked = pickToken({ field: request.csrfField, header: request.csrfHeader });
    if ('reason' in picked) throw rejectCSRF(request, picked.reason, session ?? null);
    if (secret === null || !verifyCSRFToken(picked.token, secret)) {
      throw rejectCSRF(
        request,
        isWellFormedCSRFToken(picked.token) ? 'token-invalid' : 'token-malformed',
        session ?? null,
      );
    }
  }

  /**
   * Emits `csrf.rejected` and returns the error to throw. The error (and so the response body)
   * says only the reason; a layer-1 rejection also puts the received and the configured
   * origins into the event, and an `origin-mismatch` into a process warning, since a missing
   * or mistyped entry in `csrf.origins` is the usual cause.
   */
  function rejectCSRF(
    request: RequestContext,
    reason: CSRFFailureReason,
    session: StoredSession | null,
  ): CSRFError {
    const layer1 = !reason.startsWith('token-');
    const origin = layer1 ? describeOriginHeader(request.origin) : null;
    const expectedOrigins = [...config.csrf.selfOrigins, ...config.csrf.trustedOrigins];
    engine.events.emit({
      type: 'csrf.rejected',
      at: new Date(engine.now()),
      sessionId: session?.id ?? null,
      userId: session?.userId ?? null,
      ip: request.ip,
      userAgent: request.userAgent,
      reason,
      previousSessionId: null,
      ...(layer1 && { origin, expectedOrigins }),
    });
    if (reason === 'origin-mismatch') warnOriginMismatch(origin);
    return new CSRFError(reason);
  }

  /**
   * Once per distinct Origin, for the first few: enough to show a misconfiguration, bounded so
   * that a client sending made-up origins can neither flood the log nor grow this set.
   */
  const maxOriginWarnings = 5;
  const warnedOrigins = new Set<string | null>();
  function warnOriginMismatch(origin: string | null): void {
    if (warnedOrigins.has(origin) || warnedOrigins.size >= maxOriginWarnings) return;
    warnedOrigins.add(origin);
    const list = (origins: ReadonlySet<string>): string => JSON.stringify([...origins]);
    const more =
      warnedOrigins.size < maxOriginWarnings
        ? 'This origin is not reported here again'
        : 'No further origins are reported here';
    process.emitWarning(
      `Strongroom refused an unsafe request (origin-mismatch): Origin ${JSON.stringify(origin)} is in neither csrf.origins ${list(config.csrf.selfOrigins)} nor csrf.trustedOrigins ${list(config.csrf.trustedOrigins)}. If it is the app's own address, list it exactly as the browser sends it (scheme://host[:port]). ${more}; every rejection emits csrf.rejected.`,
    );
  }

  /** Classifies one well-formed token, applying the consequences of expiry, theft and binding. */
  async function resolve(request: RequestContext, token: string): Promise<Resolution> {
    const tokenHash = engine.tokenHash(token);
    const match = await engine.call('load', (store) => store.findByTokenHash(tokenHash));
    const found =
      match !== null
        ? { match, tokenHash }
        : config.keyRing.size > 1
          ? await findUnderOlderKeys(token)
          : null;
    if (found === null) {
      // SM-15: strict mode; an unknown token is never adopted.
      engine.emit('session.unknown_token', request, {});
      if (guesses?.recordUnknown(clientKey(request), engine.now()) === true)
        engine.emit('session.guessing', request, { reason: 'unknown-tokens' });
      return DEAD;
    }
    const { session, retiredGraceUntil } = found.match;
    const fields = { sessionId: session.id, userId: session.userId };
    const now = engine.now();
    const expired = engine.expiryReason(session, now);
    if (expired !== null) {
      await engine.call('expire', (store) => store.delete(session.id));
      engine.emit('session.expired', request, { ...fields, reason: expired });
      return { kind: 'dead', expired: session };
    }
    const opened = engine.open(session);
    if (opened === null) {
      engine.emit('session.tampered', request, fields);
      return DEAD;
    }
    const standing =
      retiredGraceUntil === null
        ? 'current'
        : standingOfRetired(found.tokenHash, session, opened.payload, now - arrivalAge(request));
    if (standing === 'theft') {
      // SM-20: the successor was presented, and now its predecessor is again, after the grace
      // window: two parties hold the session.
      if (config.theftPolicy === 'revoke')
        await engine.call('revoke', (store) => store.delete(session.id));
      engine.emit('session.theft_detected', request, { ...fields, reason: config.theftPolicy });
      return DEAD;
    }
    // Most apps bind nothing: no extra promise on their hot path.
    if (bindsClients && !(await passesBindings(engine, request, session, opened.payload)))
      return DEAD;
    return { kind: 'live', token, session, opened, standing };
  }

  /**
   * SM-20: only the token the last rotation replaced is honoured: within the grace window
   * (measured from the request's arrival), or after it while its successor has never been
   * presented (the response carrying it was lost; the session rotates again). Any other
   * retired token, or the previous one once its successor was seen, is theft. The grace
   * deadline comes from the sealed record, not from the store's copy.
   */
  function standingOfRetired(
    tokenHash: string,
    session: StoredSession,
    payload: SessionPayload,
    arrivedAt: number,
  ): TokenStanding | 'theft' {
    if (payload.previousTokenHash !== tokenHash) return 'theft';
    if (arrivedAt <= session.rotatedAt + config.rotationGraceMs) return 'grace';
    return payload.successorSeen ? 'theft' : 'lost-response';
  }

  /** What a load must write: rotation, touch, re-sealing; null for none (and in a grace window). */
  function dueWrites(live: LiveResolution): DueWrites | null {
    const { session, opened, standing } = live;
    if (standing === 'grace') return null;
    const now = engine.now();
    if (standing === 'lost-response') return { now, rotate: true };
    const rotate = now - session.rotatedAt >= config.rotationIntervalMs;
    const touch = now - session.lastSeenAt >= config.touchIntervalMs;
    const reseal = !opened.sealedWithActiveKey;
    // The first request with a new token records that it arrived (SM-20).
    const firstUse = !opened.payload.successorSeen;
    return rotate || touch || reseal || firstUse ? { now, rotate } : null;
  }

  /** Rotation, touch, first use of a token and re-sealing under the active key, in one write. */
  async function refresh(
    request: RequestContext,
    sink: CookieSink,
    live: LiveResolution,
    { now, rotate }: DueWrites,
  ): Promise<{ record: StoredSession; payload: OpenedSession['payload'] } | null> {
    const { session, opened } = live;
    const token = rotate ? generateToken(config.runtime) : live.token;
    // After a lost response the client still holds the previous token: it stays the one
    // honoured, and the undelivered current token is retired behind it.
    const previousTokenHash = !rotate
      ? opened.payload.previousTokenHash
      : live.standing === 'lost-response'
        ? opened.payload.previousTokenHash
        : session.tokenHash;
    const payload: SessionPayload = {
      ...opened.payload,
      previousTokenHash,
      successorSeen: !rotate,
    };
    const fields = {
      ...session,
      tokenHash: rotate ? engine.tokenHash(token) : session.tokenHash,
      lastSeenAt: now,
      idleExpiresAt: engine.idleDeadline(session, now),
      rotatedAt: rotate ? now : session.rotatedAt,
    };
    const next: StoredSession = {
      ...fields,
      version: session.version + 1,
      sealed: engine.seal(fields, payload),
    };
    const retire = rotate
      ? { tokenHash: session.tokenHash, graceUntil: now + config.rotationGraceMs }
      : null;
    if (await engine.call('touch', (store) => store.update(next, { retire }))) {
      if (rotate) {
        sink.setCookie(
          engine.cookieName(request.secure),
          engine.sessionCookie(request, token, next, payload.persistent),
        );
        engine.emit('session.rotated', request, { sessionId: session.id, userId: session.userId });
      }
      return { record: next, payload };
    }
    // A concurrent request of the same browser wrote first (and may have rotated): use its
    // version. Our token stays valid for the grace window; the winner sends the new cookie.
    const fresh = await engine.call('load', (store) => store.findById(session.id));
    const freshOpened = fresh === null ? null : engine.open(fresh);
    if (fresh === null || freshOpened === null || engine.expiryReason(fresh, now) !== null)
      return null;
    return { record: fresh, payload: freshOpened.payload };
  }

  return {
    load,
    on: (type, listener) => engine.events.on(type, listener),
    revokeUserSessions: (userId) => engine.revokeUser(userId, null, 'admin', null),
    revokeAllSessions: (options) => revokeAllSessions(engine, options),
    async revokeSession(sessionId) {
      if (!isWellFormedSessionId(sessionId)) return false;
      const deleted = await engine.call('revoke', (store) => store.delete(sessionId));
      if (deleted) engine.emit('session.revoked', null, { sessionId, reason: 'admin' });
      return deleted;
    },
    async listUserSessions(userId) {
      const now = engine.now();
      const sessions = await engine.call('list', (store) => store.listByUser(userId, now));
      return describeSessions(engine, sessions, now, null);
    },
    async purgeExpired({ batchSize = 500 } = {}) {
      let total = 0;
      for (;;) {
        const now = engine.now();
        const purged = await engine.call('purge', (store) => store.purgeExpired(now, batchSize));
        total += purged;
        if (purged < batchSize) return total;
      }
    },
  };
}

/** A pre-session CSRF secret: only when exactly one well-formed value is present. */
function singleToken(values: readonly string[]): string | null {
  const [value] = values;
  return values.length === 1 && value !== undefined && isWellFormedToken(value) ? value : null;
}

/** A non-negative, finite age: an adapter's clock glitch must never widen the grace window. */
function arrivalAge(request: RequestContext): number {
  const age = request.ageMs ?? 0;
  return Number.isFinite(age) && age > 0 ? Math.min(age, MAX_ARRIVAL_AGE_MS) : 0;
}

/** Who the token-guessing defence counts: the address the adapter determined. */
function clientKey(request: RequestContext): string {
  return request.ip ?? 'unknown';
}

import { checkOrigin, isUnsafeMethod, pickToken } from '../csrf/request-check.js';
import { isWellFormedCSRFToken, verifyCSRFToken } from '../csrf/synchronizer-token.js';
import { resolveConfig, type SessionManagerOptions } from './config.js';
import { CSRFError, type CSRFFailureReason } from './errors.js';
import { readCookies } from './cookie.js';
import { Engine, type CookieSink, type OpenedSession, type RequestContext } from './engine.js';
import { EventHub, type SessionEventListener, type SessionEventType } from './events.js';
import {
  describeSessions,
  Session,
  type SessionData,
  type SessionInfo,
  type UntypedSessionData,
} from './session.js';
import type { StoredSession } from './store.js';
import { generateToken, hashToken, isWellFormedSessionId, isWellFormedToken } from './token.js';

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
  /** Administrative: ends one session by its public id. */
  revokeSession(sessionId: string): Promise<boolean>;
  /** Administrative: a user's live sessions. */
  listUserSessions(userId: string): Promise<SessionInfo[]>;
  /** Deletes expired sessions in bounded batches; returns how many went. */
  purgeExpired(options?: { readonly batchSize?: number }): Promise<number>;
}

/** How many session cookies one request may present before none of them is looked up. */
const MAX_SESSION_COOKIES = 4;

interface DueWrites {
  readonly now: number;
  readonly rotate: boolean;
  readonly reseal: boolean;
}

type Resolution =
  | {
      readonly kind: 'live';
      readonly token: string;
      readonly session: StoredSession;
      readonly opened: OpenedSession;
      readonly inGrace: boolean;
    }
  | {
      readonly kind: 'dead';
      /** The record when it merely expired: its CSRF secret may still vouch for a form. */
      readonly expired: StoredSession | null;
    };
type LiveResolution = Extract<Resolution, { kind: 'live' }>;

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

  function rejectCSRF(
    request: RequestContext,
    reason: CSRFFailureReason,
    session: StoredSession | null,
  ): CSRFError {
    engine.emit('csrf.rejected', request, {
      sessionId: session?.id ?? null,
      userId: session?.userId ?? null,
      reason,
    });
    return new CSRFError(reason);
  }

  /** Classifies one well-formed token, applying the consequences of expiry and theft. */
  async function resolve(request: RequestContext, token: string): Promise<Resolution> {
    const match = await engine.call('load', (store) => store.findByTokenHash(hashToken(token)));
    if (match === null) {
      // SM-15: strict mode; an unknown token is never adopted.
      engine.emit('session.unknown_token', request, {});
      return { kind: 'dead', expired: null };
    }
    const { session, retiredGraceUntil } = match;
    const fields = { sessionId: session.id, userId: session.userId };
    const now = engine.now();
    const expired = engine.expiryReason(session, now);
    if (expired !== null) {
      await engine.call('expire', (store) => store.delete(session.id));
      engine.emit('session.expired', request, { ...fields, reason: expired });
      return { kind: 'dead', expired: session };
    }
    if (retiredGraceUntil !== null && now > retiredGraceUntil) {
      // SM-20: a rotated-out token after its grace window means two parties hold the session.
      if (config.theftPolicy === 'revoke')
        await engine.call('revoke', (store) => store.delete(session.id));
      engine.emit('session.theft_detected', request, { ...fields, reason: config.theftPolicy });
      return { kind: 'dead', expired: null };
    }
    const opened = engine.open(session);
    if (opened === null) {
      engine.emit('session.tampered', request, fields);
      return { kind: 'dead', expired: null };
    }
    return { kind: 'live', token, session, opened, inGrace: retiredGraceUntil !== null };
  }

  /** What a load must write: rotation, touch, re-sealing; null for none (and in a grace window). */
  function dueWrites(live: LiveResolution): DueWrites | null {
    const { session, opened } = live;
    if (live.inGrace) return null;
    const now = engine.now();
    const rotate = now - session.rotatedAt >= config.rotationIntervalMs;
    const touch = now - session.lastSeenAt >= config.touchIntervalMs;
    const reseal = !opened.sealedWithActiveKey;
    return rotate || touch || reseal ? { now, rotate, reseal } : null;
  }

  /** Rotation, touch and re-sealing under the active key, in one store write. */
  async function refresh(
    request: RequestContext,
    sink: CookieSink,
    live: LiveResolution,
    { now, rotate, reseal }: DueWrites,
  ): Promise<{ record: StoredSession; payload: OpenedSession['payload'] } | null> {
    const { session, opened } = live;

    const token = rotate ? generateToken(config.runtime) : live.token;
    const next: StoredSession = {
      ...session,
      tokenHash: rotate ? hashToken(token) : session.tokenHash,
      lastSeenAt: now,
      idleExpiresAt: engine.idleDeadline(session, now),
      rotatedAt: rotate ? now : session.rotatedAt,
      version: session.version + 1,
      sealed: reseal ? engine.seal(session.id, opened.payload) : session.sealed,
    };
    const retire = rotate
      ? { tokenHash: session.tokenHash, graceUntil: now + config.rotationGraceMs }
      : null;
    if (await engine.call('touch', (store) => store.update(next, { retire }))) {
      if (rotate) {
        sink.setCookie(
          engine.cookieName(request.secure),
          engine.sessionCookie(request, token, next, opened.payload.persistent),
        );
        engine.emit('session.rotated', request, { sessionId: session.id, userId: session.userId });
      }
      return { record: next, payload: opened.payload };
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

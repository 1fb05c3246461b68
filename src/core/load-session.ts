import type { CoreContext } from './context.js';
import { readCookies } from './cookie.js';
import { dueWrites } from './record.js';
import { refreshSession, type LoadedSession } from './refresh-session.js';
import type { CookieSink, RequestContext } from './request.js';
import {
  refuseGuesser,
  resolveToken,
  type LiveResolution,
  type Resolution,
} from './resolve-token.js';
import type { StoredSession } from './store.js';
import { isWellFormedToken } from './token.js';

/**
 * The request pipeline, in order: origin check (CSRF layer 1) → read cookies → resolve the
 * token → CSRF token check (layer 2) → due writes → refresh. Each step is a function below;
 * `SessionManager.load` runs them and wraps the outcome in a `Session`.
 */

/** How many session cookies one request may present before none of them is looked up. */
const MAX_SESSION_COOKIES = 4;

/** What a load hands to `Session`: the live session, or the pre-session CSRF secret of none. */
export type LoadOutcome =
  | { readonly kind: 'session'; readonly loaded: LoadedSession }
  | { readonly kind: 'anonymous'; readonly preSessionSecret: string | null };

interface SessionCookieValues {
  /** Every distinct value of the session cookie. */
  readonly values: readonly string[];
  /** The pre-session CSRF secret, when exactly one well-formed value is present. */
  readonly preSessionSecret: string | null;
}

/** What the resolved candidates of a request amount to (SM-13). */
interface Choice {
  readonly chosen: LiveResolution | undefined;
  readonly liveCount: number;
  /** The CSRF secret a form may still carry a token of, when no live session was chosen. */
  readonly fallbackSecret: string | null;
}

export async function loadSession(
  core: CoreContext,
  request: RequestContext,
  sink: CookieSink,
): Promise<LoadOutcome> {
  const checked = core.csrf.applies(request);
  // Layer 1 of the CSRF defence needs no session: reject before touching the store.
  if (checked) core.csrf.checkOrigin(request);
  // SM-06/SM-59: a session never moves between HTTPS and plain HTTP.
  if (!request.secure && !core.config.allowInsecureHttp) {
    if (checked) core.csrf.checkToken(request, null, null);
    return anonymous(null);
  }
  const { values, preSessionSecret } = readSessionCookies(core, request);
  const tokens = screenTokens(core, request, values);
  if (tokens === null) {
    if (checked) core.csrf.checkToken(request, preSessionSecret, null);
    return anonymous(preSessionSecret);
  }
  if (tokens.length > 0) refuseGuesser(core, request);
  const resolutions = await resolveTokens(core, request, tokens);
  const { chosen, liveCount, fallbackSecret } = choose(core, resolutions);
  if (checked) {
    const secret = chosen?.opened.payload.csrfSecret ?? fallbackSecret ?? preSessionSecret;
    core.csrf.checkToken(request, secret, chosen?.session ?? null);
  }
  if (chosen === undefined) {
    // With two live sessions, a deletion would remove only the host-only cookie and leave a
    // planted one (with Domain) to be the "only" candidate next time: delete nothing then.
    if (liveCount === 0) core.cookies.expireSession(sink, request);
    return anonymous(preSessionSecret);
  }
  const loaded = await applyDueWrites(core, request, sink, chosen);
  if (loaded === null) {
    core.cookies.expireSession(sink, request);
    return anonymous(preSessionSecret);
  }
  return { kind: 'session', loaded };
}

function anonymous(preSessionSecret: string | null): LoadOutcome {
  return { kind: 'anonymous', preSessionSecret };
}

/** The session cookie's values and the pre-session CSRF secret, read verbatim (SM-13, SM-14). */
export function readSessionCookies(
  core: CoreContext,
  request: RequestContext,
): SessionCookieValues {
  const name = core.cookies.sessionName(request.secure);
  const csrfName = core.cookies.csrfName(request.secure);
  const cookies = readCookies(request.cookieHeader, [name, csrfName]);
  const csrfValues = cookies.get(csrfName) ?? [];
  const [csrfValue] = csrfValues;
  const preSessionSecret =
    csrfValues.length === 1 && csrfValue !== undefined && isWellFormedToken(csrfValue)
      ? csrfValue
      : null;
  return { values: cookies.get(name) ?? [], preSessionSecret };
}

/**
 * The values worth a store lookup: the well-formed tokens (possibly none: the cookie is then
 * expired), or null to leave the cookie alone and look nothing up: when there is no session
 * cookie, or more of them than a browser holds (a few at most, for other paths or domains:
 * more is an attack on the store). Malformed and duplicate values are reported.
 */
function screenTokens(
  core: CoreContext,
  request: RequestContext,
  values: readonly string[],
): readonly string[] | null {
  if (values.length === 0) return null;
  const duplicates = { reason: `${values.length} values` } as const;
  if (values.length > MAX_SESSION_COOKIES) {
    core.events.emit('session.duplicate_cookie', request, duplicates);
    return null;
  }
  const tokens = values.filter(isWellFormedToken);
  if (tokens.length < values.length) core.events.emit('session.malformed_token', request, {});
  if (values.length > 1) core.events.emit('session.duplicate_cookie', request, duplicates);
  return tokens;
}

async function resolveTokens(
  core: CoreContext,
  request: RequestContext,
  tokens: readonly string[],
): Promise<readonly Resolution[]> {
  // One token is the rule: no Promise.all for it.
  if (tokens.length === 1) return [await resolveToken(core, request, tokens[0] as string)];
  return Promise.all(tokens.map((token) => resolveToken(core, request, token)));
}

/**
 * SM-13: with several candidates, accept only when exactly one is a live session, so a
 * planted cookie can neither select the attacker's session nor lock the victim out. A form
 * rendered before the session expired still carries a token of its secret: it is honoured
 * (the request proceeds anonymous), so signing in again or out is not a 403.
 */
function choose(core: CoreContext, resolutions: readonly Resolution[]): Choice {
  const live = resolutions.filter((r) => r.kind === 'live');
  if (live.length === 1) return { chosen: live[0], liveCount: 1, fallbackSecret: null };
  const expired: StoredSession[] = [];
  for (const r of resolutions) if (r.kind === 'dead' && r.expired !== null) expired.push(r.expired);
  const fallbackSecret =
    live.length === 0 && expired.length === 1
      ? (core.sealer.open(expired[0] as StoredSession)?.payload.csrfSecret ?? null)
      : null;
  return { chosen: undefined, liveCount: live.length, fallbackSecret };
}

/** Most reads need no write; skipping the async call keeps them free of another promise. */
function applyDueWrites(
  core: CoreContext,
  request: RequestContext,
  sink: CookieSink,
  live: LiveResolution,
): LoadedSession | Promise<LoadedSession | null> {
  const { session, opened, standing } = live;
  const due = dueWrites(
    session,
    standing,
    {
      sealedWithActiveKey: opened.sealedWithActiveKey,
      successorSeen: opened.payload.successorSeen,
    },
    core.now(),
    core.config,
  );
  if (due === null) return { record: session, payload: opened.payload };
  return refreshSession(core, request, sink, live, due);
}

import { isStrongroomError } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import type { CookieSink, RequestContext } from '../../core/request.js';
import type { Session, SessionData } from '../../core/session.js';
import { bodyNotParsedHint } from './form-body.js';
import {
  DISCARDING_SINK,
  insecureTransportWarning,
  PLAIN_HTTP_PROBE,
  type TransportAdvice,
} from './transport.js';

/** The process warnings the adapters emit, at most once each per adapter instance. */
export type WarningCode = 'STRONGROOM_INSECURE_TRANSPORT' | 'STRONGROOM_BODY_NOT_PARSED';

/** What the loader needs from the adapter: a few facts about its own request type. */
export interface LoaderHooks<Req> extends TransportAdvice {
  /** How to have the form body parsed before the middleware, for the body-not-parsed hint. */
  readonly parseBody: string;
  /** The request's `X-Forwarded-Proto` header(s). */
  forwardedProto(req: Req): string | readonly string[] | undefined;
  /** Whether the request announced a form body that no parser had read (`announcesFormBody`). */
  bodyNotParsed(req: Req): boolean;
}

export interface SessionLoader<Data extends SessionData, Req> {
  /** Loads the request's session; the first plain-HTTP request checks the transport first. */
  load(req: Req, context: RequestContext, sink: CookieSink): Promise<Session<Data>>;
  /** The load's error, its message completed where the app's setup caused it. */
  explain(error: unknown, req: Req): unknown;
}

/**
 * Loads sessions for one adapter instance, with its two set-up diagnostics, each emitted as a
 * process warning at most once per instance: `STRONGROOM_INSECURE_TRANSPORT` at the first
 * plain-HTTP request while the manager issues cookies over HTTPS only (such visitors stay
 * anonymous, and `login()` throws `InsecureTransportError`), and
 * `STRONGROOM_BODY_NOT_PARSED` when a form post failed CSRF with `token-missing` because its
 * body was not parsed yet (the error's message then says so too).
 */
export function createSessionLoader<Data extends SessionData, Req>(
  manager: SessionManager<Data>,
  hooks: LoaderHooks<Req>,
): SessionLoader<Data, Req> {
  const warnings = new Set<WarningCode>();
  const hint = bodyNotParsedHint(hooks.parseBody);
  let transportChecked = false;

  function warnOnce(code: WarningCode, message: string): void {
    if (warnings.has(code)) return;
    warnings.add(code);
    process.emitWarning(message, { type: 'StrongroomWarning', code });
  }

  /** Once, at the first plain-HTTP request: whether the manager would refuse it a cookie. */
  async function checkTransport(req: Req): Promise<void> {
    transportChecked = true;
    const forwarded = hooks.forwardedProto(req);
    try {
      const probe = await manager.load(PLAIN_HTTP_PROBE, DISCARDING_SINK);
      probe.csrfToken();
    } catch (error) {
      if (isStrongroomError(error, 'ERR_INSECURE_TRANSPORT'))
        warnOnce('STRONGROOM_INSECURE_TRANSPORT', insecureTransportWarning(hooks, forwarded));
    }
  }

  function load(req: Req, context: RequestContext, sink: CookieSink): Promise<Session<Data>> {
    return context.secure || transportChecked
      ? manager.load(context, sink)
      : checkTransport(req).then(() => manager.load(context, sink));
  }

  /** A form post whose token sat in a body nobody had parsed yet: say so, not just "missing". */
  function explain(error: unknown, req: Req): unknown {
    if (
      isStrongroomError(error, 'ERR_CSRF') &&
      error.reason === 'token-missing' &&
      hooks.bodyNotParsed(req)
    ) {
      error.message = `${error.message}. ${hint}`;
      warnOnce(
        'STRONGROOM_BODY_NOT_PARSED',
        `Strongroom: a form post failed its CSRF check (token-missing). ${hint}.`,
      );
    }
    return error;
  }

  return { load, explain };
}

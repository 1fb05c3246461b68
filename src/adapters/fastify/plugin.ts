import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
} from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { InvalidArgumentError } from '../../core/errors.js';
import type { Session, SessionData } from '../../core/session.js';
import { isSessionPrivate, varyFor } from '../shared/response-headers.js';
import type { SessionLoader } from '../shared/session-loader.js';
import { addVary, markPrivate } from './reply.js';
import { ARRIVED, FastifyRequestContext, noteArrival, requestPath } from './request.js';
import { mergeOurCookies, OUR_COOKIES, ReplyCookieSink, SENDING } from './set-cookie.js';

/** What one adapter instance's plugin is made of. */
export interface PluginParts<Data extends SessionData> {
  /** The request property, one per adapter instance, that holds the loaded session. */
  readonly slot: symbol;
  readonly loader: SessionLoader<Data, FastifyRequest>;
  readonly csrfModeFor: (path: string) => 'verify' | 'skip';
}

/**
 * The plugin of one adapter instance. Wrapped with `fastify-plugin`, so that its hooks and
 * declarations apply to the scope it is registered in and that scope's children, and not to
 * its siblings; the hooks themselves are made once here, never per request.
 */
export function createSessionPlugin<Data extends SessionData>(
  parts: PluginParts<Data>,
): FastifyPluginCallback {
  const { slot, loader, csrfModeFor } = parts;
  type Carrier = FastifyRequest & Record<symbol, Session<Data> | null | undefined>;

  /**
   * `preValidation`, not `onRequest`: Fastify reads and parses the body only after the
   * `onRequest` and `preParsing` hooks, and the `_csrf` field of a form post comes from the
   * parsed `request.body`. It is the first hook that sees it, and runs before any route's
   * `preHandler` (`auth.requireUser()`) or handler.
   */
  async function loadSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const context = new FastifyRequestContext(request, csrfModeFor(requestPath(request)));
    try {
      (request as Carrier)[slot] = await loader.load(request, context, new ReplyCookieSink(reply));
    } catch (error) {
      throw loader.explain(error, request);
    }
  }

  /**
   * `onSend`: our cookies last, no cache for an answer that carries or shows a session, and the
   * `Vary` entries again, in case the app replaced the header (`reply.header('vary', …)`).
   */
  function finishReply(
    request: FastifyRequest,
    reply: FastifyReply,
    payload: unknown,
    done: (error: null, payload: unknown) => void,
  ): void {
    addVary(reply, varyFor(request.method));
    const session = (request as Carrier)[slot];
    const setCookies = mergeOurCookies(reply);
    if (setCookies || (session != null && isSessionPrivate(session))) markPrivate(reply);
    done(null, payload);
  }

  function register(
    fastify: FastifyInstance,
    _options: unknown,
    done: HookHandlerDoneFunction,
  ): void {
    // Once per scope chain: a second registration would load every session twice.
    if (fastify.hasRequestDecorator(slot)) {
      done(
        new InvalidArgumentError(
          'This Strongroom plugin is already registered in this scope or a parent scope; register auth.plugin once',
        ),
      );
      return;
    }
    declareState(fastify, slot);
    fastify.addHook('onRequest', noteArrival);
    fastify.addHook('preValidation', loadSession);
    fastify.addHook('onSend', finishReply);
    done();
  }

  return fastifyPlugin(register, { fastify: '5.x', name: 'strongroom' });
}

/** Reads the session that the plugin of the same `slot` stored on the request. */
export function createSessionAccessor<Data extends SessionData>(
  slot: symbol,
): (request: FastifyRequest) => Session<Data> {
  type Carrier = FastifyRequest & Record<symbol, Session<Data> | null | undefined>;
  return function session(request) {
    const found = (request as Carrier)[slot];
    if (found === undefined || found === null) {
      throw new InvalidArgumentError(
        "No session on this request: register auth.plugin in this route's scope (or a parent scope), and read the session in a preHandler hook or the handler",
      );
    }
    return found;
  };
}

/**
 * Declares the properties the hooks set on requests and replies, so that Fastify creates every
 * request and reply with them (one shape, no property added later). The arrival and the cookies
 * are shared by every adapter instance: declared by the first one in the scope chain.
 */
function declareState(fastify: FastifyInstance, slot: symbol): void {
  fastify.decorateRequest(slot, null);
  if (!fastify.hasRequestDecorator(ARRIVED)) fastify.decorateRequest(ARRIVED, null);
  if (!fastify.hasReplyDecorator(OUR_COOKIES)) {
    fastify.decorateReply(OUR_COOKIES, null);
    fastify.decorateReply(SENDING, false);
  }
}

import type {
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerHookHandler,
} from 'fastify';
import { isStrongroomError } from '../../core/errors.js';
import type { Session, SessionData } from '../../core/session.js';
import { prefersHTML } from '../shared/accept.js';
import { answerError, jsonBody, type ErrorsMode } from '../shared/error-answers.js';
import {
  loginLocation,
  resolveLoginRedirect,
  UNAUTHENTICATED_BODY,
  type RequireUserOptions,
} from '../shared/require-user.js';
import { addVary, markPrivate, sendAnswer, sendBody } from './reply.js';

/**
 * The type of `FastifySessions.errorHandler`: an error handler for `app.setErrorHandler`.
 *
 * @example
 * ```ts
 * const handler: FastifyErrorHandler = auth.errorHandler;
 * app.setErrorHandler(handler);
 * ```
 */
export type FastifyErrorHandler = (
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
) => void;

/**
 * Answers Strongroom errors (see `FastifySessions.errorHandler`). Any other error is thrown
 * again: Fastify then hands it to the parent scope's error handler, or to its default one.
 */
export function createErrorHandler(mode: ErrorsMode): FastifyErrorHandler {
  return function strongroomErrorHandler(error, request, reply) {
    if (!isStrongroomError(error) || reply.raw.headersSent) throw error;
    sendAnswer(
      reply,
      answerError(error, mode, () => prefersHTML(request.headers.accept)),
    );
  };
}

/** A guard for routes that need a signed-in user (see `FastifySessions.requireUser`). */
export function createRequireUser<Data extends SessionData>(
  session: (request: FastifyRequest) => Session<Data>,
  options: RequireUserOptions = {},
): preHandlerHookHandler {
  const redirect = resolveLoginRedirect(options);
  // Throwing from a hook hands the error to Fastify's error handler, as `done(error)` would.
  return function requireUser(
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ): void {
    if (session(request).userId !== null) {
      done();
      return;
    }
    // Whether the visitor is signed in decides this answer: no cache may keep it (SM-48).
    markPrivate(reply);
    addVary(reply, 'Accept');
    // A hook that answers does not call `done`: Fastify skips the route.
    if (!prefersHTML(request.headers.accept)) sendBody(reply, 401, jsonBody(UNAUTHENTICATED_BODY));
    else reply.redirect(loginLocation(redirect, request.method, request.url), 303);
  };
}

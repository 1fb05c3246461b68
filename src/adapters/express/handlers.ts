import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { isStrongroomError } from '../../core/errors.js';
import type { Session, SessionData } from '../../core/session.js';
import { answerError, jsonBody, type ErrorsMode } from '../shared/error-answers.js';
import {
  loginLocation,
  resolveLoginRedirect,
  UNAUTHENTICATED_BODY,
  type RequireUserOptions,
} from '../shared/require-user.js';
import { prefersHTML } from './request.js';
import { markPrivate, sendAnswer, sendBody } from './response.js';

/** Answers Strongroom errors (see `ExpressSessions.errorHandler`); other errors pass through. */
export function createErrorHandler(mode: ErrorsMode): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!isStrongroomError(error) || res.headersSent) {
      next(error);
      return;
    }
    sendAnswer(
      res,
      answerError(error, mode, () => prefersHTML(req)),
    );
  };
}

/** A guard for routes that need a signed-in user (see `ExpressSessions.requireUser`). */
export function createRequireUser<Data extends SessionData>(
  session: (req: Request) => Session<Data>,
  options: RequireUserOptions = {},
): RequestHandler {
  const redirect = resolveLoginRedirect(options);
  return (req, res, next) => {
    let current: Session<Data>;
    try {
      current = session(req);
    } catch (error) {
      next(error);
      return;
    }
    if (current.userId !== null) {
      next();
      return;
    }
    // Whether the visitor is signed in decides this answer: no cache may keep it (SM-48).
    markPrivate(res);
    res.vary('Accept');
    if (!prefersHTML(req)) {
      sendBody(res, 401, jsonBody(UNAUTHENTICATED_BODY));
      return;
    }
    res.redirect(303, loginLocation(redirect, req.method, req.originalUrl));
  };
}

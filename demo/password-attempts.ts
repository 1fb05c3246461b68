import type { Request, Response } from 'express';
import type { DemoContext } from './demo-context.js';
import { clientKey, type LoginAttempt } from './login-throttle.js';
import { sendPage } from './pages.js';
import { wantsJSON } from './requests.js';
import { tooManyAttemptsJSON, tooManyAttemptsPage } from './too-many-attempts.js';
import { normaliseEmail } from './users.js';

/** Whom a failed password check counts against: this account, from this client. */
export function attemptOf(req: Request, email: string | null): LoginAttempt {
  return {
    account: email === null ? null : normaliseEmail(email),
    client: clientKey(req.ip ?? null),
  };
}

/**
 * 429 when this account or client has failed too often, before any password is checked;
 * false when the attempt may go ahead.
 */
export function refuseIfThrottled(
  context: DemoContext,
  req: Request,
  res: Response,
  attempt: LoginAttempt,
): boolean {
  const seconds = context.throttle.retryAfterSeconds(attempt);
  if (seconds === 0) return false;
  context.emit(req, 'login.throttled', {
    reason: req.path === '/login' ? 'login' : 'password-change',
  });
  res.setHeader('Retry-After', String(seconds));
  if (wantsJSON(req)) res.status(429).json(tooManyAttemptsJSON(seconds));
  else {
    const visitor = context.visitors.get(req);
    sendPage(res, 429, 'Too many attempts', visitor, tooManyAttemptsPage(seconds), null);
  }
  return true;
}

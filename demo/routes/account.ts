import type { Express, Request, Response } from 'express';
import { ReauthenticationRequiredError, type Session } from 'strongroom';
import { requireUser, type DemoContext } from '../demo-context.js';
import {
  currentPasswordWrong,
  newPasswordRejected,
  sendAccountPage,
  sendReauthenticationPage,
} from '../pages.js';
import { attemptOf, refuseIfThrottled } from '../password-attempts.js';
import { stringField } from '../requests.js';
import { isAcceptablePassword, MAX_PASSWORD_LENGTH } from '../users.js';

/** The account page and the password change: `/account`, `/account/password`. */
export function registerAccountRoutes(app: Express, context: DemoContext): void {
  app.get('/account', (req, res) => {
    const user = requireUser(context, req, res);
    if (user === null) return;
    sendAccountPage(res, context.visitors.get(req), user, 200, null);
  });
  app.post('/account/password', (req, res) => changePassword(context, req, res));
}

/** Whether the session signed in recently enough for a sensitive action (`freshAgeSeconds`). */
function isFresh(session: Session): boolean {
  try {
    session.requireFresh();
    return true;
  } catch (error) {
    if (!(error instanceof ReauthenticationRequiredError)) throw error;
    return false;
  }
}

async function changePassword(context: DemoContext, req: Request, res: Response): Promise<void> {
  const user = requireUser(context, req, res);
  if (user === null) return;
  const visitor = context.visitors.get(req);
  if (!isFresh(visitor.session)) {
    sendReauthenticationPage(res, visitor);
    return;
  }
  const current = stringField(req, 'current');
  const next = stringField(req, 'next');
  if (next === null || !isAcceptablePassword(next)) {
    sendAccountPage(res, visitor, user, 400, newPasswordRejected());
    return;
  }
  // A stolen session must not become a way to guess the password: same counters as sign-in.
  const attempt = attemptOf(req, user.email);
  if (refuseIfThrottled(context, req, res, attempt)) return;
  if (
    current === null ||
    current.length > MAX_PASSWORD_LENGTH ||
    !(await context.users.verifyPassword(user.id, current))
  ) {
    context.throttle.recordFailure(attempt);
    context.emit(req, 'login.failed', { reason: 'password-change' });
    sendAccountPage(res, visitor, user, 400, currentPasswordWrong());
    return;
  }
  context.throttle.recordSuccess(attempt);
  const credential = await context.users.setPassword(user.id, next);
  // SM-28: every other device signs in again; this one keeps going under a new token (SM-17)
  // bound to the new credential. A sign-in racing this with the old password is bound to the
  // old one and ends on its next request.
  await visitor.session.revokeOtherSessions();
  await visitor.session.regenerate({ credential });
  context.emit(req, 'password.changed', { userId: user.id });
  res.redirect(303, '/account');
}

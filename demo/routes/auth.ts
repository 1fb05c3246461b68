import type { Express, Request, Response } from 'express';
import { requireUser, type DemoContext } from '../demo-context.js';
import { sendLoginPage, sendSignupPage } from '../pages.js';
import { attemptOf, refuseIfThrottled } from '../password-attempts.js';
import { clearSiteData, stringField } from '../requests.js';
import {
  DuplicateEmailError,
  isAcceptablePassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseEmail,
  type User,
} from '../users.js';

/** Signing in, signing up and signing out: `/login`, `/signup`, `/logout`, `/logout-everywhere`. */
export function registerAuthRoutes(app: Express, context: DemoContext): void {
  app.get('/login', (req, res) => {
    sendLoginPage(res, context.visitors.get(req), 200, null);
  });
  app.post('/login', (req, res) => signIn(context, req, res));
  app.get('/signup', (req, res) => {
    sendSignupPage(res, context.visitors.get(req), 200, null);
  });
  app.post('/signup', (req, res) => signUp(context, req, res));
  app.post('/logout', (req, res) => signOut(context, req, res));
  app.post('/logout-everywhere', (req, res) => signOutEverywhere(context, req, res));
}

async function signIn(context: DemoContext, req: Request, res: Response): Promise<void> {
  const visitor = context.visitors.get(req);
  const email = stringField(req, 'email');
  const password = stringField(req, 'password');
  const attempt = attemptOf(req, email);
  if (refuseIfThrottled(context, req, res, attempt)) return;
  const user =
    email !== null && password !== null && password.length <= MAX_PASSWORD_LENGTH
      ? await context.users.verifyCredentials(email, password)
      : null;
  if (user === null) {
    context.throttle.recordFailure(attempt);
    context.emit(req, 'login.failed', { reason: 'credentials' });
    sendLoginPage(res, visitor, 401, 'Wrong email or password.');
    return;
  }
  context.throttle.recordSuccess(attempt);
  // SM-16/SM-17: a new token and a new session id; whatever the request carried is dead.
  await visitor.session.login(user.id, { credential: user.credential });
  res.redirect(303, '/account');
}

async function signUp(context: DemoContext, req: Request, res: Response): Promise<void> {
  const visitor = context.visitors.get(req);
  const rawEmail = stringField(req, 'email');
  const email = rawEmail === null ? null : normaliseEmail(rawEmail);
  const password = stringField(req, 'password');
  if (email === null) {
    sendSignupPage(res, visitor, 400, 'Please enter a valid email address.');
    return;
  }
  if (password === null || !isAcceptablePassword(password)) {
    const error = `The password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`;
    sendSignupPage(res, visitor, 400, error);
    return;
  }
  let user: User;
  try {
    user = await context.users.create(email, password);
  } catch (error) {
    if (!(error instanceof DuplicateEmailError)) throw error;
    sendSignupPage(
      res,
      visitor,
      409,
      'An account with this email already exists. Sign in instead.',
    );
    return;
  }
  context.emit(req, 'account.created', { userId: user.id });
  await visitor.session.login(user.id, { credential: user.credential });
  res.redirect(303, '/account');
}

/** SM-26: POST only (`GET /logout` is a 404), so a link or an image cannot sign anyone out. */
async function signOut(context: DemoContext, req: Request, res: Response): Promise<void> {
  if (requireUser(context, req, res) === null) return;
  await context.visitors.get(req).session.logout();
  clearSiteData(req, res);
  res.redirect(303, '/');
}

/** Ends every session of the user, the current one included. */
async function signOutEverywhere(context: DemoContext, req: Request, res: Response): Promise<void> {
  if (requireUser(context, req, res) === null) return;
  await context.visitors.get(req).session.revokeAllSessions();
  clearSiteData(req, res);
  res.redirect(303, '/');
}

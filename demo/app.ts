import { join } from 'node:path';
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import {
  createSessionManager,
  CSRFError,
  ReauthenticationRequiredError,
  type KeyInput,
  type Session,
  type SessionInfo,
  type SessionManager,
  type SessionManagerOptions,
  type SessionStore,
} from 'strongroom';
import { expressSessions } from 'strongroom/express';
import { csrfField, html, layout, type SafeHTML } from './html.js';
import {
  clientKey,
  createLoginThrottle,
  type LoginAttempt,
  type LoginThrottleOptions,
} from './login-throttle.js';
import { ensurePrivateDirectory, preparePrivateDatabase } from './private-files.js';
import { securityHeaders } from './security-headers.js';
import { tooManyAttemptsJSON, tooManyAttemptsPage } from './too-many-attempts.js';
import {
  DuplicateEmailError,
  isAcceptablePassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseEmail,
  openUserStore,
  type User,
  type UserStore,
} from './users.js';

export const DEFAULT_DEMO_EMAIL = 'alice@example.com';
export const DEFAULT_DEMO_PASSWORD = 'correct horse battery staple';

/** Values accepted by Express's `trust proxy` setting (a function is deliberately not offered). */
export type TrustProxy = boolean | number | string | readonly string[];

/** Something the demo itself noticed (the library's own events come from `sessions.on`). */
export interface DemoEvent {
  readonly type: 'login.failed' | 'login.throttled' | 'account.created' | 'password.changed';
  readonly at: Date;
  readonly sessionId: string | null;
  readonly userId: string | null;
  readonly ip: string | null;
  readonly reason: string | null;
}

export interface DemoOptions {
  /** Where sessions live. The demo does not close it: the caller owns it. */
  readonly store: SessionStore;
  /** Encryption keys for session data at rest, first one active. */
  readonly keys: readonly KeyInput[];
  /** Directory of `users.db` (created if missing, mode 0700; the database file 0600). */
  readonly dataDir: string;
  /** @default 1800 */
  readonly idleTimeoutSeconds?: number;
  /** @default 43200 */
  readonly absoluteTimeoutSeconds?: number;
  /** @default 900 */
  readonly rotationIntervalSeconds?: number;
  /** @default 30 */
  readonly rotationGraceSeconds?: number;
  /** How recent a login must be to change the password. @default 600 */
  readonly freshAgeSeconds?: number;
  /**
   * Passed to Express's `trust proxy`. Only then do `X-Forwarded-Proto` (Secure cookie,
   * `__Host-` name) and `X-Forwarded-For` (client IP) count.
   * @default false
   */
  readonly trustProxy?: TrustProxy;
  /**
   * The origins the app is served from (`https://app.example`), exactly as browsers send them
   * in `Origin`. Unsafe requests from anywhere else are refused (SM-41, SM-44).
   */
  readonly origins: readonly string[];
  /** @default 'alice@example.com' */
  readonly demoEmail?: string;
  /** @default 'correct horse battery staple' */
  readonly demoPassword?: string;
  /** A clock for the session manager (tests move it instead of sleeping). */
  readonly runtime?: { now(): number };
  /** Receives demo-level events (failed logins, new accounts, password changes). */
  readonly onEvent?: (event: DemoEvent) => void;
  /**
   * Limits on failed password checks (sign-in and password change), per account and per
   * client (SM-55). Its clock is `runtime`.
   * @default 5 per account and 20 per client in 15 minutes
   */
  readonly loginThrottle?: Omit<LoginThrottleOptions, 'now'>;
}

export interface DemoApp {
  readonly app: Express;
  readonly sessions: SessionManager;
  readonly users: UserStore;
  /** Closes the users database (not the session store, which the caller owns). */
  close(): Promise<void>;
}

interface Visitor {
  readonly session: Session;
  /** The signed-in, enabled user, or null. */
  readonly user: User | null;
}

/**
 * Builds the demo web application of DEMO-CONTRACT.md on Express 5.
 *
 * @example
 * ```ts
 * const demo = await createDemoApp({ store: createMemoryStore(), keys, dataDir: '.data' });
 * demo.app.listen(3000);
 * ```
 */
export async function createDemoApp(options: DemoOptions): Promise<DemoApp> {
  const demoEmail = normaliseEmail(options.demoEmail ?? DEFAULT_DEMO_EMAIL);
  const demoPassword = options.demoPassword ?? DEFAULT_DEMO_PASSWORD;
  if (demoEmail === null) throw new TypeError('demoEmail is not an email address');
  if (!isAcceptablePassword(demoPassword)) {
    throw new TypeError(
      `demoPassword must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }

  const runtime = options.runtime;
  const managerOptions: SessionManagerOptions = {
    store: options.store,
    keys: options.keys,
    // Plain http on 127.0.0.1 works for the demo; over https (or a trusted
    // X-Forwarded-Proto: https) the cookie is Secure and named __Host-sid automatically.
    cookie: { secure: 'allow-http-development' },
    // Every unsafe request is checked by the library before any route runs (SM-35..SM-42).
    csrf: { origins: options.origins },
    ...(options.idleTimeoutSeconds !== undefined && {
      idleTimeoutSeconds: options.idleTimeoutSeconds,
    }),
    ...(options.absoluteTimeoutSeconds !== undefined && {
      absoluteTimeoutSeconds: options.absoluteTimeoutSeconds,
    }),
    ...(options.rotationIntervalSeconds !== undefined && {
      rotationIntervalSeconds: options.rotationIntervalSeconds,
    }),
    ...(options.rotationGraceSeconds !== undefined && {
      rotationGraceSeconds: options.rotationGraceSeconds,
    }),
    ...(options.freshAgeSeconds !== undefined && { freshAgeSeconds: options.freshAgeSeconds }),
    ...(runtime !== undefined && { runtime: { now: () => runtime.now() } }),
    // SM-28: a session lives only as long as the credential it was signed in with, so a
    // sign-in that checked the old password while it was being changed dies on its next request.
    currentCredential: (userId) => {
      const user = users.findById(userId);
      return user === null || user.disabled ? null : user.credential;
    },
  };
  // Throws a ConfigError listing every problem before anything is opened.
  const sessions = createSessionManager(managerOptions);
  const now = (): Date => new Date(runtime?.now() ?? Date.now());

  // Owner-only (0700 / 0600): users.db holds the password hashes.
  ensurePrivateDirectory(options.dataDir);
  const usersPath = join(options.dataDir, 'users.db');
  preparePrivateDatabase(usersPath);
  const users = openUserStore({ path: usersPath });
  try {
    if (users.findByEmail(demoEmail) === null) await users.create(demoEmail, demoPassword);
  } catch (error) {
    // Another instance sharing the data directory created it first.
    if (!(error instanceof DuplicateEmailError)) {
      users.close();
      throw error;
    }
  }

  const auth = expressSessions(sessions);
  const visitors = new WeakMap<Request, Visitor>();
  const throttle = createLoginThrottle({
    ...options.loginThrottle,
    now: () => runtime?.now() ?? Date.now(),
  });

  function emit(
    req: Request,
    type: DemoEvent['type'],
    fields: { userId?: string | null; reason?: string },
  ): void {
    const session = visitors.get(req)?.session;
    options.onEvent?.({
      type,
      at: now(),
      sessionId: session?.id ?? null,
      userId: fields.userId ?? session?.userId ?? null,
      ip: req.ip ?? null,
      reason: fields.reason ?? null,
    });
  }

  function visitor(req: Request): Visitor {
    const found = visitors.get(req);
    if (found === undefined) throw new Error('visitor middleware did not run');
    return found;
  }

  function wantsJSON(req: Request): boolean {
    return req.path.startsWith('/api/') || req.accepts(['html', 'json']) === 'json';
  }

  function page(
    res: Response,
    status: number,
    title: string,
    v: { session: Session; user: User | null },
    body: SafeHTML,
    csrf: string | null,
  ): void {
    const token = csrf ?? (v.user === null ? null : v.session.csrfToken());
    res
      .status(status)
      .type('html')
      .send(layout({ title, email: v.user?.email ?? null, csrf: token, body }));
  }

  /** The library refused the request (and emitted `csrf.rejected`); nothing was changed. */
  const rejectCSRF: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (!(error instanceof CSRFError) || res.headersSent) {
      next(error);
      return;
    }
    if (wantsJSON(req)) {
      res
        .status(403)
        .json({ error: 'Forbidden: the request failed the cross-site request forgery check' });
      return;
    }
    res
      .status(403)
      .type('html')
      .send(
        layout({
          title: 'Request refused',
          email: null,
          csrf: null,
          body: html`<p class="error">
              This request failed the cross-site request forgery check, so nothing was changed.
            </p>
            <p><a href="/">Go back to the start page</a> and try again.</p>`,
        }),
      );
  };

  /** For routes that need a signed-in user: the user, or null after answering 303 / 401. */
  function requireUser(req: Request, res: Response): User | null {
    const { user } = visitor(req);
    if (user !== null) return user;
    if (wantsJSON(req)) res.status(401).json({ error: 'Not signed in' });
    else res.redirect(303, '/login');
    return null;
  }

  /** Whom a failed password check counts against: this account, from this client. */
  function attemptOf(req: Request, email: string | null): LoginAttempt {
    return {
      account: email === null ? null : normaliseEmail(email),
      client: clientKey(req.ip ?? null),
    };
  }

  /**
   * 429 when this account or client has failed too often, before any password is checked;
   * false when the attempt may go ahead.
   */
  function refuseIfThrottled(req: Request, res: Response, attempt: LoginAttempt): boolean {
    const seconds = throttle.retryAfterSeconds(attempt);
    if (seconds === 0) return false;
    emit(req, 'login.throttled', { reason: req.path === '/login' ? 'login' : 'password-change' });
    res.setHeader('Retry-After', String(seconds));
    if (wantsJSON(req)) res.status(429).json(tooManyAttemptsJSON(seconds));
    else page(res, 429, 'Too many attempts', visitor(req), tooManyAttemptsPage(seconds), null);
    return true;
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);

  // First, so that every answer carries them, errors and 404s included (SM-59: HSTS).
  app.use(securityHeaders());

  // The arrival before the bodies, so a slow upload's grace window counts from it (SM-20);
  // bodies before the session: the middleware reads the `_csrf` field from the parsed body.
  app.use(auth.arrival);
  app.use(express.urlencoded({ extended: false, limit: '16kb' }));
  app.use(express.json({ limit: '16kb' }));
  app.use(auth.middleware);

  // Resolves the signed-in user. A session whose account is gone or disabled ends here (SM-29).
  app.use(async (req, _res, next) => {
    const session = auth.session(req);
    let user: User | null = null;
    if (session.userId !== null) {
      user = users.findById(session.userId);
      if (user === null || user.disabled) {
        await session.logout();
        user = null;
      }
    }
    visitors.set(req, { session, user });
    next();
  });

  app.get('/', (req, res) => {
    const v = visitor(req);
    const body =
      v.user === null
        ? html`<p>You are not signed in.</p>
            <p><a href="/login">Sign in</a> or <a href="/signup">create an account</a>.</p>`
        : html`<p>You are signed in as <strong>${v.user.email}</strong>.</p>
            <p>
              <a href="/account">Your account</a> · <a href="/account/sessions">Your sessions</a>
            </p>`;
    page(res, 200, 'Welcome', v, body, null);
  });

  function loginPage(res: Response, v: Visitor, status: number, error: string | null): void {
    const csrf = v.session.csrfToken();
    const body = html`${error === null ? '' : html`<p class="error">${error}</p>`}
      ${v.user === null ? '' : html`<p class="note">You are signed in as ${v.user.email}; signing in again switches the account.</p>`}
      <form method="post" action="/login">
        ${csrfField(csrf)}
        <label>Email <input type="email" name="email" autocomplete="username" required /></label>
        <label
          >Password <input type="password" name="password" autocomplete="current-password" required
        /></label>
        <button>Sign in</button>
      </form>
      <p>No account? <a href="/signup">Create one</a>.</p>`;
    page(res, status, 'Sign in', v, body, csrf);
  }

  app.get('/login', (req, res) => {
    loginPage(res, visitor(req), 200, null);
  });

  app.post('/login', async (req, res) => {
    const v = visitor(req);
    const email = stringField(req, 'email');
    const password = stringField(req, 'password');
    const attempt = attemptOf(req, email);
    if (refuseIfThrottled(req, res, attempt)) return;
    const user =
      email !== null && password !== null && password.length <= MAX_PASSWORD_LENGTH
        ? await users.verifyCredentials(email, password)
        : null;
    if (user === null) {
      throttle.recordFailure(attempt);
      emit(req, 'login.failed', { reason: 'credentials' });
      loginPage(res, v, 401, 'Wrong email or password.');
      return;
    }
    throttle.recordSuccess(attempt);
    // SM-16/SM-17: a new token and a new session id; whatever the request carried is dead.
    await v.session.login(user.id, { credential: user.credential });
    res.redirect(303, '/account');
  });

  function signupPage(res: Response, v: Visitor, status: number, error: string | null): void {
    const csrf = v.session.csrfToken();
    const body = html`${error === null ? '' : html`<p class="error">${error}</p>`}
      <form method="post" action="/signup">
        ${csrfField(csrf)}
        <label>Email <input type="email" name="email" autocomplete="username" required /></label>
        <label
          >Password (at least ${MIN_PASSWORD_LENGTH} characters)
          <input
            type="password"
            name="password"
            autocomplete="new-password"
            minlength="${MIN_PASSWORD_LENGTH}"
            required
        /></label>
        <button>Create account</button>
      </form>`;
    page(res, status, 'Create an account', v, body, csrf);
  }

  app.get('/signup', (req, res) => {
    signupPage(res, visitor(req), 200, null);
  });

  app.post('/signup', async (req, res) => {
    const v = visitor(req);
    const rawEmail = stringField(req, 'email');
    const email = rawEmail === null ? null : normaliseEmail(rawEmail);
    const password = stringField(req, 'password');
    if (email === null) {
      signupPage(res, v, 400, 'Please enter a valid email address.');
      return;
    }
    if (password === null || !isAcceptablePassword(password)) {
      signupPage(
        res,
        v,
        400,
        `The password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`,
      );
      return;
    }
    let user: User;
    try {
      user = await users.create(email, password);
    } catch (error) {
      if (!(error instanceof DuplicateEmailError)) throw error;
      signupPage(res, v, 409, 'An account with this email already exists. Sign in instead.');
      return;
    }
    emit(req, 'account.created', { userId: user.id });
    await v.session.login(user.id, { credential: user.credential });
    res.redirect(303, '/account');
  });

  function accountPage(
    res: Response,
    v: Visitor,
    user: User,
    status: number,
    message: SafeHTML | null,
  ): void {
    const csrf = v.session.csrfToken();
    const s = v.session;
    const body = html`${message ?? ''}
      <p>Signed in as <strong>${user.email}</strong>.</p>
      <dl>
        <dt>Session created</dt>
        <dd><time>${s.createdAt}</time></dd>
        <dt>Signed in at</dt>
        <dd><time>${s.authenticatedAt}</time></dd>
        <dt>Ends if idle until</dt>
        <dd><time>${s.idleExpiresAt}</time></dd>
        <dt>Ends at the latest</dt>
        <dd><time>${s.absoluteExpiresAt}</time></dd>
      </dl>
      <p><a href="/account/sessions">Your sessions and devices</a></p>
      <h2>Change password</h2>
      <form method="post" action="/account/password">
        ${csrfField(csrf)}
        <label
          >Current password
          <input type="password" name="current" autocomplete="current-password" required
        /></label>
        <label
          >New password
          <input
            type="password"
            name="next"
            autocomplete="new-password"
            minlength="${MIN_PASSWORD_LENGTH}"
            required
        /></label>
        <button>Change password</button>
      </form>
      <p class="note">Changing the password signs out every other device.</p>
      <h2>Sign out</h2>
      <form method="post" action="/logout">${csrfField(csrf)}<button>Sign out</button></form>
      <form method="post" action="/logout-everywhere">
        ${csrfField(csrf)}<button>Sign out everywhere</button>
      </form>`;
    page(res, status, 'Your account', v, body, csrf);
  }

  app.get('/account', (req, res) => {
    const user = requireUser(req, res);
    if (user === null) return;
    accountPage(res, visitor(req), user, 200, null);
  });

  app.get('/api/me', (req, res) => {
    const user = requireUser(req, res);
    if (user === null) return;
    const { session } = visitor(req);
    res.json({
      email: user.email,
      sessionId: session.id,
      createdAt: iso(session.createdAt),
      authenticatedAt: iso(session.authenticatedAt),
      idleExpiresAt: iso(session.idleExpiresAt),
      absoluteExpiresAt: iso(session.absoluteExpiresAt),
    });
  });

  app.get('/account/sessions', async (req, res) => {
    const user = requireUser(req, res);
    if (user === null) return;
    const v = visitor(req);
    const list = await v.session.listSessions();
    const csrf = v.session.csrfToken();
    const rows = list.map(
      (info: SessionInfo) =>
        html`<tr>
          <td><time>${info.createdAt}</time></td>
          <td><time>${info.lastSeenAt}</time></td>
          <td>${info.userAgent ?? 'unknown'}</td>
          <td>${info.ip ?? 'unknown'}</td>
          <td>${info.current ? html`<strong>this device</strong>` : ''}</td>
          <td>
            <form method="post" action="/account/sessions/${encodeURIComponent(info.id)}/revoke">
              ${csrfField(csrf)}<button>${info.current ? 'Sign out' : 'Revoke'}</button>
            </form>
          </td>
        </tr>`,
    );
    const body = html`<p>
        ${list.length} active ${list.length === 1 ? 'session' : 'sessions'} for ${user.email}.
      </p>
      <table>
        <thead>
          <tr>
            <th>Created</th>
            <th>Last seen</th>
            <th>Browser</th>
            <th>IP address</th>
            <th></th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
      <form method="post" action="/logout-everywhere">
        ${csrfField(csrf)}<button>Sign out everywhere</button>
      </form>`;
    page(res, 200, 'Your sessions', v, body, csrf);
  });

  app.get('/api/sessions', async (req, res) => {
    const user = requireUser(req, res);
    if (user === null) return;
    const list = await visitor(req).session.listSessions();
    res.json(
      list.map((info) => ({
        id: info.id,
        current: info.current,
        createdAt: info.createdAt.toISOString(),
        lastSeenAt: info.lastSeenAt.toISOString(),
        userAgent: info.userAgent,
        ip: info.ip,
      })),
    );
  });

  app.post('/account/sessions/:id/revoke', async (req, res) => {
    if (requireUser(req, res) === null) return;
    const id = req.params.id;
    // Session.revokeSession only ends sessions of the signed-in user (SM-33, H-27): another
    // user's id looks exactly like an unknown one.
    if (typeof id !== 'string' || !(await visitor(req).session.revokeSession(id))) {
      notFound(req, res);
      return;
    }
    res.redirect(303, '/account/sessions');
  });

  app.post('/logout', async (req, res) => {
    if (requireUser(req, res) === null) return;
    await visitor(req).session.logout();
    clearSiteData(req, res);
    res.redirect(303, '/');
  });

  app.post('/logout-everywhere', async (req, res) => {
    if (requireUser(req, res) === null) return;
    await visitor(req).session.revokeAllSessions();
    clearSiteData(req, res);
    res.redirect(303, '/');
  });

  app.post('/account/password', async (req, res) => {
    const user = requireUser(req, res);
    if (user === null) return;
    const v = visitor(req);
    try {
      v.session.requireFresh();
    } catch (error) {
      if (!(error instanceof ReauthenticationRequiredError)) throw error;
      const body = html`<p class="error">Changing your password needs a recent sign-in.</p>
        <p><a href="/login">Sign in again</a>, then retry. Your password was not changed.</p>`;
      page(res, 401, 'Please sign in again', v, body, null);
      return;
    }
    const current = stringField(req, 'current');
    const next = stringField(req, 'next');
    if (next === null || !isAcceptablePassword(next)) {
      const message = html`<p class="error">
        The new password needs ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.
      </p>`;
      accountPage(res, v, user, 400, message);
      return;
    }
    // A stolen session must not become a way to guess the password: same counters as sign-in.
    const attempt = attemptOf(req, user.email);
    if (refuseIfThrottled(req, res, attempt)) return;
    if (
      current === null ||
      current.length > MAX_PASSWORD_LENGTH ||
      !(await users.verifyPassword(user.id, current))
    ) {
      throttle.recordFailure(attempt);
      emit(req, 'login.failed', { reason: 'password-change' });
      accountPage(res, v, user, 400, html`<p class="error">The current password is wrong.</p>`);
      return;
    }
    throttle.recordSuccess(attempt);
    const credential = await users.setPassword(user.id, next);
    // SM-28: every other device signs in again; this one keeps going under a new token (SM-17)
    // bound to the new credential. A sign-in racing this with the old password is bound to the
    // old one and ends on its next request.
    await v.session.revokeOtherSessions();
    await v.session.regenerate({ credential });
    emit(req, 'password.changed', { userId: user.id });
    res.redirect(303, '/account');
  });

  function notFound(req: Request, res: Response): void {
    if (wantsJSON(req)) {
      res.status(404).json({ error: 'Not found' });
      return;
    }
    const v = visitors.get(req);
    const body = html`<p>There is nothing here. <a href="/">Go to the start page</a>.</p>`;
    if (v === undefined)
      res
        .status(404)
        .type('html')
        .send(layout({ title: 'Not found', email: null, csrf: null, body }));
    else page(res, 404, 'Not found', v, body, null);
  }

  // Unknown routes, GET /logout included (logout is POST only, SM-26).
  app.use(notFound as RequestHandler);

  app.use(rejectCSRF);
  app.use(auth.errorHandler);
  const finalErrorHandler: ErrorRequestHandler = (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    // Malformed bodies, oversized payloads, bad URL encodings: the client's fault, never a 5xx.
    if (status >= 400 && status < 500) {
      const message = status === 413 ? 'Request too large' : 'Bad request';
      if (wantsJSON(req)) res.status(status).json({ error: message });
      else res.status(status).type('text/plain').send(message);
      return;
    }
    console.error('demo: unhandled error', error);
    if (wantsJSON(req)) res.status(500).json({ error: 'Internal server error' });
    else res.status(500).type('text/plain').send('Internal server error');
  };
  app.use(finalErrorHandler);

  return {
    app,
    sessions,
    users,
    close() {
      users.close();
      return Promise.resolve();
    },
  };
}

/**
 * SM-49: on sign-out the browser drops cached pages, cookies and storage of this origin. Only
 * over HTTPS: browsers ignore it on insecure origins, and it would also wipe other apps' data
 * sharing http://localhost.
 */
function clearSiteData(req: Request, res: Response): void {
  if (req.secure) res.setHeader('Clear-Site-Data', '"cache", "cookies", "storage"');
}

function stringField(req: Request, name: string): string | null {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, name)) return null;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : null;
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

function statusOf(error: unknown): number {
  if (typeof error !== 'object' || error === null) return 500;
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) ? value : 500;
}

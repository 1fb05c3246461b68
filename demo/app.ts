import { join } from 'node:path';
import express, { type Express, type Request } from 'express';
import { createSessionManager, type Session, type SessionManager } from 'strongroom';
import { expressSessions } from 'strongroom/express';
import type { DemoContext } from './demo-context.js';
import { createDemoEventEmitter } from './demo-events.js';
import { DEFAULT_DEMO_EMAIL, DEFAULT_DEMO_PASSWORD, type DemoOptions } from './demo-options.js';
import { finalErrorHandler, notFoundHandler, rejectCSRF } from './error-handlers.js';
import { createLoginThrottle } from './login-throttle.js';
import { ensurePrivateDirectory, preparePrivateDatabase } from './private-files.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerAPIRoutes } from './routes/api.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerHomeRoutes } from './routes/home.js';
import { registerSessionRoutes } from './routes/sessions.js';
import { securityHeaders } from './security-headers.js';
import { sessionManagerOptions } from './session-options.js';
import {
  DuplicateEmailError,
  isAcceptablePassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  normaliseEmail,
  openUserStore,
  type UserStore,
} from './users.js';
import { createVisitors } from './visitors.js';

export type { DemoEvent } from './demo-events.js';
export {
  DEFAULT_DEMO_EMAIL,
  DEFAULT_DEMO_PASSWORD,
  type DemoOptions,
  type TrustProxy,
} from './demo-options.js';

export interface DemoApp {
  readonly app: Express;
  readonly sessions: SessionManager;
  readonly users: UserStore;
  /** Closes the users database (not the session store, which the caller owns). */
  close(): Promise<void>;
}

/** The account that exists from the first start on. */
interface DemoAccount {
  readonly email: string;
  readonly password: string;
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
  const account = demoAccount(options);
  // Throws a ConfigError listing every problem before anything is opened. Accounts are looked
  // up only while requests run, by which time `users` is open.
  const sessions = createSessionManager(
    sessionManagerOptions(options, (userId) => users.findById(userId)),
  );
  const users = await openDemoUsers(options.dataDir, account);
  return {
    app: createExpressApp(options, sessions, users),
    sessions,
    users,
    close() {
      users.close();
      return Promise.resolve();
    },
  };
}

function demoAccount(options: DemoOptions): DemoAccount {
  const email = normaliseEmail(options.demoEmail ?? DEFAULT_DEMO_EMAIL);
  const password = options.demoPassword ?? DEFAULT_DEMO_PASSWORD;
  if (email === null) throw new TypeError('demoEmail is not an email address');
  if (!isAcceptablePassword(password)) {
    throw new TypeError(
      `demoPassword must have ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
  return { email, password };
}

/** Opens `<dataDir>/users.db` and creates the demo account unless it exists. */
async function openDemoUsers(dataDir: string, account: DemoAccount): Promise<UserStore> {
  // Owner-only (0700 / 0600): users.db holds the password hashes.
  ensurePrivateDirectory(dataDir);
  const usersPath = join(dataDir, 'users.db');
  preparePrivateDatabase(usersPath);
  const users = openUserStore({ path: usersPath });
  try {
    if (users.findByEmail(account.email) === null) {
      await users.create(account.email, account.password);
    }
  } catch (error) {
    // Another instance sharing the data directory created it first.
    if (!(error instanceof DuplicateEmailError)) {
      users.close();
      throw error;
    }
  }
  return users;
}

function createExpressApp(
  options: DemoOptions,
  sessions: SessionManager,
  users: UserStore,
): Express {
  const auth = expressSessions(sessions);
  const context = createContext(options, users, (req) => auth.session(req));
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
  app.use(context.visitors.middleware);

  registerHomeRoutes(app, context);
  registerAuthRoutes(app, context);
  registerAccountRoutes(app, context);
  registerSessionRoutes(app, context);
  registerAPIRoutes(app, context);

  app.use(notFoundHandler(context.visitors));
  app.use(rejectCSRF);
  app.use(auth.errorHandler);
  app.use(finalErrorHandler);
  return app;
}

function createContext(
  options: DemoOptions,
  users: UserStore,
  sessionOf: (req: Request) => Session,
): DemoContext {
  const runtime = options.runtime;
  const nowMs = (): number => runtime?.now() ?? Date.now();
  const visitors = createVisitors(users, sessionOf);
  return {
    users,
    visitors,
    throttle: createLoginThrottle({ ...options.loginThrottle, now: nowMs }),
    emit: createDemoEventEmitter({
      onEvent: options.onEvent,
      now: () => new Date(nowMs()),
      sessionOf: (req) => visitors.find(req)?.session,
    }),
  };
}

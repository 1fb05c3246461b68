import type { Request, RequestHandler } from 'express';
import type { Session } from 'strongroom';
import type { User, UserStore } from './users.js';

/** Who is making a request: the session, and the signed-in, enabled user or null. */
export interface Visitor {
  readonly session: Session;
  readonly user: User | null;
}

export interface Visitors {
  /**
   * Resolves the signed-in user of every request. A session whose account is gone or disabled
   * ends here (SM-29).
   */
  readonly middleware: RequestHandler;
  /** The visitor of a request the middleware has seen; throws for any other. */
  get(req: Request): Visitor;
  /** The visitor, or undefined when the request failed before the middleware ran. */
  find(req: Request): Visitor | undefined;
}

/**
 * @example
 * ```ts
 * const visitors = createVisitors(users, (req) => auth.session(req));
 * app.use(visitors.middleware);
 * app.get('/', (req, res) => res.send(visitors.get(req).user?.email ?? 'nobody'));
 * ```
 */
export function createVisitors(users: UserStore, sessionOf: (req: Request) => Session): Visitors {
  const visitors = new WeakMap<Request, Visitor>();

  async function resolveUser(session: Session): Promise<User | null> {
    if (session.userId === null) return null;
    const user = users.findById(session.userId);
    if (user !== null && !user.disabled) return user;
    await session.logout();
    return null;
  }

  return {
    middleware: async (req, _res, next) => {
      const session = sessionOf(req);
      visitors.set(req, { session, user: await resolveUser(session) });
      next();
    },
    get(req) {
      const found = visitors.get(req);
      if (found === undefined) throw new Error('visitor middleware did not run');
      return found;
    },
    find: (req) => visitors.get(req),
  };
}

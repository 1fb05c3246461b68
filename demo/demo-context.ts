import type { Request, Response } from 'express';
import type { EmitDemoEvent } from './demo-events.js';
import type { LoginThrottle } from './login-throttle.js';
import { wantsJSON } from './requests.js';
import type { User, UserStore } from './users.js';
import type { Visitors } from './visitors.js';

/** What the routes of one demo app share. */
export interface DemoContext {
  readonly users: UserStore;
  readonly visitors: Visitors;
  readonly throttle: LoginThrottle;
  readonly emit: EmitDemoEvent;
}

/** For routes that need a signed-in user: the user, or null after answering 303 / 401. */
export function requireUser(context: DemoContext, req: Request, res: Response): User | null {
  const { user } = context.visitors.get(req);
  if (user !== null) return user;
  if (wantsJSON(req)) res.status(401).json({ error: 'Not signed in' });
  else res.redirect(303, '/login');
  return null;
}

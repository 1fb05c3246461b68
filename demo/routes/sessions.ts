import type { Express, Request, Response } from 'express';
import { requireUser, type DemoContext } from '../demo-context.js';
import { sendNotFound } from '../error-handlers.js';
import { sendSessionsPage } from '../pages.js';

/** The user's sessions and devices: `/account/sessions`, `/account/sessions/:id/revoke`. */
export function registerSessionRoutes(app: Express, context: DemoContext): void {
  app.get('/account/sessions', (req, res) => showSessions(context, req, res));
  app.post('/account/sessions/:id/revoke', (req, res) => revokeSession(context, req, res));
}

async function showSessions(context: DemoContext, req: Request, res: Response): Promise<void> {
  const user = requireUser(context, req, res);
  if (user === null) return;
  const visitor = context.visitors.get(req);
  const list = await visitor.session.listSessions();
  sendSessionsPage(res, visitor, user, list);
}

async function revokeSession(context: DemoContext, req: Request, res: Response): Promise<void> {
  if (requireUser(context, req, res) === null) return;
  const id = req.params.id;
  // Session.revokeSession only ends sessions of the signed-in user (SM-33, H-27): another
  // user's id looks exactly like an unknown one.
  if (typeof id !== 'string' || !(await context.visitors.get(req).session.revokeSession(id))) {
    sendNotFound(context.visitors, req, res);
    return;
  }
  res.redirect(303, '/account/sessions');
}

import type { Express, Request, Response } from 'express';
import { requireUser, type DemoContext } from '../demo-context.js';

/** JSON for fetch callers: `/api/me`, `/api/sessions`. Not signed in: 401 `{ "error" }`. */
export function registerAPIRoutes(app: Express, context: DemoContext): void {
  app.get('/api/me', (req, res) => {
    describeMe(context, req, res);
  });
  app.get('/api/sessions', (req, res) => listSessions(context, req, res));
}

function describeMe(context: DemoContext, req: Request, res: Response): void {
  const user = requireUser(context, req, res);
  if (user === null) return;
  const { session } = context.visitors.get(req);
  res.json({
    email: user.email,
    sessionId: session.id,
    createdAt: iso(session.createdAt),
    authenticatedAt: iso(session.authenticatedAt),
    idleExpiresAt: iso(session.idleExpiresAt),
    absoluteExpiresAt: iso(session.absoluteExpiresAt),
  });
}

async function listSessions(context: DemoContext, req: Request, res: Response): Promise<void> {
  const user = requireUser(context, req, res);
  if (user === null) return;
  const list = await context.visitors.get(req).session.listSessions();
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
}

function iso(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

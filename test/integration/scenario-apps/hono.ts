import { Hono } from 'hono';
import { createSessionManager } from '../../../src/index.js';
import { honoSessions, type SessionEnv } from '../../../src/adapters/hono.js';
import { SCENARIO_ROUTES, type ScenarioData, type StartApp } from '../adapter-scenarios.js';
import { honoLoopbackProxy, serveHono } from '../hono-helpers.js';

/**
 * The scenario app on Hono and its Node server: the only Hono-specific part of the adapter
 * scenarios. Each route parses the form with `c.req.parseBody()` after the middleware ran.
 */
export const startHonoApp: StartApp = async ({ manager }) => {
  const auth = honoSessions(createSessionManager<ScenarioData>(manager), {
    connection: honoLoopbackProxy,
  });
  const app = new Hono<SessionEnv<ScenarioData>>();
  app.use(auth.middleware);
  for (const route of SCENARIO_ROUTES) {
    app.on(route.method, route.path, async (c) => {
      const form = route.method === 'POST' ? await c.req.parseBody() : {};
      const answer = await route.run(c.var.session, form);
      if (answer.json === undefined) return c.body(null, answer.status as 204);
      return c.json(answer.json, answer.status as 200);
    });
  }
  return serveHono(app);
};

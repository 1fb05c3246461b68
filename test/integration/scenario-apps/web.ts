import { createSessionManager } from '../../../src/index.js';
import { webSessions } from '../../../src/adapters/web.js';
import { SCENARIO_ROUTES, type ScenarioData, type StartApp } from '../adapter-scenarios.js';
import { bridgedConnection, serveWeb } from '../web-helpers.js';

/**
 * The scenario app on the web adapter behind a node:http bridge: the only web-specific part of
 * the adapter scenarios. Each route parses its own urlencoded body after the session loaded,
 * which shows that reading `_csrf` left the body whole.
 */
export const startWebApp: StartApp = async ({ manager }) => {
  const auth = webSessions(createSessionManager<ScenarioData>(manager), {
    connection: bridgedConnection,
  });
  const routes = new Map(
    SCENARIO_ROUTES.map((route) => [
      `${route.method} ${route.path}`,
      auth.handler(async (request, session) => {
        const form = Object.fromEntries(new URLSearchParams(await request.text()));
        const answer = await route.run(session, form);
        if (answer.json === undefined) return new Response(null, { status: answer.status });
        return Response.json(answer.json, { status: answer.status });
      }),
    ]),
  );
  return serveWeb((request) => {
    const route = routes.get(`${request.method} ${new URL(request.url).pathname}`);
    return route === undefined ? new Response(null, { status: 404 }) : route(request);
  });
};

// Bare Fetch API handler behind the node:http bridge: the baseline of Strongroom's web adapter
// (bench/servers/strongroom-web.mjs).
import { listen, LOGIN_BODY, meBody, PROFILE } from './common.mjs';
import { createWebServer } from './web-bridge.mjs';

const server = createWebServer(async (request) => {
  const { pathname } = new URL(request.url);
  if (request.method === 'GET' && pathname === '/me')
    return Response.json(meBody('user-0', PROFILE));
  if (request.method === 'POST' && pathname === '/login') return Response.json(LOGIN_BODY);
  return Response.json({ error: 'not found' }, { status: 404 });
});
listen(server);

// Strongroom's web adapter (Request/Response) behind the same node:http bridge as bare-web.mjs;
// store from BENCH_STORE.
import { fail, listen, LOGIN_BODY, meBody, nextUserId, PROFILE } from './common.mjs';
import { createBenchManager, importStrongroom, openStrongroomStore } from './strongroom.mjs';
import { createWebServer } from './web-bridge.mjs';

try {
  const store = await openStrongroomStore(process.env.BENCH_STORE ?? 'memory');
  const manager = await createBenchManager(store);
  const { webSessions } = await importStrongroom('adapter:web');
  const auth = webSessions(manager);

  const me = auth.handler((_request, session) => {
    if (session.userId === null)
      return Response.json({ error: 'unauthenticated' }, { status: 401 });
    return Response.json(meBody(session.userId, session.get('profile')));
  });
  const csrf = auth.handler((_request, session) => Response.json({ token: session.csrfToken() }));
  const login = auth.handler(async (_request, session) => {
    await session.login(nextUserId(), { data: { profile: PROFILE } });
    return Response.json(LOGIN_BODY);
  });

  const server = createWebServer((request) => {
    const { pathname } = new URL(request.url);
    if (request.method === 'GET' && pathname === '/me') return me(request);
    if (request.method === 'GET' && pathname === '/csrf') return csrf(request);
    if (request.method === 'POST' && pathname === '/login') return login(request);
    return Response.json({ error: 'not found' }, { status: 404 });
  });
  listen(server, () => store.close());
} catch (error) {
  fail(error);
}

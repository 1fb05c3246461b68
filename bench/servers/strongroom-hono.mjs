// Strongroom on its Hono adapter, on Hono's Node server; store from BENCH_STORE.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { announce, fail, LOGIN_BODY, meBody, nextUserId, PROFILE } from './common.mjs';
import { createBenchManager, importStrongroom, openStrongroomStore } from './strongroom.mjs';

try {
  const store = await openStrongroomStore(process.env.BENCH_STORE ?? 'memory');
  const manager = await createBenchManager(store);
  const { honoSessions } = await importStrongroom('adapter:hono');
  const auth = honoSessions(manager);

  const app = new Hono();
  app.use(auth.middleware);
  app.get('/me', (c) => {
    const { session } = c.var;
    if (session.userId === null) return c.json({ error: 'unauthenticated' }, 401);
    return c.json(meBody(session.userId, session.get('profile')));
  });
  app.get('/csrf', (c) => c.json({ token: c.var.session.csrfToken() }));
  app.post('/login', async (c) => {
    await c.var.session.login(nextUserId(), { data: { profile: PROFILE } });
    return c.json(LOGIN_BODY);
  });
  const server = serve(
    { fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' },
    (info) =>
      announce(info.port, async () => {
        await new Promise((resolve) => server.close(resolve));
        await store.close();
      }),
  );
} catch (error) {
  fail(error);
}

// Bare Hono on its Node server (@hono/node-server), the baseline of Strongroom's Hono adapter.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { announce, fail, LOGIN_BODY, meBody, PROFILE } from './common.mjs';

try {
  const app = new Hono();
  app.get('/me', (c) => c.json(meBody('user-0', PROFILE)));
  app.post('/login', (c) => c.json(LOGIN_BODY));
  const server = serve(
    { fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' },
    (info) => announce(info.port, () => new Promise((resolve) => server.close(resolve))),
  );
} catch (error) {
  fail(error);
}

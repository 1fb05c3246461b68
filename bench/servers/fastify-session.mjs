// @fastify/session (with @fastify/cookie) and its built-in MemoryStore.
// saveUninitialized false; rolling stays at its default (true): the session is saved and the
// cookie re-sent on every request, which is how it renews the 30-minute idle expiry.
import Fastify from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import {
  announce,
  fail,
  IDLE_SECONDS,
  LOGIN_BODY,
  meBody,
  nextUserId,
  PROFILE,
  randomSecret,
} from './common.mjs';

try {
  const app = Fastify({ logger: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: randomSecret(48),
    cookieName: 'sid',
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: IDLE_SECONDS * 1000 },
  });
  app.get('/me', async (request, reply) => {
    const userId = request.session.get('userId');
    if (!userId) return reply.code(401).send({ error: 'unauthenticated' });
    return meBody(userId, request.session.get('profile'));
  });
  app.post('/login', async (request) => {
    await request.session.regenerate();
    request.session.set('userId', nextUserId());
    request.session.set('profile', PROFILE);
    return LOGIN_BODY;
  });
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  announce(app.server.address().port, () => app.close());
} catch (error) {
  fail(error);
}

// @fastify/secure-session: the whole session sealed into the cookie (libsodium secretbox), no
// server-side store. GET /me calls touch() to renew the 30-minute expiry (the cookie is then
// re-sealed and re-sent); login has nothing to regenerate, it just writes the new data.
import Fastify from 'fastify';
import fastifySecureSession from '@fastify/secure-session';
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
  await app.register(fastifySecureSession, {
    key: randomSecret(32, 'buffer'),
    cookieName: 'sid',
    expiry: IDLE_SECONDS,
    cookie: { path: '/', httpOnly: true, secure: false, sameSite: 'lax' },
  });
  app.get('/me', async (request, reply) => {
    const userId = request.session.get('userId');
    if (!userId) return reply.code(401).send({ error: 'unauthenticated' });
    request.session.touch();
    return meBody(userId, request.session.get('profile'));
  });
  app.post('/login', async (request) => {
    request.session.set('userId', nextUserId());
    request.session.set('profile', PROFILE);
    return LOGIN_BODY;
  });
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  announce(app.server.address().port, () => app.close());
} catch (error) {
  fail(error);
}

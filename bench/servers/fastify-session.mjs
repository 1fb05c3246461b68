// @fastify/session (with @fastify/cookie); store from BENCH_STORE: memory (its built-in
// MemoryStore) or redis (connect-redis + node-redis through its express-session-compatible
// interface, as @fastify/session's README shows).
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

async function openStore(kind) {
  if (kind === 'memory') return { store: undefined, close: async () => {} };
  if (kind !== 'redis') throw new Error(`Unknown @fastify/session store "${kind}"`);
  const { createClient } = await import('redis');
  const { RedisStore } = await import('connect-redis');
  const client = createClient({ url: process.env.BENCH_REDIS_URL });
  client.on('error', (error) => console.error('redis:', error.message));
  await client.connect();
  return {
    store: new RedisStore({ client, prefix: 'bench-fs:', ttl: IDLE_SECONDS }),
    close: () => client.quit(),
  };
}

try {
  const { store, close } = await openStore(process.env.BENCH_STORE ?? 'memory');
  const app = Fastify({ logger: false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: randomSecret(48),
    cookieName: 'sid',
    saveUninitialized: false,
    ...(store === undefined ? {} : { store }),
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
  announce(app.server.address().port, async () => {
    await app.close();
    await close();
  });
} catch (error) {
  fail(error);
}

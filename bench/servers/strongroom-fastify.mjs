// Strongroom on its Fastify plugin; store from BENCH_STORE.
import Fastify from 'fastify';
import { announce, fail, LOGIN_BODY, meBody, nextUserId, PROFILE } from './common.mjs';
import { createBenchManager, importStrongroom, openStrongroomStore } from './strongroom.mjs';

try {
  const store = await openStrongroomStore(process.env.BENCH_STORE ?? 'memory');
  const manager = await createBenchManager(store);
  const { fastifySessions } = await importStrongroom('adapter:fastify');
  const auth = fastifySessions(manager);

  const app = Fastify({ logger: false });
  await app.register(auth.plugin);
  app.setErrorHandler(auth.errorHandler);
  app.get('/me', async (request, reply) => {
    const session = auth.session(request);
    if (session.userId === null) return reply.code(401).send({ error: 'unauthenticated' });
    return meBody(session.userId, session.get('profile'));
  });
  app.get('/csrf', async (request) => ({ token: auth.session(request).csrfToken() }));
  app.post('/login', async (request) => {
    await auth.session(request).login(nextUserId(), { data: { profile: PROFILE } });
    return LOGIN_BODY;
  });
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  announce(app.server.address().port, async () => {
    await app.close();
    await store.close();
  });
} catch (error) {
  fail(error);
}

// Bare Fastify (defaults, no logger), the baseline of the @fastify/* variants.
import Fastify from 'fastify';
import { announce, fail, LOGIN_BODY, meBody, PROFILE } from './common.mjs';

const app = Fastify({ logger: false });
app.get('/me', async () => meBody('user-0', PROFILE));
app.post('/login', async () => LOGIN_BODY);
try {
  await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  announce(app.server.address().port, () => app.close());
} catch (error) {
  fail(error);
}

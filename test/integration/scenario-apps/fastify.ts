import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { createSessionManager } from '../../../src/index.js';
import { fastifySessions } from '../../../src/adapters/fastify.js';
import { SCENARIO_ROUTES, type StartApp } from '../adapter-scenarios.js';

/** The scenario app on Fastify: the only Fastify-specific part of the adapter scenarios. */
export const startFastifyApp: StartApp = async ({ manager }) => {
  const auth = fastifySessions(createSessionManager(manager));
  const app = Fastify({ trustProxy: 'loopback' });
  await app.register(formbody);
  await app.register(auth.plugin);
  for (const route of SCENARIO_ROUTES) {
    app.route({
      method: route.method,
      url: route.path,
      async handler(request, reply) {
        const answer = await route.run(auth.session(request), request.body ?? {});
        reply.code(answer.status);
        return answer.json === undefined ? reply.send() : reply.send(answer.json);
      },
    });
  }
  app.setErrorHandler(auth.errorHandler);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
};

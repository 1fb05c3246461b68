// npm init -y && npm pkg set type=module && npm install strongroom fastify @fastify/formbody better-sqlite3
// npm install -D typescript @types/node && npx tsc --init --types node
// npx tsc && STRONGROOM_KEYS="$(npx strongroom keygen)" node app.js   # then open /login
import formBody from '@fastify/formbody';
import Fastify, { type FastifyRequest } from 'fastify';
import { createSessionManager, parseKeyList } from 'strongroom';
import { fastifySessions } from 'strongroom/fastify';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
const port = Number(process.env.PORT ?? 3000);
const sessions = createSessionManager({
  store: createSQLiteStore({ path: 'sessions.db' }),
  keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
  csrf: { origins: [`http://localhost:${port}`] }, // where your pages are served from
  cookie: { secure: 'allow-http-development' }, // http://localhost only: delete it behind HTTPS
});
const auth = fastifySessions(sessions, { errors: 'negotiate' }); // error pages for browsers
const csrfField = (request: FastifyRequest): string =>
  `<input type="hidden" name="_csrf" value="${auth.session(request).csrfToken()}">`;
const app = Fastify();
app.register(formBody).register(auth.plugin).setErrorHandler(auth.errorHandler); // 503, 401, 403
app.get('/login', async (request, reply) =>
  reply.type('text/html').send(`<form method="post">${csrfField(request)}<input name="email">
    <input name="password" type="password"><button>Sign in</button></form>`),
);
app.post('/login', async (request, reply) => {
  const { email, password } = request.body as Record<string, unknown>; // yours: verify a hash
  if (email !== 'alice@example.com' || password !== 'correct horse battery staple')
    return reply.code(401).send('Wrong email or password');
  await auth.session(request).login('alice'); // new token, new session id
  return reply.redirect('/account', 303);
});
app.get('/account', { preHandler: auth.requireUser() }, async (request, reply) =>
  reply.type('text/html').send(`Signed in as ${auth.session(request).userId}.
    <form method="post" action="/logout">${csrfField(request)}<button>Sign out</button></form>`),
);
app.post('/logout', async (request, reply) => {
  await auth.session(request).logout(); // deleted on the server, cookie expired
  return reply.redirect('/login', 303);
});
void app.listen({ port }).then(() => console.log(`Listening on http://localhost:${port}/login`));

// npm init -y && npm pkg set type=module && npm install strongroom hono @hono/node-server better-sqlite3
// npm install -D typescript @types/node && npx tsc --init --types node
// npx tsc && STRONGROOM_KEYS="$(npx strongroom keygen)" node app.js   # then open /login
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { createSessionManager, parseKeyList } from 'strongroom';
import { honoSessions, type SessionEnv } from 'strongroom/hono';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
const port = Number(process.env.PORT ?? 3000);
const sessions = createSessionManager({
  store: createSQLiteStore({ path: 'sessions.db' }),
  keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
  csrf: { origins: [`http://localhost:${port}`] }, // where your pages are served from
  cookie: { secure: 'allow-http-development' }, // http://localhost only: delete it behind HTTPS
});
const auth = honoSessions(sessions, { errors: 'negotiate' }); // error pages for browsers
const csrfField = (c: Context<SessionEnv>): string =>
  `<input type="hidden" name="_csrf" value="${c.var.session.csrfToken()}">`;
const app = new Hono<SessionEnv>();
app.use(auth.middleware); // also answers session errors: 503 on a store outage, 401, 403
app.get('/login', (c) =>
  c.html(`<form method="post">${csrfField(c)}<input name="email">
    <input name="password" type="password"><button>Sign in</button></form>`),
);
app.post('/login', async (c) => {
  const { email, password } = await c.req.parseBody(); // yours: verify a password hash
  if (email !== 'alice@example.com' || password !== 'correct horse battery staple')
    return c.text('Wrong email or password', 401);
  await c.var.session.login('alice'); // new token, new session id
  return c.redirect('/account', 303);
});
app.get('/account', auth.requireUser(), (c) =>
  c.html(`Signed in as ${c.var.session.userId}.
    <form method="post" action="/logout">${csrfField(c)}<button>Sign out</button></form>`),
);
app.post('/logout', async (c) => {
  await c.var.session.logout(); // deleted on the server, cookie expired
  return c.redirect('/login', 303);
});
serve({ fetch: app.fetch, port }, () => console.log(`Listening on http://localhost:${port}/login`));

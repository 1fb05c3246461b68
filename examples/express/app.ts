// npm init -y && npm pkg set type=module && npm install strongroom express better-sqlite3
// npm install -D typescript @types/express @types/node && npx tsc --init --types node
// npx tsc && STRONGROOM_KEYS="$(npx strongroom keygen)" node app.js   # then open /login
import express from 'express';
import { createSessionManager, parseKeyList } from 'strongroom';
import { expressSessions } from 'strongroom/express';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
const port = Number(process.env.PORT ?? 3000);
const sessions = createSessionManager<{ cart: string[] }>({
  store: createSQLiteStore({ path: 'sessions.db' }),
  keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
  csrf: { origins: [`http://localhost:${port}`] }, // where your pages are served from
  cookie: { secure: 'allow-http-development' }, // http://localhost only: delete it behind HTTPS
});
const auth = expressSessions(sessions, { errors: 'negotiate' }); // error pages for browsers
const csrfField = (req: express.Request): string =>
  `<input type="hidden" name="_csrf" value="${auth.session(req).csrfToken()}">`;
const app = express();
app.use(auth.arrival, express.urlencoded({ extended: false }), auth.middleware); // bodies between
app.get('/login', (req, res) => {
  res.send(`<form method="post">${csrfField(req)}<input name="email">
    <input name="password" type="password"><button>Sign in</button></form>`);
});
app.post('/login', async (req, res) => {
  const { email, password } = req.body as Record<string, unknown>; // yours: verify a scrypt hash
  if (email !== 'alice@example.com' || password !== 'correct horse battery staple')
    return res.status(401).send('Wrong email or password');
  await auth.session(req).login('alice', { keep: ['cart'] }); // new token, new session id
  res.redirect(303, '/account');
});
app.get('/account', auth.requireUser(), (req, res) => {
  res.send(`Signed in as ${auth.session(req).userId}.
    <form method="post" action="/logout">${csrfField(req)}<button>Sign out</button></form>`);
});
app.post('/logout', async (req, res) => {
  await auth.session(req).logout(); // deleted on the server, cookie expired
  res.redirect(303, '/login');
});
app.use(auth.errorHandler); // 503 on a store outage, 401/403 for session and CSRF errors
app.listen(port, () => console.log(`Listening on http://localhost:${port}/login`));

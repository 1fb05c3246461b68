// npm init -y && npm pkg set type=module && npm install strongroom @hono/node-server better-sqlite3
// npm install -D typescript @types/node && npx tsc --init --types node
// npx tsc && STRONGROOM_KEYS="$(npx strongroom keygen)" node app.js   # then open /login
import { serve } from '@hono/node-server'; // or any Fetch host: Deno.serve, Bun.serve, workers
import { createSessionManager, parseKeyList, type Session } from 'strongroom';
import { webSessions } from 'strongroom/web';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
const port = Number(process.env.PORT ?? 3000);
const sessions = createSessionManager({
  store: createSQLiteStore({ path: 'sessions.db' }),
  keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''),
  csrf: { origins: [`http://localhost:${port}`] }, // where your pages are served from
  cookie: { secure: 'allow-http-development' }, // http://localhost only: delete it behind HTTPS
});
const auth = webSessions(sessions, { errors: 'negotiate' }); // error pages for browsers
const csrf = (s: Session): string => `<input type="hidden" name="_csrf" value="${s.csrfToken()}">`;
const html = (body: string, status = 200): Response =>
  new Response(body, { status, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
const fetch = auth.handler(async (request, session) => {
  const route = `${request.method} ${new URL(request.url).pathname}`;
  if (route === 'GET /login')
    return html(`<form method="post">${csrf(session)}<input name="email">
      <input name="password" type="password"><button>Sign in</button></form>`);
  if (route === 'POST /login') {
    const { email, password } = Object.fromEntries(await request.formData()); // yours: a hash
    if (email !== 'alice@example.com' || password !== 'correct horse battery staple')
      return html('Wrong email or password', 401);
    await session.login('alice'); // new token, new session id
    return Response.redirect(new URL('/account', request.url), 303);
  }
  if (route === 'POST /logout') {
    await session.logout(); // deleted on the server, cookie expired
    return Response.redirect(new URL('/login', request.url), 303);
  }
  if (route !== 'GET /account') return html('Not found', 404);
  if (session.userId === null) return auth.unauthenticated(request); // 303 to /login, or 401
  return html(`Signed in as ${session.userId}.
    <form method="post" action="/logout">${csrf(session)}<button>Sign out</button></form>`);
});
serve({ fetch, port }, () => console.log(`Listening on http://localhost:${port}/login`));

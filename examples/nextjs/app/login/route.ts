// app/login/route.ts: the sign-in form (GET) and the sign-in itself (POST).
import { auth, checkPassword, csrfField, page, seeOther } from '../../lib/auth.js';

export const runtime = 'nodejs'; // SQLite and node:crypto: not the Edge runtime
export const dynamic = 'force-dynamic'; // an answer per visitor: never prerendered

export const GET = auth.handler((_request, session) =>
  page(`<form method="post">${csrfField(session)}<input name="email" type="email">
    <input name="password" type="password"><button>Sign in</button></form>`),
);

// The adapter checked _csrf before this runs, reading it from a copy: the body is still yours.
export const POST = auth.handler(async (request, session) => {
  const form = await request.formData();
  const user = await checkPassword(form.get('email'), form.get('password'));
  if (!user) return page('Wrong email or password', 401);
  await session.login(user.id); // new token, new session id
  return seeOther('/account');
});

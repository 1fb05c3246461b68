// app/logout/route.ts: POST only (a GET logout could be triggered by any page, SM-26).
import { auth, seeOther } from '../../lib/auth.js';

export const runtime = 'nodejs';

export const POST = auth.handler(async (_request, session) => {
  await session.logout(); // deleted on the server, cookie expired
  return seeOther('/login');
});

// app/account/route.ts: only for signed-in users.
import { auth, csrfField, page } from '../../lib/auth.js';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// Signed out: a browser is sent to /login (303), fetch() and API clients get 401 JSON.
export const GET = auth.handler(
  (_request, session) =>
    page(`Signed in as ${session.userId}.
      <form method="post" action="/logout">${csrfField(session)}<button>Sign out</button></form>`),
  { requireUser: true },
);

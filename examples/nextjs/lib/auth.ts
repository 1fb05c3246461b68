// The session manager and its adapter, shared by every route handler (import '@/lib/auth').
import { createSessionManager, parseKeyList, type Session } from 'strongroom';
import { webSessions } from 'strongroom/web';
import { createSQLiteStore } from 'strongroom/stores/sqlite';

const sessions = createSessionManager({
  store: createSQLiteStore({ path: process.env.STRONGROOM_DB ?? 'sessions.db' }),
  keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''), // npx strongroom keygen
  csrf: { origins: [process.env.APP_ORIGIN ?? 'http://localhost:3000'] }, // your pages' origin
  // `next dev` serves http://localhost; anything else gets HTTPS-only cookies.
  cookie: { secure: process.env.NODE_ENV === 'development' ? 'allow-http-development' : 'always' },
});
export const auth = webSessions(sessions, { errors: 'negotiate' }); // error pages for browsers

export const csrfField = (session: Session): string =>
  `<input type="hidden" name="_csrf" value="${session.csrfToken()}">`;

export const page = (body: string, status = 200): Response =>
  new Response(`<!doctype html><meta charset="utf-8">${body}`, {
    status,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
  });

/** 303 See Other: after a form post, the browser GETs `path`. */
export const seeOther = (path: string): Response =>
  new Response(null, { status: 303, headers: { Location: path } });

// Yours: find the user and verify their password hash (scrypt, argon2). This stub knows one.
export function checkPassword(email: unknown, password: unknown): Promise<{ id: string } | null> {
  const known = email === 'alice@example.com' && password === 'correct horse battery staple';
  return Promise.resolve(known ? { id: 'alice' } : null);
}

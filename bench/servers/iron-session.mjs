// iron-session on node:http: the session sealed into the cookie (iron: AES-256-CBC +
// HMAC-SHA256), no server-side store. GET /me calls save() to renew the 30-minute ttl (the
// cookie is re-sealed and re-sent); login has nothing to regenerate, it writes and saves.
import { createServer } from 'node:http';
import { getIronSession } from 'iron-session';
import {
  IDLE_SECONDS,
  listen,
  LOGIN_BODY,
  meBody,
  nextUserId,
  PROFILE,
  randomSecret,
} from './common.mjs';

const options = {
  password: randomSecret(32),
  cookieName: 'sid',
  ttl: IDLE_SECONDS,
  cookieOptions: { httpOnly: true, secure: false, sameSite: 'lax', path: '/' },
};

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

async function handle(req, res) {
  if (req.method === 'GET' && req.url === '/me') {
    const session = await getIronSession(req, res, options);
    if (!session.userId) return send(res, 401, { error: 'unauthenticated' });
    await session.save();
    return send(res, 200, meBody(session.userId, session.profile));
  }
  if (req.method === 'POST' && req.url === '/login') {
    req.resume();
    const session = await getIronSession(req, res, options);
    session.userId = nextUserId();
    session.profile = PROFILE;
    await session.save();
    return send(res, 200, LOGIN_BODY);
  }
  return send(res, 404, { error: 'not found' });
}

listen(
  createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error(error);
      if (!res.headersSent) send(res, 500, { error: 'internal' });
    });
  }),
);

// Strongroom on its Express adapter; store from BENCH_STORE (memory | sqlite | redis | postgres).
import { createServer } from 'node:http';
import express from 'express';
import { fail, listen, LOGIN_BODY, meBody, nextUserId, PROFILE } from './common.mjs';
import { createBenchManager, importStrongroom, openStrongroomStore } from './strongroom.mjs';

try {
  const store = await openStrongroomStore(process.env.BENCH_STORE ?? 'memory');
  const manager = await createBenchManager(store);
  const { expressSessions } = await importStrongroom('adapter:express');
  const auth = expressSessions(manager);

  const app = express();
  app.use(auth.middleware);
  // Idle expiry: Strongroom extends it itself, writing at most once per touch interval (60 s).
  app.get('/me', (req, res) => {
    const session = auth.session(req);
    if (session.userId === null) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    res.json(meBody(session.userId, session.get('profile')));
  });
  // Only the CSRF variant uses it: a pre-session CSRF secret (cookie) and a masked token.
  app.get('/csrf', (req, res) => {
    res.json({ token: auth.session(req).csrfToken() });
  });
  app.post('/login', async (req, res) => {
    const session = auth.session(req);
    // One store write: the new session (replacing the old one in the same step) with its data.
    await session.login(nextUserId(), { data: { profile: PROFILE } });
    res.json(LOGIN_BODY);
  });
  app.use(auth.errorHandler);

  listen(createServer(app), () => store.close());
} catch (error) {
  fail(error);
}

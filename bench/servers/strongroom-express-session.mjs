// Strongroom's express-session compatibility layer on Express, with the routes of
// express-session.mjs unchanged (req.session.userId, regenerate() at login); store from
// BENCH_STORE (memory | sqlite | redis | postgres).
import { createServer } from 'node:http';
import express from 'express';
import { fail, listen, LOGIN_BODY, meBody, nextUserId, PROFILE, randomSecret } from './common.mjs';
import { importStrongroom, openStrongroomStore } from './strongroom.mjs';

try {
  const store = await openStrongroomStore(process.env.BENCH_STORE ?? 'memory');
  const { expressSession } = await importStrongroom('adapter:express-session');
  const session = expressSession({
    store,
    keys: [{ id: 'b', secret: randomSecret(32) }],
    name: 'sid',
    resave: false,
    saveUninitialized: false,
    // Plain HTTP on loopback under NODE_ENV=production: the explicit opt-in, as in strongroom.mjs.
    cookie: { secure: 'allow-http-development', sameSite: 'lax' },
    // As createBenchManager: none of the other libraries checks CSRF.
    csrf: { protection: 'off' },
    userId: (data) => data.userId,
  });

  const app = express();
  app.use(session);
  app.get('/me', (req, res) => {
    if (!req.session.userId) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    res.json(meBody(req.session.userId, req.session.profile));
  });
  app.get('/csrf', (req, res) => {
    res.json({ token: req.csrfToken() });
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) {
        next(error);
        return;
      }
      req.session.userId = nextUserId();
      req.session.profile = PROFILE;
      // Saved before the response goes out: one store write, the login with its data.
      res.json(LOGIN_BODY);
    });
  });
  app.use(session.errorHandler);

  listen(createServer(app), () => store.close());
} catch (error) {
  fail(error);
}

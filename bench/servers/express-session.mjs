// express-session on Express; store from BENCH_STORE: memory (its MemoryStore), redis
// (connect-redis + node-redis) or postgres (connect-pg-simple + pg).
//
// Configured as its README recommends for a login app: resave false, saveUninitialized false,
// regenerate() at login, a non-fingerprinting cookie name, and rolling 30-minute idle expiry
// (rolling re-sends the cookie; the store is touched on every request that does not save).
import { createServer } from 'node:http';
import express from 'express';
import session from 'express-session';
import {
  fail,
  IDLE_SECONDS,
  listen,
  LOGIN_BODY,
  meBody,
  nextUserId,
  PROFILE,
  randomSecret,
} from './common.mjs';

async function openStore(kind) {
  switch (kind) {
    case 'memory':
      return { store: new session.MemoryStore(), close: async () => {} };
    case 'redis': {
      const { createClient } = await import('redis');
      const { RedisStore } = await import('connect-redis');
      const client = createClient({ url: process.env.BENCH_REDIS_URL });
      client.on('error', (error) => console.error('redis:', error.message));
      await client.connect();
      return {
        store: new RedisStore({ client, prefix: 'bench-es:', ttl: IDLE_SECONDS }),
        close: () => client.quit(),
      };
    }
    case 'postgres': {
      const { default: pg } = await import('pg');
      const { default: connectPgSimple } = await import('connect-pg-simple');
      const pool = new pg.Pool({ connectionString: process.env.BENCH_PG_URL });
      const PgStore = connectPgSimple(session);
      const store = new PgStore({
        pool,
        tableName: 'bench_express_session',
        createTableIfMissing: true,
        pruneSessionInterval: 60,
      });
      return {
        store,
        close: async () => {
          store.close();
          await pool.end();
        },
      };
    }
    default:
      throw new Error(`Unknown express-session store "${kind}"`);
  }
}

try {
  const { store, close } = await openStore(process.env.BENCH_STORE ?? 'memory');
  const app = express();
  app.use(
    session({
      store,
      secret: randomSecret(32),
      name: 'sid',
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: { httpOnly: true, secure: false, sameSite: 'lax', maxAge: IDLE_SECONDS * 1000 },
    }),
  );
  app.get('/me', (req, res) => {
    if (!req.session.userId) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    res.json(meBody(req.session.userId, req.session.profile));
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error) => {
      if (error) {
        next(error);
        return;
      }
      req.session.userId = nextUserId();
      req.session.profile = PROFILE;
      // Saved by express-session before the response ends (one store write).
      res.json(LOGIN_BODY);
    });
  });
  listen(createServer(app), close);
} catch (error) {
  fail(error);
}

// Shared by every benchmark server: the fixed payload, the route contract and the
// ready/stop protocol with the runner (IPC, so nothing is read from stdout while measuring).
import { randomBytes } from 'node:crypto';

/** The ~200-byte profile every variant stores at login and returns from GET /me. */
export const PROFILE = Object.freeze({
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['admin', 'editor'],
  locale: 'en-GB',
  timeZone: 'Europe/London',
  theme: 'dark',
  plan: 'team',
  flags: { beta: true, newsletter: false },
  lastProject: 'engine-notes',
});
export const PROFILE_BYTES = Buffer.byteLength(JSON.stringify(PROFILE));

/** Every variant answers GET /me with this JSON shape (the bare ones with a fixed user). */
export function meBody(userId, profile) {
  return { userId, profile };
}

export const LOGIN_BODY = Object.freeze({ ok: true });
export const UNAUTHENTICATED_BODY = Object.freeze({ error: 'unauthenticated' });

/** Idle timeout given to every library that has one: 30 minutes. */
export const IDLE_SECONDS = 30 * 60;

let userCounter = 0;
/** A new user id per login: `user-<pid>-<n>`. */
export function nextUserId() {
  userCounter += 1;
  return `user-${process.pid}-${userCounter}`;
}

/** A throwaway secret, fresh per server start (sessions never outlive a server here). */
export function randomSecret(bytes = 32, encoding = 'base64url') {
  const buffer = randomBytes(bytes);
  return encoding === 'buffer' ? buffer : buffer.toString(encoding);
}

/**
 * Tells the runner which port we listen on, and exits cleanly on its `stop` message so that
 * `--cpu-prof` gets to write its profile. `close` releases stores and pools.
 */
export function announce(port, close = async () => {}) {
  const stop = async () => {
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', (message) => {
    if (message?.type === 'stop') void stop();
  });
  process.on('disconnect', () => void stop());
  if (process.send) process.send({ type: 'ready', port, pid: process.pid });
  else console.log(`listening on http://127.0.0.1:${port}`);
}

/** Listens on 127.0.0.1 (PORT from the environment, 0 = any free port) and announces it. */
export function listen(server, close) {
  const port = Number(process.env.PORT ?? 0);
  server.listen(port, '127.0.0.1', () => announce(server.address().port, close));
}

export function fail(error) {
  console.error(error);
  process.exit(1);
}

import type { SessionManagerOptions } from 'strongroom';
import type { DemoOptions } from './demo-options.js';
import type { User } from './users.js';

/**
 * The session manager's options for the demo: its store, keys and timing, and the CSRF and
 * cookie policy every route relies on. `findUser` looks accounts up at request time.
 */
export function sessionManagerOptions(
  options: DemoOptions,
  findUser: (userId: string) => User | null,
): SessionManagerOptions {
  const runtime = options.runtime;
  return {
    store: options.store,
    keys: options.keys,
    // Plain http on 127.0.0.1 works for the demo; over https (or a trusted
    // X-Forwarded-Proto: https) the cookie is Secure and named __Host-sid automatically.
    cookie: { secure: 'allow-http-development' },
    // Every unsafe request is checked by the library before any route runs (SM-35..SM-42).
    csrf: { origins: options.origins },
    ...(options.idleTimeoutSeconds !== undefined && {
      idleTimeoutSeconds: options.idleTimeoutSeconds,
    }),
    ...(options.absoluteTimeoutSeconds !== undefined && {
      absoluteTimeoutSeconds: options.absoluteTimeoutSeconds,
    }),
    ...(options.rotationIntervalSeconds !== undefined && {
      rotationIntervalSeconds: options.rotationIntervalSeconds,
    }),
    ...(options.rotationGraceSeconds !== undefined && {
      rotationGraceSeconds: options.rotationGraceSeconds,
    }),
    ...(options.freshAgeSeconds !== undefined && { freshAgeSeconds: options.freshAgeSeconds }),
    ...(runtime !== undefined && { runtime: { now: () => runtime.now() } }),
    // SM-28: a session lives only as long as the credential it was signed in with, so a
    // sign-in that checked the old password while it was being changed dies on its next request.
    currentCredential: (userId) => {
      const user = findUser(userId);
      return user === null || user.disabled ? null : user.credential;
    },
  };
}

// Type tests: compiled by `npm run typecheck`, never executed. Each @ts-expect-error must stay
// an error, so loosening a public type fails the build.
import { createSessionManager, type Session } from 'strongroom';
import { expressSessions } from 'strongroom/express';
import { createMemoryStore } from 'strongroom/stores/memory';
import type { Request } from 'express';

interface AppData {
  cart: string[];
  theme: 'light' | 'dark';
}

const manager = createSessionManager<AppData>({
  store: createMemoryStore(),
  keys: [{ id: 'k', secret: 's' }],
});
const auth = expressSessions(manager);

export async function typed(req: Request): Promise<void> {
  const session: Session<AppData> = auth.session(req);
  const cart: string[] | undefined = session.get('cart');
  await session.set('theme', 'dark');
  await session.update({ cart: [] });
  await session.login('user', { keep: ['cart'], cookie: 'persistent' });
  void cart;

  // @ts-expect-error unknown key
  session.get('nope');
  // @ts-expect-error wrong value type
  await session.set('theme', 'blue');
  // @ts-expect-error keep names only known keys
  await session.login('user', { keep: ['nope'] });
  // @ts-expect-error cookie lifetime is a union, not a boolean
  await session.login('user', { cookie: true });
  // @ts-expect-error timeouts are whole seconds as numbers
  createSessionManager({ store: createMemoryStore(), keys: [], idleTimeoutSeconds: '30m' });
  // @ts-expect-error policies are string unions
  createSessionManager({ store: createMemoryStore(), keys: [], theftPolicy: true });
}

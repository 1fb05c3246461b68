import { randomBytes } from 'node:crypto';
import { createSessionManager, type SessionManagerOptions } from '../../src/index.js';
import type { RequestContext } from '../../src/core/request.js';
import type { SessionEvent } from '../../src/core/events.js';
import type { SessionManager } from '../../src/core/manager.js';
import type { Session, SessionData, UntypedSessionData } from '../../src/core/session.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createClock, type Clock } from './clock.js';
import { spyStore, type SpiedStore } from './store-wrappers.js';

export const TEST_ORIGIN = 'https://app.test';
export const TEST_KEY = { id: 'k1', secret: randomBytes(32).toString('base64url') };

export { createClock, type Clock } from './clock.js';
export { spyStore } from './store-wrappers.js';

export interface Response<Data extends SessionData> {
  readonly session: Session<Data>;
  /** Set-Cookie headers by cookie name. */
  readonly cookies: Map<string, string>;
}

export interface Harness<Data extends SessionData> {
  readonly manager: SessionManager<Data>;
  readonly store: SpiedStore;
  readonly clock: Clock;
  readonly events: SessionEvent[];
  /** Every token the manager issued, to check none leaks. */
  readonly issuedTokens: string[];
  request(
    cookieHeader: string | string[] | undefined,
    options?: RequestOptions,
  ): Promise<Response<Data>>;
  browser(options?: { secure?: boolean; userAgent?: string }): Browser<Data>;
}

/** Overrides of the request context; GET over HTTPS by default. */
export type RequestOptions = Partial<Omit<RequestContext, 'cookieHeader' | 'ip' | 'userAgent'>> & {
  /** `null`: the adapter could not tell the client's address. */
  ip?: string | null;
  userAgent?: string;
};

export interface Browser<Data extends SessionData> {
  readonly jar: Map<string, string>;
  /** The cookie header this browser sends. */
  cookieHeader(): string | undefined;
  /** Loads the session, runs `handle`, stores the resulting cookies. */
  visit<T = void>(
    handle?: (session: Session<Data>) => Promise<T> | T,
  ): Promise<{ session: Session<Data>; result: T }>;
}

export function createHarness<Data extends SessionData = UntypedSessionData>(
  options: Partial<SessionManagerOptions> = {},
): Harness<Data> {
  const clock = createClock();
  const store = spyStore(options.store ?? createMemoryStore());
  const manager = createSessionManager<Data>({
    keys: [TEST_KEY],
    csrf: { origins: [TEST_ORIGIN] },
    ...options,
    store,
    runtime: { now: () => clock.now, ...options.runtime },
  });
  const events: SessionEvent[] = [];
  const issuedTokens: string[] = [];
  manager.on('*', (event) => events.push(event));

  async function request(
    cookieHeader: string | string[] | undefined,
    {
      secure = true,
      ip = '203.0.113.7',
      userAgent = 'TestAgent/1.0',
      ...rest
    }: RequestOptions = {},
  ): Promise<Response<Data>> {
    const cookies = new Map<string, string>();
    const session = await manager.load(
      { method: 'GET', ...rest, cookieHeader, secure, ip, userAgent },
      {
        setCookie(name, header) {
          cookies.set(name, header);
          const value = cookieValue(header);
          if (value !== '') issuedTokens.push(value);
        },
      },
    );
    return { session, cookies };
  }

  function browser({ secure = true, userAgent = 'TestAgent/1.0' } = {}): Browser<Data> {
    const jar = new Map<string, string>();
    const cookieHeader = (): string | undefined =>
      jar.size === 0 ? undefined : [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    return {
      jar,
      cookieHeader,
      async visit<T>(handle?: (session: Session<Data>) => Promise<T> | T) {
        const { session, cookies } = await request(cookieHeader(), { secure, userAgent });
        let result: T;
        try {
          result = (await handle?.(session)) as T;
        } finally {
          for (const [name, header] of cookies) {
            const value = cookieValue(header);
            if (/Max-Age=0/.test(header)) jar.delete(name);
            else jar.set(name, value);
          }
        }
        return { session, result };
      },
    };
  }

  return { manager, store, clock, events, issuedTokens, request, browser };
}

export function cookieValue(header: string): string {
  const first = header.split(';')[0] ?? '';
  return first.slice(first.indexOf('=') + 1);
}

import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, beforeEach, vi, type MockInstance } from 'vitest';
import { createSessionManager, type SessionManagerOptions } from '../../src/index.js';
import type { SessionManager } from '../../src/core/manager.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { TEST_KEY, TEST_ORIGIN } from '../support/harness.js';

/** `X-Forwarded-Proto: https`, honoured by apps that trust the loopback proxy. */
export const HTTPS = { 'x-forwarded-proto': 'https' };
/** An unsafe request from the app's own pages, as a browser sends it. */
export const SAME_ORIGIN = { ...HTTPS, 'sec-fetch-site': 'same-origin', origin: TEST_ORIGIN };
export const FORM = 'application/x-www-form-urlencoded';

/** What a browser sends on a navigation. */
export const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

export interface Note {
  note: string;
}

/** A manager over a fresh memory store, CSRF protection off unless `options` say otherwise. */
export function createManager(options: Partial<SessionManagerOptions> = {}): SessionManager<Note> {
  return createSessionManager<Note>({
    store: createMemoryStore(),
    keys: [TEST_KEY],
    csrf: { protection: 'off' },
    ...options,
  });
}

/** A Fastify app that trusts a proxy on loopback, as the tests' `X-Forwarded-Proto` needs. */
export function createApp(options: FastifyServerOptions = {}): FastifyInstance {
  return Fastify({ trustProxy: 'loopback', ...options });
}

/** Listens on an ephemeral loopback port; returns the base URL. */
export function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ host: '127.0.0.1', port: 0 });
}

/** Set-Cookie lines of an injected response. */
export function setCookies(response: LightMyRequestResponse): string[] {
  const value = response.headers['set-cookie'];
  return value === undefined ? [] : [value].flat().map(String);
}

/** The `name=value` part of our session cookie in an injected or fetched response. */
export function sessionCookie(
  response: LightMyRequestResponse | globalThis.Response,
): string | undefined {
  const lines =
    response instanceof globalThis.Response
      ? response.headers.getSetCookie()
      : setCookies(response);
  return lines.find((line) => line.startsWith('__Host-sid='))?.split(';')[0];
}

/** Silences process warnings during each test and returns the messages emitted with a code. */
export function captureWarnings(): (code: string) => string[] {
  let emitWarning: MockInstance<typeof process.emitWarning>;
  beforeEach(() => {
    emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => {
    emitWarning.mockRestore();
  });
  return (code) =>
    emitWarning.mock.calls
      .filter(([, options]) => typeof options === 'object' && options?.code === code)
      .map(([message]) => String(message));
}

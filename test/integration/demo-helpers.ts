import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionEvent, SessionStore } from 'strongroom';
import { createSQLiteStore } from 'strongroom/stores/sqlite';
import { createDemoApp, type DemoApp, type DemoEvent, type DemoOptions } from '../../demo/app.js';
import { createClock, type Clock } from '../support/clock.js';

export const ALICE = { email: 'alice@example.com', password: 'correct horse battery staple' };
export const BOB = { email: 'bob@example.com', password: 'bob-password-1234' };

/** A base64url token of the exact shape Strongroom issues, never issued by the server. */
export function wellFormedToken(): string {
  return randomBytes(32).toString('base64url');
}

export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export interface DemoServer {
  readonly base: string;
  readonly port: number;
  readonly clock: Clock;
  readonly demo: DemoApp;
  readonly store: SessionStore;
  /** Library events (sessions.on('*')). */
  readonly events: SessionEvent[];
  /** Demo-level events (CSRF rejections, failed logins). */
  readonly demoEvents: DemoEvent[];
  /** Whether clients of this server talk "HTTPS" through a trusted proxy header. */
  readonly https: boolean;
  /** The session cookie name clients of this server use. */
  readonly cookieName: string;
  /** Starts another app instance on the same session store and users database. */
  sibling(): Promise<DemoServer>;
  close(): Promise<void>;
}

export interface StartOptions extends Partial<
  Omit<DemoOptions, 'store' | 'keys' | 'dataDir' | 'runtime'>
> {
  /** Trust the loopback proxy and send `X-Forwarded-Proto: https` from every client. */
  readonly https?: boolean;
  /** Wraps the SQLite store the app gets (fault injection). */
  readonly wrapStore?: (store: SessionStore) => SessionStore;
}

/** Starts the demo in-process on 127.0.0.1, port 0, with a temp data dir and a fake clock. */
export async function startDemo(options: StartOptions = {}): Promise<DemoServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'strongroom-demo-'));
  const clock = createClock(Date.UTC(2026, 10, 27, 9, 0, 0));
  const store = createSQLiteStore({
    path: join(dataDir, 'sessions.db'),
    now: () => clock.now,
    purgeIntervalSeconds: 0,
  });
  const keys = [{ id: 'test', secret: randomBytes(32).toString('base64url') }];
  const servers: { server: Server; demo: DemoApp }[] = [];

  const launch = async (): Promise<DemoServer> => {
    const { https = false, wrapStore, ...rest } = options;
    const demoEvents: DemoEvent[] = [];
    // Listen first: the app's origins (CSRF layer 1) include the port.
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    const demo = await createDemoApp({
      // The e2e tests browse http://localhost (a secure context, unlike 127.0.0.1 for cookies).
      origins: [`${https ? 'https' : 'http'}://127.0.0.1:${port}`, `http://localhost:${port}`],
      ...rest,
      ...(https && { trustProxy: 'loopback' }),
      store: wrapStore === undefined ? store : wrapStore(store),
      keys,
      dataDir,
      runtime: { now: () => clock.now },
      onEvent: (event) => demoEvents.push(event),
    });
    const events: SessionEvent[] = [];
    demo.sessions.on('*', (event) => events.push(event));
    server.on('request', demo.app);
    servers.push({ server, demo });
    return {
      base: `http://127.0.0.1:${port}`,
      port,
      clock,
      demo,
      store,
      events,
      demoEvents,
      https,
      cookieName: https ? '__Host-sid' : 'sid',
      sibling: launch,
      close,
    };
  };

  let closed = false;
  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const { server, demo } of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await demo.close();
    }
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  return launch();
}

export interface Result {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  readonly setCookies: string[];
  readonly location: string | null;
  json<T = unknown>(): T;
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Form fields, sent as application/x-www-form-urlencoded (repeat a name with an array). */
  readonly form?: Record<string, string | string[]>;
  /** A raw body (with your own Content-Type header). */
  readonly body?: string;
}

/** One request without a cookie jar. */
export async function send(
  server: DemoServer,
  path: string,
  options: RequestOptions = {},
): Promise<Result> {
  const headers: Record<string, string> = {};
  if (server.https) headers['X-Forwarded-Proto'] = 'https';
  Object.assign(headers, options.headers);
  let body: string | undefined = options.body;
  if (options.form !== undefined) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(options.form)) {
      for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
    }
    body = params.toString();
    headers['Content-Type'] ??= 'application/x-www-form-urlencoded';
  }
  const response = await fetch(server.base + path, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    headers,
    redirect: 'manual',
    ...(body !== undefined && { body }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text,
    setCookies: response.headers.getSetCookie(),
    location: response.headers.get('location'),
    json<T>() {
      return JSON.parse(text) as T;
    },
  };
}

/** `name=value` of a Set-Cookie header. */
export function parseSetCookie(header: string): {
  name: string;
  value: string;
  attributes: string[];
} {
  const [pair = '', ...attributes] = header.split(';').map((part) => part.trim());
  const eq = pair.indexOf('=');
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

export function isDeletion(header: string): boolean {
  return /;\s*Max-Age=0/i.test(header);
}

/** The value Set-Cookie gives `name` in this response: a string, '' when deleted, undefined when untouched. */
export function cookieSet(result: Result, name: string): string | undefined {
  let found: string | undefined;
  for (const header of result.setCookies) {
    const cookie = parseSetCookie(header);
    if (cookie.name === name) found = isDeletion(header) ? '' : cookie.value;
  }
  return found;
}

export function extractCSRF(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match?.[1] === undefined) throw new Error('no _csrf field in the page');
  return match[1];
}

/** A browser: a cookie jar, a user agent, and a record of everything the server sent. */
export class Browser {
  readonly jar = new Map<string, string>();
  readonly server: DemoServer;
  readonly userAgent: string;
  /** Every response (status line, headers except Set-Cookie, body) this browser received. */
  readonly transcript: string[] = [];

  constructor(server: DemoServer, userAgent = 'DemoTest/1.0') {
    this.server = server;
    this.userAgent = userAgent;
  }

  get token(): string | undefined {
    return this.jar.get(this.server.cookieName);
  }

  cookieHeader(): string | undefined {
    return this.jar.size === 0
      ? undefined
      : [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async request(path: string, options: RequestOptions = {}): Promise<Result> {
    const cookie = this.cookieHeader();
    const result = await send(this.server, path, {
      ...options,
      headers: {
        'User-Agent': this.userAgent,
        ...(cookie !== undefined && { Cookie: cookie }),
        ...options.headers,
      },
    });
    for (const header of result.setCookies) {
      const { name, value } = parseSetCookie(header);
      if (isDeletion(header)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const headers = [...result.headers].filter(([name]) => name !== 'set-cookie');
    this.transcript.push(
      `${result.status} ${result.location ?? ''}\n${JSON.stringify(headers)}\n${result.body}`,
    );
    return result;
  }

  /** A fresh `_csrf` from a page with a form (default /account, or /login when anonymous). */
  async csrf(path = '/account'): Promise<string> {
    const page = await this.request(path);
    if (page.status !== 200) throw new Error(`GET ${path} answered ${page.status}`);
    return extractCSRF(page.body);
  }

  /** Posts a form with a fresh `_csrf` from `from`. */
  async post(path: string, form: Record<string, string> = {}, from = '/account'): Promise<Result> {
    const csrf = await this.csrf(from);
    return this.request(path, { form: { ...form, _csrf: csrf } });
  }

  /** GET /login, then POST /login. Returns the POST's result. */
  async login(account: { email: string; password: string } = ALICE): Promise<Result> {
    const csrf = await this.csrf('/login');
    return this.request('/login', {
      form: { _csrf: csrf, email: account.email, password: account.password },
    });
  }

  async me(): Promise<Result> {
    return this.request('/api/me');
  }
}

/** GET /api/me with exactly `Cookie: <name>=<token>` (no jar). */
export function meWith(
  server: DemoServer,
  token: string,
  headers: Record<string, string> = {},
): Promise<Result> {
  return send(server, '/api/me', {
    headers: { Cookie: `${server.cookieName}=${token}`, ...headers },
  });
}

export async function isOk(server: DemoServer, token: string): Promise<boolean> {
  const result = await meWith(server, token);
  if (result.status !== 200 && result.status !== 401)
    throw new Error(`unexpected status ${result.status}`);
  return result.status === 200;
}

/** A signed-in browser. */
export async function signedIn(
  server: DemoServer,
  account: { email: string; password: string } = ALICE,
  userAgent?: string,
): Promise<Browser> {
  const browser = new Browser(server, userAgent);
  const result = await browser.login(account);
  if (result.status !== 303) throw new Error(`login answered ${result.status}`);
  return browser;
}

/** Creates an account through POST /signup, then signs that throwaway browser out again. */
export async function signup(
  server: DemoServer,
  account: { email: string; password: string } = BOB,
): Promise<void> {
  const browser = new Browser(server);
  const csrf = await browser.csrf('/signup');
  const result = await browser.request('/signup', { form: { _csrf: csrf, ...account } });
  if (result.status !== 303) throw new Error(`signup answered ${result.status}`);
  const logout = await browser.post('/logout');
  if (logout.status !== 303) throw new Error(`logout after signup answered ${logout.status}`);
}

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Sends exact bytes over a socket (duplicated headers, raw 0x80-0xFF bytes, CR/LF tricks,
 * things fetch and node:http refuse to produce) and reads one response.
 */
export function rawRequest(server: DemoServer, request: Buffer | string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (match?.[1] === undefined) {
        reject(new Error(`no HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
        return;
      }
      resolve({ status: Number(match[1]), head, body: split < 0 ? '' : text.slice(split + 4) });
    });
    socket.write(request);
  });
}

/** A raw GET with `Connection: close` and the given header lines (no CRLF at their ends). */
export function rawGet(
  server: DemoServer,
  path: string,
  headerLines: (string | Buffer)[],
): Promise<RawResponse> {
  const parts: Buffer[] = [
    Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n`),
  ];
  if (server.https) parts.push(Buffer.from('X-Forwarded-Proto: https\r\n'));
  for (const line of headerLines)
    parts.push(Buffer.isBuffer(line) ? line : Buffer.from(line, 'latin1'), Buffer.from('\r\n'));
  parts.push(Buffer.from('\r\n'));
  return rawRequest(server, Buffer.concat(parts));
}

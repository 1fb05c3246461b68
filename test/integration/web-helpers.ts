/**
 * A small node:http ⇄ Fetch API bridge for the web adapter's tests, the way a plain Node app
 * hosts a `(request: Request) => Response` handler: every raw header line as received, the body
 * streamed (never buffered by the bridge), and the socket a request came from kept aside for a
 * `connection` function to read.
 */
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { WebConnection } from '../../src/adapters/web.js';

export type WebHandler = (request: Request) => Response | Promise<Response>;

export interface WebServer {
  readonly url: string;
  close(): Promise<void>;
}

const sockets = new WeakMap<Request, Socket>();

/** The socket a bridged request came in on. */
export function socketOf(request: Request): Socket | undefined {
  return sockets.get(request);
}

/** Whether an address is the loopback interface: the scenario apps' trusted proxy. */
export function isLoopback(address: string | null | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * What the scenario table asks of every app: a request from loopback carrying
 * `X-Forwarded-Proto: https` is HTTPS (the proxy is trusted), any other is plain HTTP, whatever
 * its headers say. The IP is the socket's.
 */
export function loopbackProxy(address: string | null | undefined, headers: Headers): WebConnection {
  const proto = headers.get('x-forwarded-proto');
  return { secure: isLoopback(address) && proto === 'https', ip: address ?? null };
}

/** `loopbackProxy` for a request that came through {@link serveWeb}. */
export function bridgedConnection(request: Request): WebConnection {
  return loopbackProxy(socketOf(request)?.remoteAddress, request.headers);
}

/** Serves `handler` on 127.0.0.1 on a free port. */
export async function serveWeb(handler: WebHandler): Promise<WebServer> {
  const server = createServer((req, res) => {
    bridge(req, res, handler).catch((error: unknown) => {
      console.error(error);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function bridge(req: IncomingMessage, res: ServerResponse, handler: WebHandler) {
  const request = toRequest(req);
  if (request === null) {
    res.writeHead(400).end();
    return;
  }
  sockets.set(request, req.socket);
  const response = await handler(request);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, response.statusText, headers);
  if (response.body !== null) for await (const chunk of response.body) res.write(chunk);
  res.end();
}

/** The Fetch API request, or null for a head that makes no URL (an absolute-form target). */
function toRequest(req: IncomingMessage): Request | null {
  const headers = new Headers();
  const raw = req.rawHeaders;
  const method = req.method ?? 'GET';
  try {
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    if (!(req.url ?? '').startsWith('/')) return null;
    const hasBody = method !== 'GET' && method !== 'HEAD';
    return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, {
      method,
      headers,
      ...(hasBody && {
        body: Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>,
        duplex: 'half',
      }),
    });
  } catch {
    return null;
  }
}

export const SID = '__Host-sid';
export const CSRF_COOKIE = '__Host-sid-csrf';
/** What a browser sends on a navigation. */
export const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
/** A session cookie as issued over HTTPS: a browser-session cookie (SM-06 to SM-10). */
export const ISSUED = /^__Host-sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Secure$/;
/** The session cookie's deletion (SM-25). */
export const EXPIRED =
  '__Host-sid=; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';

/** The `name=value` pair of a cookie a response set, if it set one. */
export function cookiePair(response: Response, name = SID): string | undefined {
  return response.headers
    .getSetCookie()
    .find((header) => header.startsWith(`${name}=`))
    ?.split(';', 1)[0];
}

/** The Set-Cookie headers of a response for one of our cookies. */
export function ourCookies(response: Response): string[] {
  return response.headers
    .getSetCookie()
    .filter((header) => header.startsWith(`${SID}=`) || header.startsWith(`${CSRF_COOKIE}=`));
}

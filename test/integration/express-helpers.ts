import type { AddressInfo } from 'node:net';
import { request as httpRequest, type Server } from 'node:http';
import express4 from 'express4';
import express5 from 'express';

export type Express = typeof express5;

/** Both supported majors, for `describe.each`. */
export const EXPRESS_VERSIONS: [string, Express][] = [
  ['Express 4', express4],
  ['Express 5', express5],
];

/** `X-Forwarded-Proto: https`, honoured by apps that trust the loopback proxy. */
export const HTTPS = { 'X-Forwarded-Proto': 'https' };

/** What a browser sends on a navigation. */
export const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

export async function listen(app: ReturnType<Express>): Promise<{ server: Server; url: string }> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
    });
  });
}

export function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Express 4 does not forward rejected promises; this wrapper works on both. */
export function handle(
  fn: (req: express5.Request, res: express5.Response) => Promise<void>,
): express5.RequestHandler {
  return (req, res, next) => {
    fn(req, res).catch(next);
  };
}

/** A request with a target sent byte for byte (fetch would normalise it first). */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The `name=value` part of our session cookie in a response, if it set one. */
export function sessionCookie(response: globalThis.Response): string | undefined {
  return response.headers
    .getSetCookie()
    .find((c) => c.startsWith('__Host-sid='))
    ?.split(';')[0];
}

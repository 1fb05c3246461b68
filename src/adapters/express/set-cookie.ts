import type { Response } from 'express';
import { InvalidArgumentError } from '../../core/errors.js';
import type { CookieSink } from '../../core/request.js';
import {
  headerValues,
  isSetCookie,
  mergeSetCookies,
  type HeaderValue,
} from '../shared/set-cookie.js';
import { markPrivate } from './response.js';

/**
 * Our Set-Cookie headers, set at once (so `res.getHeader` shows them) and merged again when the
 * headers are written: an app that later calls `res.setHeader('Set-Cookie', …)` or
 * `res.writeHead(status, { 'Set-Cookie': … })` would otherwise drop them, and after a login the
 * browser would keep a token whose session is already gone.
 */
export function responseSink(res: Response): CookieSink {
  return {
    setCookie(name, header) {
      if (res.headersSent) {
        throw new InvalidArgumentError(
          'The session changed after the response headers were sent; await session calls before responding',
        );
      }
      const ours = ourCookies(res);
      ours.set(name, header);
      res.setHeader('Set-Cookie', mergeSetCookies(headerValues(res.getHeader('Set-Cookie')), ours));
      markPrivate(res);
    },
  };
}

/**
 * Our Set-Cookie headers by cookie name, per response: one map and one `writeHead` wrapper per
 * response, even when several middleware instances (routers, two managers) set cookies on it.
 */
const cookiesByResponse = new WeakMap<Response, Map<string, string>>();

function ourCookies(res: Response): Map<string, string> {
  let ours = cookiesByResponse.get(res);
  if (ours === undefined) {
    ours = new Map();
    cookiesByResponse.set(res, ours);
    mergeCookiesOnWriteHead(res, ours);
  }
  return ours;
}

type WriteHead = (statusCode: number, reason?: unknown, headers?: unknown) => unknown;

/**
 * Wraps this response's `writeHead` (which `res.end()` calls too) so that our cookies survive
 * whatever the app passes: `writeHead(status)`, `(status, headers)`, `(status, reason)` and
 * `(status, reason, headers)`, with headers as an object or a flat `[name, value, …]` array.
 * Only the Set-Cookie part of the arguments is rewritten; Node applies the rest as usual.
 */
function mergeCookiesOnWriteHead(res: Response, ours: ReadonlyMap<string, string>): void {
  const original = (res.writeHead as WriteHead).bind(res);
  const writeHead: WriteHead = (statusCode, reason, headers) => {
    const given = typeof reason === 'string' ? headers : (headers ?? reason);
    const message = typeof reason === 'string' ? reason : undefined;
    const rewritten = withMergedSetCookie(given, ours);
    if (rewritten !== null) return original(statusCode, message, rewritten);
    // The app passes no Set-Cookie: Node keeps the header as it now stands on the response.
    res.setHeader('Set-Cookie', mergeSetCookies(headerValues(res.getHeader('Set-Cookie')), ours));
    return original(statusCode, message, given);
  };
  res.writeHead = writeHead as Response['writeHead'];
}

/**
 * `headers` with its Set-Cookie entries replaced by one merged entry, or null when it has none
 * (or is not a header object or flat array, which Node itself rejects).
 */
function withMergedSetCookie(
  headers: unknown,
  ours: ReadonlyMap<string, string>,
): Record<string, unknown> | unknown[] | null {
  if (Array.isArray(headers)) return withMergedSetCookieList(headers, ours);
  if (typeof headers !== 'object' || headers === null) return null;
  const entries = Object.entries(headers as Record<string, unknown>);
  // With `Set-Cookie` and `set-cookie` both present, Node applies both in order: the last wins.
  const given = entries.filter(([name]) => isSetCookie(name)).at(-1);
  if (given === undefined) return null;
  const rest = Object.fromEntries(entries.filter(([name]) => !isSetCookie(name)));
  return { ...rest, 'Set-Cookie': mergeSetCookies(headerValues(given[1] as HeaderValue), ours) };
}

/**
 * A flat [name, value, name, value] list. Node rejects an odd length (and a list of pairs once
 * a header is set, as ours is): those pass through unchanged for Node to throw.
 */
function withMergedSetCookieList(
  headers: unknown[],
  ours: ReadonlyMap<string, string>,
): unknown[] | null {
  if (headers.length % 2 !== 0) return null;
  const rest: unknown[] = [];
  const theirs: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name: unknown = headers[i];
    const value: unknown = headers[i + 1];
    if (isSetCookie(name)) theirs.push(...headerValues(value as HeaderValue));
    else rest.push(name, value);
  }
  if (theirs.length === 0) return null;
  return [...rest, 'Set-Cookie', mergeSetCookies(theirs, ours)];
}

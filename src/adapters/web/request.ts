import { announcesFormBody } from '../shared/form-body.js';
import { AdapterRequestContext } from '../shared/request-context.js';
import type { LoaderHooks } from '../shared/session-loader.js';
import { forwardedFor } from './connection.js';
import type { FormField } from './form-field.js';

/** How a request arrived and what it carried, as the web adapter worked it out. */
export interface WebRequestFacts {
  readonly secure: boolean;
  readonly ip: string | null;
  /** Whether `X-Forwarded-For` names the client (`trustProxy`). */
  readonly trustProxy: boolean;
  /** Whether the method is unsafe: only then are the CSRF headers read at all. */
  readonly unsafe: boolean;
  readonly csrf: 'verify' | 'skip';
  readonly form: FormField;
  readonly arrivedAt: number;
}

/**
 * The request as the core sees it. A safe request reads nothing but its Cookie header: the
 * CSRF headers matter only to unsafe ones, and the IP and user agent are read when the core
 * asks (a class, so the lazy getters cost no closures).
 */
export class WebRequestContext extends AdapterRequestContext {
  readonly #headers: Headers;
  readonly #ip: string | null;
  readonly #trustProxy: boolean;

  constructor(headers: Headers, method: string, facts: WebRequestFacts) {
    const { unsafe, form } = facts;
    super({
      method,
      cookieHeader: headers.get('cookie') ?? undefined,
      secure: facts.secure,
      fetchSite: unsafe ? (headers.get('sec-fetch-site') ?? undefined) : undefined,
      origin: unsafe ? (headers.get('origin') ?? undefined) : undefined,
      body: form.kind === 'found' ? { _csrf: form.value } : undefined,
      csrfHeader: unsafe ? (headers.get('x-csrf-token') ?? undefined) : undefined,
      csrf: facts.csrf,
      arrivedAt: facts.arrivedAt,
    });
    this.#headers = headers;
    this.#ip = facts.ip;
    this.#trustProxy = facts.trustProxy;
  }

  get ip(): string | null {
    return (this.#trustProxy ? forwardedFor(this.#headers) : null) ?? this.#ip;
  }

  get userAgent(): string | null {
    return this.#headers.get('user-agent');
  }
}

/**
 * The path and query of a request URL, as the Request holds it (no fragment). The host parsed
 * the target into that URL (resolving `.` and `..`, as the app's router sees it too); nothing
 * is percent-decoded here.
 */
export function requestTarget(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme === -1 ? -1 : url.indexOf('/', scheme + 3);
  if (start === -1) return '/';
  const fragment = url.indexOf('#', start);
  return fragment === -1 ? url.slice(start) : url.slice(start, fragment);
}

/** How the adapters on Fetch API requests name themselves and their settings in diagnostics. */
export interface WebAdvice {
  /** The factory, as a warning names it: `webSessions()`. */
  readonly framework: string;
  readonly trustProxy: string;
  readonly parseBody: string;
}

/**
 * What the session loader needs to know about a Request. Its body counts as unread for the
 * `token-missing` hint when the app (or a middleware before ours) had consumed it: the adapter
 * could then not read `_csrf` from it.
 */
export function webLoaderHooks(advice: WebAdvice): LoaderHooks<Request> {
  return {
    ...advice,
    forwardedProto: (request) => request.headers.get('x-forwarded-proto') ?? undefined,
    bodyNotParsed(request) {
      const { headers } = request;
      const consumed = request.bodyUsed || request.body?.locked === true;
      return (
        consumed &&
        announcesFormBody({
          method: request.method,
          csrfHeader: headers.get('x-csrf-token') ?? undefined,
          contentType: headers.get('content-type') ?? undefined,
          // A Request made in-process carries no length header: a body without one is a stream.
          transferEncoding:
            headers.get('transfer-encoding') ??
            (headers.has('content-length') ? undefined : 'chunked'),
          contentLength: headers.get('content-length') ?? undefined,
        })
      );
    },
  };
}

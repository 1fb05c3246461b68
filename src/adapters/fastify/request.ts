import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { requestPathOf } from '../shared/csrf-input.js';
import { announcesFormBody } from '../shared/form-body.js';
import { AdapterRequestContext, arrivalTime } from '../shared/request-context.js';
import { varyFor } from '../shared/response-headers.js';
import type { LoaderHooks } from '../shared/session-loader.js';
import { addVary } from './reply.js';

/**
 * When the request arrived, shared by every adapter instance (one arrival per request), held on
 * the request under a symbol that the plugin declares with `decorateRequest`, so that Fastify
 * gives every request the same shape.
 */
export const ARRIVED = Symbol('strongroom.arrived');
type Stamped = FastifyRequest & { [ARRIVED]?: number | null };

/**
 * The `onRequest` hook: notes the arrival before Fastify reads the body (the rotation grace
 * window is measured from it, SM-20), and says in `Vary` what every answer depends on (SM-47).
 */
export function noteArrival(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  (request as Stamped)[ARRIVED] ??= arrivalTime();
  addVary(reply, varyFor(request.method));
  done();
}

/** The request as the core sees it. */
export class FastifyRequestContext extends AdapterRequestContext {
  readonly #request: FastifyRequest;

  constructor(request: FastifyRequest, csrf: 'verify' | 'skip') {
    // `request.headers` copies the headers when the app has set extra ones: read it once.
    const { headers } = request;
    super({
      method: request.method,
      cookieHeader: headers.cookie,
      // From Fastify itself: `X-Forwarded-Proto` counts only under its `trustProxy` (SM-44, SM-59).
      secure: request.protocol === 'https',
      fetchSite: headers['sec-fetch-site'],
      origin: headers.origin,
      body: request.body,
      csrfHeader: headers['x-csrf-token'],
      csrf,
      arrivedAt: (request as Stamped)[ARRIVED] ?? undefined,
    });
    this.#request = request;
  }

  // Fastify computes the IP per call (proxy trust), and most requests never need it.
  get ip(): string | null {
    // Typed as a string, but undefined once the socket has gone.
    return this.#request.ip ?? null;
  }

  get userAgent(): string | null {
    return this.#request.headers['user-agent'] ?? null;
  }
}

/**
 * The path Fastify routes, prefixes of the plugins included, exactly as sent (after the app's
 * `rewriteUrl`, if any), without its query: what `csrfExemptPaths` are compared with.
 */
export function requestPath(request: FastifyRequest): string {
  return requestPathOf(request.url);
}

/**
 * Whether a body is the fields of a parsed form (an object, whatever its prototype:
 * `@fastify/formbody` makes one without `Object.prototype`), not raw bytes, a string or a
 * stream that a parser for another purpose left in `request.body`.
 */
function isParsedForm(body: unknown): boolean {
  return (
    typeof body === 'object' &&
    body !== null &&
    !ArrayBuffer.isView(body) &&
    typeof (body as { pipe?: unknown }).pipe !== 'function'
  );
}

/**
 * What the session loader needs to know about a Fastify request. Fastify parses the body before
 * `preValidation`, whatever order the plugins were registered in, and answers a content type it
 * has no parser for with 415 before the plugin runs. So a form body is unread here only when a
 * parser left its fields out of `request.body`: `@fastify/multipart` without
 * `attachFieldsToBody` (or with it, registered after the Strongroom plugin: it fills the body in
 * a `preValidation` hook of its own), or a custom parser that hands on a string or a buffer.
 */
export const FASTIFY_HOOKS: LoaderHooks<FastifyRequest> = {
  framework: 'Fastify',
  trustProxy: `set Fastify's trustProxy option (fastify({ trustProxy: … })) so that request.protocol is 'https'`,
  parseBody:
    "register a content-type parser that puts the form's fields in request.body (@fastify/formbody for urlencoded forms; @fastify/multipart with attachFieldsToBody: 'keyValues', registered before the Strongroom plugin, for multipart ones)",
  forwardedProto: (request) => request.headers['x-forwarded-proto'],
  bodyNotParsed(request) {
    const { headers } = request;
    const announced = announcesFormBody({
      method: request.method,
      csrfHeader: headers['x-csrf-token'],
      contentType: headers['content-type'],
      transferEncoding: headers['transfer-encoding'],
      contentLength: headers['content-length'],
    });
    return announced && !isParsedForm(request.body);
  },
};

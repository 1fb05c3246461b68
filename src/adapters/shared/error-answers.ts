import {
  InvalidArgumentError,
  isStrongroomError,
  type StrongroomError,
} from '../../core/errors.js';
import { errorPage, humanMessage } from './error-page.js';
import { CACHE_CONTROL_PRIVATE } from './response-headers.js';

/**
 * How an adapter answers Strongroom errors. `json`: always JSON `{ error, message }`.
 * `negotiate`: clients whose `Accept` prefers `text/html` get a minimal HTML page, everything
 * else the JSON.
 */
export type ErrorsMode = 'json' | 'negotiate';

/** The `errors` option, checked once when the adapter is created. */
export function parseErrorsMode(value: unknown, caller: string): ErrorsMode {
  if (value === undefined || value === 'json' || value === 'negotiate') return value ?? 'json';
  throw new InvalidArgumentError(`${caller}: errors must be "json" or "negotiate"`);
}

/** A complete body an adapter sends in place of whatever the app meant to send. */
export interface AnswerBody {
  readonly contentType: string;
  readonly text: string;
}

/** An error translated into HTTP, for any framework to send as it is. */
export interface ErrorAnswer {
  readonly status: number;
  /** Set in this order before the body: `Retry-After` (503, 429), then `Cache-Control`. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** Whether the answer depends on `Accept` (negotiate mode): add `Accept` to `Vary`. */
  readonly varyAccept: boolean;
  readonly body: AnswerBody;
}

/**
 * Headers that described the body the app meant to send; an answer that replaces that body
 * removes all of them, so none may describe it (a JSON error labelled `text/html`, or sent as
 * an attachment).
 */
export const REPRESENTATION_HEADERS = [
  'Content-Disposition',
  'Content-Encoding',
  'Content-Language',
  'Content-Range',
  'ETag',
  'Last-Modified',
] as const;

/** Headers sent with every {@link AnswerBody}, after its `Content-Type`. */
export const ANSWER_HEADERS = [['X-Content-Type-Options', 'nosniff']] as const;

/** How long a client should wait before retrying after the store was unavailable (503). */
const STORE_RETRY_AFTER_SECONDS = '5';

/**
 * The answer to a Strongroom error: its status, `Retry-After` for 503 and 429,
 * `Cache-Control: no-store`, and a JSON `{ error, message }` (plus `reason` for CSRF) — or, in
 * `negotiate` mode for a client that prefers HTML, a page that shows a plain-language message
 * and never the error's own message, a stack or anything from the request. `prefersHTML` is
 * only asked in `negotiate` mode.
 */
export function answerError(
  error: StrongroomError,
  mode: ErrorsMode,
  prefersHTML: () => boolean,
): ErrorAnswer {
  const headers: [string, string][] = [];
  if (error.code === 'ERR_STORE_UNAVAILABLE')
    headers.push(['Retry-After', STORE_RETRY_AFTER_SECONDS]);
  if (isStrongroomError(error, 'ERR_TOO_MANY_REQUESTS'))
    headers.push(['Retry-After', String(error.retryAfterSeconds)]);
  headers.push(['Cache-Control', CACHE_CONTROL_PRIVATE]);
  const varyAccept = mode === 'negotiate';
  if (varyAccept && prefersHTML()) {
    const page = errorPage(error.status, humanMessage(error.code));
    return { status: error.status, headers, varyAccept, body: htmlBody(page) };
  }
  const reason = isStrongroomError(error, 'ERR_CSRF') ? { reason: error.reason } : {};
  const body = jsonBody({ error: error.code, message: error.message, ...reason });
  return { status: error.status, headers, varyAccept, body };
}

/** A JSON body, labelled as JSON whatever the app had set. */
export function jsonBody(value: object): AnswerBody {
  return { contentType: 'application/json; charset=utf-8', text: JSON.stringify(value) };
}

/** An HTML page, labelled as HTML. */
export function htmlBody(page: string): AnswerBody {
  return { contentType: 'text/html; charset=utf-8', text: page };
}

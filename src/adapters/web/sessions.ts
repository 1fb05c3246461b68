import { InvalidArgumentError, isStrongroomError } from '../../core/errors.js';
import type { SessionManager } from '../../core/manager.js';
import type { Session, SessionData } from '../../core/session.js';
import { isUnsafeMethod } from '../../csrf/request-check.js';
import { prefersHTML } from '../shared/accept.js';
import { createCSRFExemptions, requestPathOf } from '../shared/csrf-input.js';
import { answerError, parseErrorsMode, type ErrorsMode } from '../shared/error-answers.js';
import { arrivalTime } from '../shared/request-context.js';
import {
  resolveLoginRedirect,
  type LoginRedirect,
  type RequireUserOptions,
} from '../shared/require-user.js';
import { createSessionLoader, type SessionLoader } from '../shared/session-loader.js';
import { forwardedSecure, isHTTPSURL, type WebConnection } from './connection.js';
import {
  formContentType,
  NO_FIELD,
  OVERSIZED,
  readFormField,
  type FormField,
} from './form-field.js';
import { requestTarget, webLoaderHooks, WebRequestContext, type WebAdvice } from './request.js';
import { errorAnswerResponse, LoadedWebSession, unauthenticatedResponse } from './response.js';

/** The options every adapter on Fetch API requests shares (see `WebSessionsOptions`). */
export interface WebCoreOptions {
  readonly csrfExemptPaths?: readonly string[];
  readonly errors?: 'json' | 'negotiate';
  readonly trustProxy?: boolean;
  readonly formBodyLimit?: number;
  readonly connection?: (request: Request) => WebConnection;
}

/** How many bytes of a form body are read to find `_csrf`, unless the app says otherwise. */
export const DEFAULT_FORM_BODY_LIMIT = 1_048_576;

/**
 * What `webSessions()` and `honoSessions()` share: loading a Request's session, and the
 * Responses for errors and for visitors who are not signed in. Options are checked once, here.
 */
export class WebSessionCore<Data extends SessionData> {
  readonly #loader: SessionLoader<Data, Request>;
  readonly #exemptions: ((path: string) => 'verify' | 'skip') | null;
  readonly #mode: ErrorsMode;
  readonly #trustProxy: boolean;
  readonly #formBodyLimit: number;
  readonly #connection: ((request: Request) => WebConnection) | null;

  constructor(manager: SessionManager<Data>, options: WebCoreOptions, advice: WebAdvice) {
    const caller = advice.framework;
    const { csrfExemptPaths, trustProxy, formBodyLimit, connection } = options;
    if (csrfExemptPaths !== undefined && !isStringList(csrfExemptPaths))
      throw new InvalidArgumentError(`${caller}: csrfExemptPaths must be a list of paths`);
    if (trustProxy !== undefined && typeof trustProxy !== 'boolean')
      throw new InvalidArgumentError(`${caller}: trustProxy must be true or false`);
    if (formBodyLimit !== undefined && !(Number.isSafeInteger(formBodyLimit) && formBodyLimit >= 0))
      throw new InvalidArgumentError(`${caller}: formBodyLimit must be a whole number of bytes`);
    if (connection !== undefined && typeof connection !== 'function')
      throw new InvalidArgumentError(`${caller}: connection must be a function`);
    this.#mode = parseErrorsMode(options.errors, caller);
    // No exemptions (the usual case): no path is worked out for any request.
    this.#exemptions = csrfExemptPaths?.length ? createCSRFExemptions(csrfExemptPaths) : null;
    this.#trustProxy = trustProxy ?? false;
    this.#formBodyLimit = formBodyLimit ?? DEFAULT_FORM_BODY_LIMIT;
    this.#connection = connection ?? null;
    this.#loader = createSessionLoader(manager, webLoaderHooks(advice));
  }

  /** Loads with a connection given for this request, else the option's, else the URL's scheme. */
  load(request: Request, connection?: WebConnection): Promise<LoadedWebSession<Data>> {
    const from = connection ?? this.#connection?.(request);
    if (from === undefined) return this.loadWith(request, isHTTPSURL(request.url), null);
    return this.loadWith(request, from.secure === true, from.ip ?? null);
  }

  /**
   * Loads the session of a request that arrived as stated. Proxy headers count only with
   * `trustProxy` (SM-44, SM-59): otherwise any client could claim HTTPS or another address.
   */
  async loadWith(
    request: Request,
    secure: boolean,
    ip: string | null,
  ): Promise<LoadedWebSession<Data>> {
    // Before the body is read: the rotation grace window runs from the arrival (SM-20).
    const arrivedAt = arrivalTime();
    const { method, headers } = request;
    const unsafe = isUnsafeMethod(method);
    const csrf = unsafe && this.#exemptions !== null ? this.#exemptionOf(request) : 'verify';
    const form = unsafe && csrf === 'verify' ? await this.#formField(request) : NO_FIELD;
    const trustProxy = this.#trustProxy;
    const context = new WebRequestContext(headers, method, {
      secure: trustProxy ? forwardedSecure(headers, secure) : secure,
      ip,
      trustProxy,
      unsafe,
      csrf,
      form,
      arrivedAt,
    });
    const loaded = new LoadedWebSession<Data>(method);
    try {
      loaded.session = await this.#loader.load(request, context, loaded);
    } catch (error) {
      throw this.#explain(error, request, form);
    }
    return loaded;
  }

  /** A Strongroom error's answer (see `WebSessions.errorResponse`); null for any other error. */
  errorResponse(error: unknown, request: Request): Response | null {
    if (!isStrongroomError(error)) return null;
    const answer = answerError(error, this.#mode, () => prefersHTML(request.headers.get('accept')));
    return errorAnswerResponse(answer, request.method);
  }

  /** What a guard answers a visitor who is not signed in (see `WebSessions.unauthenticated`). */
  unauthenticated(request: Request, redirect: LoginRedirect): Response {
    return unauthenticatedResponse(request, redirect);
  }

  #exemptionOf(request: Request): 'verify' | 'skip' {
    return this.#exemptions?.(requestPathOf(requestTarget(request.url))) ?? 'verify';
  }

  /** Only a form post without the header can carry the token in its body. */
  #formField(request: Request): Promise<FormField> | FormField {
    const { headers } = request;
    if (headers.has('x-csrf-token')) return NO_FIELD;
    const contentType = formContentType(headers);
    if (contentType === null) return NO_FIELD;
    return readFormField(request, contentType, this.#formBodyLimit);
  }

  /** The load's error, its message completed where the request or the app's setup caused it. */
  #explain(error: unknown, request: Request, form: FormField): unknown {
    if (form !== OVERSIZED || !isStrongroomError(error, 'ERR_CSRF')) {
      return this.#loader.explain(error, request);
    }
    if (error.reason === 'token-missing') {
      error.message = `${error.message}. The form body is larger than formBodyLimit (${this.#formBodyLimit} bytes), so its _csrf field was not read: send the token in the X-CSRF-Token header for large uploads`;
    }
    return error;
  }
}

function isStringList(value: unknown): boolean {
  return Array.isArray(value) && value.every((path) => typeof path === 'string');
}

/** The options of a handler made by `WebSessions.handler`. */
export interface WebHandlerOptions {
  /**
   * Only for signed-in users: any other visitor gets what `WebSessions.unauthenticated()`
   * answers (`303` to the login page for browsers, `401` JSON for API clients, uncached) and
   * the handler does not run. `true` takes the defaults of {@link RequireUserOptions}.
   * @default undefined (every visitor reaches the handler)
   * @example
   * ```ts
   * export const GET = auth.handler(account, { requireUser: { loginPath: '/signin' } });
   * ```
   */
  readonly requireUser?: true | RequireUserOptions;
}

/** The whole-handler form: load, run, answer Strongroom errors, apply the session's headers. */
export function createHandler<Data extends SessionData, Args extends unknown[]>(
  core: WebSessionCore<Data>,
  fn: (request: Request, session: Session<Data>, ...args: Args) => Response | Promise<Response>,
  options: WebHandlerOptions = {},
): (request: Request, ...args: Args) => Promise<Response> {
  const guard = options.requireUser;
  const redirect = guard === undefined ? null : resolveLoginRedirect(guard === true ? {} : guard);
  return async (request, ...args) => {
    let loaded: LoadedWebSession<Data>;
    try {
      loaded = await core.load(request);
    } catch (error) {
      return answerOrThrow(core, error, request);
    }
    if (redirect !== null && loaded.session.userId === null)
      return loaded.apply(core.unauthenticated(request, redirect));
    let response: Response;
    try {
      response = await fn(request, loaded.session, ...args);
    } catch (error) {
      // Cookies set before the error still go out: after a login, the old token is dead.
      response = answerOrThrow(core, error, request);
    }
    return loaded.apply(response);
  };
}

/** A Strongroom error's answer; any other error is the host's to answer (its 500 page). */
function answerOrThrow<Data extends SessionData>(
  core: WebSessionCore<Data>,
  error: unknown,
  request: Request,
): Response {
  const answer = core.errorResponse(error, request);
  if (answer === null) throw error;
  return answer;
}

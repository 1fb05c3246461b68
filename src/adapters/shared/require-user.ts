import { InvalidArgumentError } from '../../core/errors.js';
import { isUnsafeMethod } from '../../csrf/request-check.js';
import { safeReturnPath } from './return-path.js';

export interface RequireUserOptions {
  /**
   * Where browsers are sent to sign in: a path on this site, which may carry a query.
   * @default '/login'
   */
  readonly loginPath?: string;
  /**
   * `query` adds `returnTo=<the path asked for>` (query included, percent-encoded) to the
   * redirect of a GET or HEAD request, when that path is a safe one on this site; `omit` never
   * adds it. Unsafe methods never carry it: after signing in, the browser would repeat the
   * request as a GET.
   * @default 'query'
   */
  readonly returnTo?: 'query' | 'omit';
}

/** The body of the 401 that `requireUser()` sends to non-HTML clients. */
export interface UnauthenticatedBody {
  readonly error: 'ERR_UNAUTHENTICATED';
  readonly message: string;
}

/** What the guard answers a non-HTML client that is not signed in, with status 401. */
export const UNAUTHENTICATED_BODY: UnauthenticatedBody = {
  error: 'ERR_UNAUTHENTICATED',
  message: 'Sign in to continue',
};

/** A guard's options, checked once when the guard is made. */
export interface LoginRedirect {
  readonly loginPath: string;
  readonly returnTo: 'query' | 'omit';
}

/** Checks `requireUser()`'s options: a login path off this site is a configuration mistake. */
export function resolveLoginRedirect(options: RequireUserOptions = {}): LoginRedirect {
  const loginPath = safeReturnPath(options.loginPath ?? '/login');
  if (loginPath === null) {
    throw new InvalidArgumentError(
      'requireUser: loginPath must be a path on this site, such as "/login"',
    );
  }
  const returnTo = options.returnTo ?? 'query';
  if (returnTo !== 'query' && returnTo !== 'omit') {
    throw new InvalidArgumentError('requireUser: returnTo must be "query" or "omit"');
  }
  return { loginPath, returnTo };
}

/**
 * Where the guard sends a browser that is not signed in: the login path, with
 * `returnTo=<target>` for a GET or HEAD whose target (path and query as sent, mount prefixes
 * included) is a safe path on this site. `returnTo` is never an absolute or scheme-relative URL.
 */
export function loginLocation(redirect: LoginRedirect, method: string, target: string): string {
  const back =
    redirect.returnTo === 'query' && !isUnsafeMethod(method) ? safeReturnPath(target) : null;
  if (back === null) return redirect.loginPath;
  const separator = redirect.loginPath.includes('?') ? '&' : '?';
  return `${redirect.loginPath}${separator}returnTo=${encodeURIComponent(back)}`;
}

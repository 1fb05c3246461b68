import { html, type SafeHTML } from './html.js';

/** `5 minutes`: the wait, rounded up to whole minutes. */
function waitText(retryAfterSeconds: number): string {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

/**
 * The body of the 429 page for a throttled sign-in or password change (SM-55). It does not say
 * whether the account or the network hit the limit, nor whether the account exists.
 *
 * @example
 * ```ts
 * res.status(429).send(layout({ title: 'Too many attempts', body: tooManyAttemptsPage(900), ... }));
 * ```
 */
export function tooManyAttemptsPage(retryAfterSeconds: number): SafeHTML {
  return html`<p class="error">
      Too many failed password attempts for this account or from your network.
    </p>
    <p>
      For your protection, passwords are not checked for a while. Try again in
      ${waitText(retryAfterSeconds)}. Nothing was changed.
    </p>`;
}

/**
 * The JSON body of the same answer, for API and fetch callers.
 *
 * @example
 * ```ts
 * res.status(429).json(tooManyAttemptsJSON(900));
 * ```
 */
export function tooManyAttemptsJSON(retryAfterSeconds: number): {
  error: string;
  retryAfterSeconds: number;
} {
  return {
    error: `Too many failed password attempts. Try again in ${waitText(retryAfterSeconds)}.`,
    retryAfterSeconds,
  };
}

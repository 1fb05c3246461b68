/**
 * `strongroom/csrf`: the pure pieces of the CSRF defence, for adapters and for apps that check
 * by hand (`csrf.protection: 'off'`). With the built-in adapters nothing here needs calling:
 * the session manager runs both layers on every unsafe request.
 *
 * @example
 * ```ts
 * import { checkOrigin } from 'strongroom/csrf';
 * const reason = checkOrigin(
 *   { secFetchSite: req.headers['sec-fetch-site'], origin: req.headers.origin },
 *   { selfOrigins: new Set(['https://app.example']), trustedOrigins: new Set() },
 * );
 * ```
 */
export { canonicalOrigin } from './origin.js';
export {
  checkOrigin,
  isUnsafeMethod,
  pickToken,
  type OriginHeaders,
  type OriginPolicy,
  type TokenSources,
} from './request-check.js';
export {
  generateCSRFSecret,
  isWellFormedCSRFToken,
  maskCSRFToken,
  verifyCSRFToken,
} from './synchronizer-token.js';
export { isOriginReason, type CSRFFailureReason } from './reasons.js';
export type { RandomBytes } from './synchronizer-token.js';

/** Reasons a CSRF check rejects a request: layer 1 (Fetch Metadata, Origin), then layer 2 (token). */
export type CSRFFailureReason =
  | 'cross-site'
  | 'same-site'
  | 'origin-mismatch'
  | 'origin-null'
  | 'token-missing'
  | 'token-malformed'
  | 'token-invalid'
  | 'token-ambiguous';

/** Whether the reason comes from layer 1, the Fetch Metadata / Origin check. */
export function isOriginReason(reason: CSRFFailureReason): boolean {
  return !reason.startsWith('token-');
}

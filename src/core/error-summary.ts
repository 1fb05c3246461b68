/** At most this many characters of a cause reach an event or a warning. */
const MAX_SUMMARY_LENGTH = 300;

/** `scheme://user:password@` in a connection string: the password goes, the user stays. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):[^\s@]*@/gi;
/** libpq keyword settings and the like: `password=…`, `secret: …`. */
const SECRET_SETTINGS =
  /\b(password|passwd|pwd|secret|token)(\s*[=:]\s*)('[^']*'|"[^"]*"|[^\s&;,]+)/gi;
/**
 * A long run of base64url characters with a digit and a letter in it: a session token, a key,
 * a token hash. Nothing a reader needs from a store error looks like that; a token must never
 * reach a log.
 */
const OPAQUE_RUN = /[A-Za-z0-9_-]{32,}/g;

/**
 * A one-line, log-safe summary of why a call failed: `CODE: message` (`ECONNREFUSED: connect
 * ECONNREFUSED 127.0.0.1:5432`, `28P01: password authentication failed for user "app"`), with
 * the password of any URL and of any `password=` setting masked, long opaque strings elided,
 * and cut to 300 characters. Only the code and the message are read, never the `detail`,
 * `stack` or other fields of a driver's error, which can quote the data of a row.
 *
 * @example
 * ```ts
 * summarizeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
 * // 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:5432'
 * ```
 */
export function summarizeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const prefix = typeof code === 'string' || typeof code === 'number' ? `${code}: ` : '';
  const summary = (prefix + messageOf(error))
    .replace(URL_CREDENTIALS, '$1:***@')
    .replace(SECRET_SETTINGS, '$1$2***')
    .replace(OPAQUE_RUN, (run) => (/\d/.test(run) && /[A-Za-z]/.test(run) ? '[redacted]' : run))
    .replace(/\s+/g, ' ')
    .trim();
  return summary.length <= MAX_SUMMARY_LENGTH
    ? summary
    : `${summary.slice(0, MAX_SUMMARY_LENGTH - 1)}…`;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message !== '') return error.message;
  // Node reports a refused connection to a name with several addresses (`localhost`: ::1 and
  // 127.0.0.1) as an AggregateError without a message of its own.
  if (error instanceof AggregateError) {
    const inner = error.errors.map((each) => messageOf(each)).filter((each) => each !== '');
    if (inner.length > 0) return inner.join('; ');
  }
  return error.name;
}

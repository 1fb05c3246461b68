/** What is sealed inside a record: never visible to the store in clear (SM-51). */
export interface SessionPayload {
  readonly data: Readonly<Record<string, unknown>>;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly csrfSecret: string;
  /** Whether the cookie outlives the browser session ("remember me"). */
  readonly persistent: boolean;
  /**
   * The hash of the token the last rotation replaced: the only retired token honoured for the
   * grace window (or, until its successor is seen, after it). Null before the first rotation.
   */
  readonly previousTokenHash: string | null;
  /**
   * Whether the current token has been presented since it was issued. Until then, its
   * predecessor coming back is a lost response, not theft (SM-20).
   */
  readonly successorSeen: boolean;
  /** Fingerprint of the credential the user signed in with, when the app binds one (SM-28). */
  readonly credential: string | null;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAYBE_UNSAFE = /__proto__|constructor|prototype|\\u/;

function dropUnsafeKeys(key: string, value: unknown): unknown {
  return UNSAFE_KEYS.has(key) ? undefined : value;
}

export function encodePayload(payload: SessionPayload): string {
  return JSON.stringify({
    d: payload.data,
    i: payload.ip,
    u: payload.userAgent,
    c: payload.csrfSecret,
    p: payload.persistent ? 1 : 0,
    r: payload.previousTokenHash,
    s: payload.successorSeen ? 1 : 0,
    f: payload.credential,
  });
}

/**
 * Parses a decrypted payload, dropping prototype-polluting keys at every depth and checking its
 * shape; anything else is null, never an exception (SM-53).
 */
export function decodePayload(text: string): SessionPayload | null {
  let raw: unknown;
  try {
    // The reviver is slow; only text that could spell a dangerous key (directly or through a
    // \u escape) needs it.
    raw = MAYBE_UNSAFE.test(text) ? JSON.parse(text, dropUnsafeKeys) : JSON.parse(text);
  } catch {
    return null;
  }
  if (!isPlainObject(raw)) return null;
  const { d, i, u, c, p, r, s, f } = raw;
  if (!isPlainObject(d) || !isNullableString(i) || !isNullableString(u) || typeof c !== 'string') {
    return null;
  }
  if (!isFlag(p) || !isFlag(s) || !isNullableString(r) || !isNullableString(f)) return null;
  // Frozen: decoded payloads are shared between requests, and a change that bypasses
  // `session.set()` would never be stored anyway. Mutating one throws instead of silently
  // diverging from the store.
  return Object.freeze({
    data: deepFreeze(d),
    ip: i,
    userAgent: u,
    csrfSecret: c,
    persistent: p === 1,
    previousTokenHash: r,
    successorSeen: s === 1,
    credential: f,
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFlag(value: unknown): value is 0 | 1 {
  return value === 0 || value === 1;
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

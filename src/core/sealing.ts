import type { KeyRing } from './key-ring.js';
import { decodePayload, encodePayload, type SessionPayload } from './payload.js';
import { withinConfiguredDeadlines, type RecordFields, type RecordRules } from './record.js';
import type { StoredSession } from './store.js';

export interface OpenedSession {
  readonly payload: SessionPayload;
  readonly sealedWithActiveKey: boolean;
}

/** How many decrypted sessions a sealer remembers (about 1 KB each for small sessions). */
const OPENED_CACHE_ENTRIES = 10_000;

/**
 * Seals payloads into records and opens them again (SM-51), remembering what it opened: the
 * only holder of the key ring's encryption keys in the request path.
 */
export class Sealer {
  readonly #keyRing: KeyRing;
  readonly #rules: RecordRules;
  readonly #opened = new Map<
    string,
    { readonly record: StoredSession; readonly opened: OpenedSession }
  >();

  constructor(keyRing: KeyRing, rules: RecordRules) {
    this.#keyRing = keyRing;
    this.#rules = rules;
  }

  /** Seals the payload, binding every field of the record to it (SM-51). */
  seal(record: RecordFields, payload: SessionPayload): string {
    return this.#keyRing.seal(encodePayload(payload), boundFields(record));
  }

  /**
   * Null when the record does not authenticate or decode (tampered, swapped, corrupt, or a
   * field changed in the store), or when its deadlines reach further than the configuration
   * allows. Authenticated decryptions are remembered per session id, ciphertext and bound
   * fields, so a read-heavy session is decrypted once per write rather than once per request;
   * anything else misses and is decrypted and checked afresh.
   */
  open(session: StoredSession): OpenedSession | null {
    if (!withinConfiguredDeadlines(session, this.#rules)) return null;
    const cached = this.#opened.get(session.id);
    if (cached !== undefined && sameSealedRecord(cached.record, session)) return cached.opened;
    const decrypted = this.#keyRing.open(session.sealed, boundFields(session));
    const payload = decrypted === null ? null : decodePayload(decrypted.plaintext);
    if (decrypted === null || payload === null) return null;
    const opened = { payload, sealedWithActiveKey: decrypted.sealedWithActiveKey };
    if (this.#opened.size >= OPENED_CACHE_ENTRIES) {
      // Oldest first: Map iteration follows insertion order.
      this.#opened.delete(this.#opened.keys().next().value as string);
    }
    this.#opened.set(session.id, { record: session, opened });
    return opened;
  }
}

/** Whether two records carry the same ciphertext and the same fields bound to it. */
function sameSealedRecord(a: StoredSession, b: StoredSession): boolean {
  return (
    a.sealed === b.sealed &&
    a.tokenHash === b.tokenHash &&
    a.userId === b.userId &&
    a.createdAt === b.createdAt &&
    a.authenticatedAt === b.authenticatedAt &&
    a.lastSeenAt === b.lastSeenAt &&
    a.idleExpiresAt === b.idleExpiresAt &&
    a.absoluteExpiresAt === b.absoluteExpiresAt &&
    a.rotatedAt === b.rotatedAt
  );
}

/**
 * The associated data of a record's ciphertext: every field but the version (a counter for
 * compare-and-set) and the ciphertext itself. Changing any of them in the store, such as the
 * user id, a deadline or the token hash, makes the record fail to open (SM-51). Versioned so
 * that the scheme can change; JSON so that no value can run into the next.
 */
export function boundFields(record: RecordFields): string {
  return JSON.stringify([
    2,
    record.id,
    record.tokenHash,
    record.userId,
    record.createdAt,
    record.authenticatedAt,
    record.lastSeenAt,
    record.idleExpiresAt,
    record.absoluteExpiresAt,
    record.rotatedAt,
  ]);
}

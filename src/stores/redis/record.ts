import { expiresAt } from '../../core/store.js';
import type { RetiredToken, StoredSession } from '../../core/store.js';

/*
 * The record: `version,tokenHash~,user~,absoluteExpiresAt,createdAt,authenticatedAt,lastSeenAt,
 * idleExpiresAt,rotatedAt,packed,sealed`. Integers in base 36; the times after createdAt as
 * offsets from it (short for the usual deadlines); authenticatedAt empty when null; user empty
 * when null. The Lua scripts read the first nine fields (see `LUA_RECORD` in lua.ts): keep the
 * two in step. `sealed` runs to the end, so it needs no escaping. `packed` is empty when `sealed` is stored as UTF-8 text; otherwise it is the
 * byte length of a text prefix, and the bytes after it are the base64url tail of `sealed`
 * decoded (`v1.k1.<base64url>` keeps `v1.k1.` as text): a quarter less memory for the payload,
 * which dominates a record. About 60 bytes plus the payload in all.
 */
export const CORRUPT = 'Corrupt session record in Redis';
const FIELDS = 10;
/** Shorter base64url tails are kept as text: packing them would save next to nothing. */
const MIN_PACKED_LENGTH = 16;

export interface EncodedSession {
  readonly record: Buffer;
  readonly tokenHash: string;
  readonly user: string;
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
}

export function encodeSession(session: StoredSession): EncodedSession {
  const created = session.createdAt;
  const tokenHash = escapeField(session.tokenHash);
  const user = session.userId === null ? '' : encodeUser(session.userId);
  const { text, bytes } = packSealed(session.sealed);
  const header = [
    encodeInteger(session.version),
    tokenHash,
    user,
    encodeInteger(session.absoluteExpiresAt),
    encodeInteger(created),
    session.authenticatedAt === null ? '' : encodeInteger(session.authenticatedAt - created),
    encodeInteger(session.lastSeenAt - created),
    encodeInteger(session.idleExpiresAt - created),
    encodeInteger(session.rotatedAt - created),
    bytes === null ? '' : encodeInteger(Buffer.byteLength(text)),
    text,
  ].join(',');
  const record = bytes === null ? Buffer.from(header) : Buffer.concat([Buffer.from(header), bytes]);
  const deadline = expiresAt(session);
  // PXAT needs a positive deadline; anything else is a caller bug, refused before any write.
  if (!(deadline >= 1) || !(session.absoluteExpiresAt >= 1)) {
    throw new RangeError('Session deadlines must be positive epoch milliseconds');
  }
  return {
    record,
    tokenHash,
    user,
    expiresAt: deadline,
    absoluteExpiresAt: session.absoluteExpiresAt,
  };
}

/**
 * The encoded fields every writing script takes, in this order, right after its own leading
 * arguments: record, token hash~, user~ (or ''), expiresAt, absolute expiry.
 */
export function recordArguments(encoded: EncodedSession): [Buffer, string, string, number, number] {
  return [
    encoded.record,
    encoded.tokenHash,
    encoded.user,
    encoded.expiresAt,
    encoded.absoluteExpiresAt,
  ];
}

/** Splits `sealed` into a text prefix and, when it ends in canonical base64url, its bytes. */
function packSealed(sealed: string): { text: string; bytes: Buffer | null } {
  const start = sealed.lastIndexOf('.') + 1;
  const tail = sealed.slice(start);
  if (tail.length >= MIN_PACKED_LENGTH) {
    const bytes = Buffer.from(tail, 'base64url');
    // Only when decoding is exactly reversible: no padding, no stray characters or bits.
    if (bytes.toString('base64url') === tail) return { text: sealed.slice(0, start), bytes };
  }
  return { text: sealed, bytes: null };
}

export function encodeRetire(retire: RetiredToken | null): string[] {
  return retire === null
    ? ['0']
    : ['1', escapeField(retire.tokenHash), encodeInteger(retire.graceUntil)];
}

export function encodeRetireHash(retire: RetiredToken | null): string | null {
  return retire === null ? null : escapeField(retire.tokenHash);
}

export function decodeRecord(id: string, record: Buffer): StoredSession {
  const fields: string[] = [];
  let position = 0;
  for (let index = 0; index < FIELDS; index++) {
    const comma = record.indexOf(COMMA, position);
    if (comma < 0) throw new Error(CORRUPT);
    fields.push(record.toString('utf8', position, comma));
    position = comma + 1;
  }
  const [
    version,
    tokenHash,
    user,
    absolute,
    created,
    authenticated,
    lastSeen,
    idle,
    rotated,
    packed,
  ] = fields as [string, string, string, string, string, string, string, string, string, string];
  let sealed: string;
  if (packed === '') {
    sealed = record.toString('utf8', position);
  } else {
    const textEnd = position + decodeInteger(packed);
    if (textEnd > record.length) throw new Error(CORRUPT);
    sealed =
      record.toString('utf8', position, textEnd) + record.subarray(textEnd).toString('base64url');
  }
  const createdAt = decodeInteger(created);
  return {
    id,
    tokenHash: unescapeField(tokenHash),
    userId: user === '' ? null : user === '%' ? '' : unescapeField(user),
    createdAt,
    authenticatedAt: authenticated === '' ? null : createdAt + decodeInteger(authenticated),
    lastSeenAt: createdAt + decodeInteger(lastSeen),
    idleExpiresAt: createdAt + decodeInteger(idle),
    absoluteExpiresAt: decodeInteger(absolute),
    rotatedAt: createdAt + decodeInteger(rotated),
    version: decodeInteger(version),
    sealed,
  };
}

const COMMA = 0x2c;

/** The escaped user field of a record, as the index key and the scripts use it. */
export function recordUser(record: Buffer): string {
  const first = record.indexOf(COMMA);
  const second = record.indexOf(COMMA, first + 1);
  const third = record.indexOf(COMMA, second + 1);
  if (first < 0 || second < 0 || third < 0) throw new Error(CORRUPT);
  return record.toString('utf8', second + 1, third);
}

export function encodeInteger(value: number): string {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError('Session times and versions must be safe integers');
  }
  return value.toString(36);
}

export function decodeInteger(text: string): number {
  const value = parseInt(text, 36);
  if (!Number.isSafeInteger(value)) throw new Error(CORRUPT);
  return value;
}

/** `%` and `,` escaped, so that a field never contains the record's separator. */
export function escapeField(value: string): string {
  return value.replace(/[%,]/g, (character) => (character === '%' ? '%25' : '%2C'));
}

export function unescapeField(value: string): string {
  return value.replace(/%2C|%25/g, (escape) => (escape === '%25' ? '%' : ','));
}

/** A user id as stored: escaped, and the empty id as a lone `%` (which escaping never makes). */
export function encodeUser(userId: string): string {
  return userId === '' ? '%' : escapeField(userId);
}

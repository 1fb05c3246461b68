import { encodeUser, escapeField } from './record.js';

/*
 * Key layout (P = keyPrefix; `~` marks a value escaped by `escapeField`):
 *
 *   P{<id>}       string   the session record (see `encodeSession`), PXAT expiresAt(session)
 *   P{<id>}r      hash     retired token hash~ -> grace deadline (base 36), same TTL as the record
 *   P t:<hash~>   string   token hash -> session id, for the current token and retired ones;
 *                          PXAT expiresAt(session) while current, the absolute expiry once retired
 *   P u:{<user~>} zset     the user's session ids, scored by absolute expiry (only ever raised);
 *                          the key expires with the latest of them
 *
 * A session's record and its retired tokens share the hash slot of `{<id>}`. A token key lives in
 * the slot of its own hash and a user index in the slot of `{<user~>}`. The record is the only
 * authority: a token key or an index entry is a pointer that every read checks against the
 * record (the record names its current token and user; the retired hash names its old tokens).
 * With the standalone scripts, pointers are exact. With the per-slot (cluster) steps, writes are
 * ordered so that a pointer a reader may need always exists before the record that needs it, and
 * a pointer left behind by a failed step points at a record that disowns it, until its TTL ends.
 *
 * Only records end in `}`: `P{*}` (SCAN MATCH, with TYPE string) finds exactly the records.
 */

/** Names of the store's keys under one prefix. */
export interface Keys {
  /** The key prefix itself: the standalone scripts build key names from it on the server. */
  readonly prefix: string;
  session(id: string): string;
  retired(id: string): string;
  token(hash: string): string;
  /** The token key of a hash already escaped (as the scripts return it). */
  escapedToken(escapedHash: string): string;
  user(userId: string): string;
  /** The index key of a user id already encoded (as records and scripts hold it). */
  encodedUser(encodedUserId: string): string;
  /** SCAN MATCH pattern of every session record, and nothing else. */
  readonly recordPattern: string;
  /** The session id of a key the record pattern matched. */
  idOfRecordKey(key: string): string;
}

export function makeKeys(prefix: string): Keys {
  return {
    prefix,
    session: (id) => `${prefix}{${id}}`,
    retired: (id) => `${prefix}{${id}}r`,
    token: (hash) => `${prefix}t:${escapeField(hash)}`,
    escapedToken: (escapedHash) => `${prefix}t:${escapedHash}`,
    user: (userId) => `${prefix}u:{${encodeUser(userId)}}`,
    encodedUser: (encodedUserId) => `${prefix}u:{${encodedUserId}}`,
    // The prefix pattern forbids the glob characters `*?[]\`, so it needs no escaping.
    recordPattern: `${prefix}{*}`,
    idOfRecordKey: (key) => key.slice(prefix.length + 1, -1),
  };
}

import type { RetiredToken, StoredSession, TokenMatch } from '../../core/store.js';
import { deleteAll, deleteByUser, deleteSession } from './cluster-delete.js';
import { insert } from './cluster-insert.js';
import { clusterScripts } from './cluster-scripts.js';
import { claim, indexSession, members, release, settleAll } from './cluster-steps.js';
import type { Context, Operations } from './operations.js';
import type { EncodedSession } from './record.js';
import {
  decodeRecord,
  encodeInteger,
  encodeRetire,
  encodeRetireHash,
  encodeSession,
  encodeUser,
  escapeField,
  recordArguments,
  recordUser,
} from './record.js';
import { TOKEN_IN_USE, asBuffers, asStrings, live, toMatch } from './replies.js';

/**
 * The cluster topology: a token hash, a session id and a user id land in three unrelated hash
 * slots, and a script may touch one slot only, so each operation is a short sequence of
 * single-slot scripts (cluster-steps.ts), ordered so that no interleaving with another
 * operation resurrects an ended session, and parallel where that is safe. See
 * `createRedisStore` for the round trips and for what is not atomic.
 */
export function clusterOperations(context: Context): Operations {
  return {
    findByTokenHash: (tokenHash) => findByTokenHash(context, tokenHash),
    insert: (session, options) => insert(context, session, options),
    update: (session, options) => update(context, session, options),
    delete: (id) => deleteSession(context, id),
    deleteByUser: (userId, options) => deleteByUser(context, userId, options),
    deleteAll: (options) => deleteAll(context, options),
    listByUser: (userId, now) => listByUser(context, userId, now),
  };
}

/** The pointer first, then the record it names (another slot). */
async function findByTokenHash(context: Context, tokenHash: string): Promise<TokenMatch | null> {
  const { client, keys, evaluateBuffer } = context;
  const id = await client.get(keys.token(tokenHash));
  if (id === null) return null;
  const reply = await evaluateBuffer(
    clusterScripts.read,
    [keys.session(id), keys.retired(id)],
    [escapeField(tokenHash)],
  );
  if (reply === null) return null;
  const [record, grace] = asBuffers(reply);
  return toMatch(id, record, grace?.toString());
}

async function listByUser(context: Context, userId: string, now: number): Promise<StoredSession[]> {
  const { client, keys } = context;
  const indexKey = keys.user(userId);
  const ids = await members(context, indexKey);
  const records = await Promise.all(ids.map((id) => client.getBuffer(keys.session(id))));
  const owner = encodeUser(userId);
  const sessions: StoredSession[] = [];
  const gone: string[] = [];
  records.forEach((record, index) => {
    const id = ids[index] as string;
    if (record === null) gone.push(id);
    else if (recordUser(record) === owner) sessions.push(decodeRecord(id, record));
  });
  if (gone.length > 0) await settleAll([client.zrem(indexKey, ...gone)]);
  return live(sessions, now);
}

/** The steps of one update: its token claim, what must reach other slots first, the write. */
interface UpdateSteps {
  readonly encoded: EncodedSession;
  readonly tokenKey: string;
  /** Points the new token's key at the session (or extends it): 1, 0 or -1 as `claim`. */
  readonly claim: () => Promise<unknown>;
  /** The retired token's longer TTL and the user index, which must precede a full write. */
  readonly prepare: () => Promise<unknown>[];
  /** The compare-and-set of the record: 0, or {'OK' | 'PREPARE', old th~, old user~}. */
  readonly compareAndSet: (mode: 'fast' | 'full') => Promise<unknown>;
}

function updateSteps(
  context: Context,
  session: StoredSession,
  retire: RetiredToken | null,
): UpdateSteps {
  const { keys, evaluate } = context;
  const encoded = encodeSession(session);
  const id = session.id;
  const tokenKey = keys.token(session.tokenHash);
  const casKeys = [keys.session(id), keys.retired(id)];
  return {
    encoded,
    tokenKey,
    claim: () => claim(context, tokenKey, id, encoded.expiresAt),
    prepare: () => {
      const steps: Promise<unknown>[] = [];
      if (retire !== null) {
        steps.push(claim(context, keys.token(retire.tokenHash), id, encoded.absoluteExpiresAt));
      }
      if (session.userId !== null) {
        steps.push(indexSession(context, session.userId, id, encoded, 'index-only'));
      }
      return steps;
    },
    compareAndSet: (mode) =>
      evaluate(clusterScripts.compareAndSet, casKeys, [
        encodeInteger(session.version - 1),
        ...recordArguments(encoded),
        mode,
        ...encodeRetire(retire),
      ]),
  };
}

async function update(
  context: Context,
  session: StoredSession,
  { retire }: { readonly retire: RetiredToken | null },
): Promise<boolean> {
  const steps = updateSteps(context, session, retire);
  let claimed: unknown;
  let reply: unknown = 0;
  if (retire === null) {
    // An ordinary touch: the record changes in place and the token key's TTL follows, both
    // in one round trip. Anything more (a new token, a new user, a later absolute expiry)
    // must reach the other slots first: 'PREPARE' says so, and nothing was written.
    [claimed, reply] = await Promise.all([steps.claim(), steps.compareAndSet('fast')]);
    if (claimed !== -1 && Array.isArray(reply) && reply[0] === 'PREPARE') {
      await Promise.all(steps.prepare());
      reply = await steps.compareAndSet('full');
    }
  } else {
    // A rotation: the new token key, the retired token's longer TTL and the user index go
    // first, so that the moment the record names the new token, both tokens resolve.
    [claimed] = await Promise.all([steps.claim(), ...steps.prepare()]);
    if (claimed !== -1) reply = await steps.compareAndSet('full');
  }
  if (claimed === -1) {
    if (reply === 0) return false;
    throw new Error(TOKEN_IN_USE);
  }
  if (!Array.isArray(reply) || reply[0] !== 'OK') {
    if (claimed === 1) await settleAll([release(context, steps.tokenKey, session.id)]);
    return false;
  }
  // Committed: from here on, only pointers that reads already ignore are tidied up.
  await tidyAfterUpdate(context, session.id, steps.encoded, retire, asStrings(reply));
  return true;
}

/** Clears the old token key and the old user's index entry a committed update left behind. */
async function tidyAfterUpdate(
  context: Context,
  id: string,
  encoded: EncodedSession,
  retire: RetiredToken | null,
  [, oldTokenHash, oldUser]: string[],
): Promise<void> {
  const { client, keys } = context;
  const tidy: Promise<unknown>[] = [];
  if (oldTokenHash !== encoded.tokenHash && oldTokenHash !== encodeRetireHash(retire)) {
    tidy.push(release(context, keys.escapedToken(oldTokenHash ?? ''), id));
  }
  if (oldUser !== undefined && oldUser !== '' && oldUser !== encoded.user) {
    tidy.push(client.zrem(keys.encodedUser(oldUser), id));
  }
  await settleAll(tidy);
}

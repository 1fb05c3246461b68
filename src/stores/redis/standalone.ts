import type {
  DeleteAllOptions,
  DeleteAllResult,
  InsertOptions,
  InsertResult,
  RetiredToken,
  StoredSession,
  TokenMatch,
} from '../../core/store.js';
import type { Context, Operations } from './operations.js';
import {
  decodeRecord,
  encodeInteger,
  encodeRetire,
  encodeSession,
  encodeUser,
  escapeField,
  recordArguments,
} from './record.js';
import {
  asBuffers,
  asStrings,
  live,
  readInsertReply,
  readUpdateReply,
  toMatch,
} from './replies.js';
import {
  SCAN_BATCHES_PER_CALL,
  encodeScanPosition,
  nothingDeleted,
  startDeleteAll,
} from './scan.js';
import { standaloneScripts } from './standalone-scripts.js';

/**
 * The standalone topology: every operation is one script that follows pointers between keys on
 * the server, so one round trip, and atomic (Redis runs one script at a time).
 */
export function standaloneOperations(context: Context): Operations {
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

async function findByTokenHash(
  { keys, evaluateBuffer }: Context,
  tokenHash: string,
): Promise<TokenMatch | null> {
  const reply = await evaluateBuffer(
    standaloneScripts.find,
    [keys.token(tokenHash)],
    [keys.prefix, escapeField(tokenHash)],
  );
  if (reply === null) return null;
  const [id, record, grace] = asBuffers(reply);
  return toMatch(id?.toString(), record, grace?.toString());
}

/**
 * One script checks the id, the token hash, the replaced session's version and the limit before
 * it changes anything; an id or token hash another session holds rejects (`StoreConflictError`).
 */
async function insert(
  { keys, evaluate }: Context,
  session: StoredSession,
  { replaces, limit }: InsertOptions,
): Promise<InsertResult> {
  const encoded = encodeSession(session);
  // The limit applies to signed-in sessions only; the script skips it for an empty user.
  const reply = await evaluate(
    standaloneScripts.insert,
    [keys.session(session.id), keys.token(session.tokenHash)],
    [
      keys.prefix,
      session.id,
      ...recordArguments(encoded),
      replaces?.id ?? '',
      replaces === null ? '' : encodeInteger(replaces.version),
      limit === null ? '' : String(limit.max),
      limit?.policy ?? '',
      limit === null ? '' : String(limit.now),
    ],
  );
  return readInsertReply(reply);
}

async function update(
  { keys, evaluate }: Context,
  session: StoredSession,
  { retire }: { readonly retire: RetiredToken | null },
): Promise<boolean> {
  const encoded = encodeSession(session);
  const reply = await evaluate(
    standaloneScripts.update,
    [keys.session(session.id), keys.token(session.tokenHash)],
    [
      keys.prefix,
      session.id,
      encodeInteger(session.version - 1),
      ...recordArguments(encoded),
      ...encodeRetire(retire),
    ],
  );
  return readUpdateReply(reply);
}

async function deleteSession({ keys, evaluate }: Context, id: string): Promise<boolean> {
  return (await evaluate(standaloneScripts.delete, [keys.session(id)], [keys.prefix, id])) === 1;
}

async function deleteByUser(
  { keys, evaluate }: Context,
  userId: string,
  { except }: { readonly except: string | null },
): Promise<string[]> {
  const reply = await evaluate(
    standaloneScripts.deleteByUser,
    [keys.user(userId)],
    [keys.prefix, encodeUser(userId), ...(except === null ? ['0'] : ['1', except])],
  );
  return asStrings(reply);
}

async function deleteAll(
  { keys, evaluate }: Context,
  options: DeleteAllOptions,
): Promise<DeleteAllResult> {
  const start = startDeleteAll(options);
  // One server is node 0: any other node index is past the end.
  if (start === null || start.position.node !== 0) return nothingDeleted();
  const reply = await evaluate(
    standaloneScripts.deleteAll,
    [],
    [
      keys.prefix,
      keys.recordPattern,
      start.position.cursor,
      start.count,
      String(options.createdBefore),
      String(start.room),
      SCAN_BATCHES_PER_CALL,
    ],
  );
  const [next, deleted] = Array.isArray(reply) ? (reply as unknown[]) : [];
  return {
    deleted: asStrings(deleted),
    cursor: next === '0' ? null : encodeScanPosition({ node: 0, cursor: String(next) }),
  };
}

async function listByUser(
  { keys, evaluateBuffer }: Context,
  userId: string,
  now: number,
): Promise<StoredSession[]> {
  const reply = asBuffers(
    await evaluateBuffer(
      standaloneScripts.listByUser,
      [keys.user(userId)],
      [keys.prefix, encodeUser(userId)],
    ),
  );
  const sessions: StoredSession[] = [];
  for (let index = 0; index + 1 < reply.length; index += 2) {
    sessions.push(decodeRecord((reply[index] as Buffer).toString(), reply[index + 1] as Buffer));
  }
  return live(sessions, now);
}

import { StoreConflictError } from '../../core/errors.js';
import { expiresAt } from '../../core/store.js';
import { leastRecentlyUsedFirst } from '../shared/eviction-order.js';
import { CONFLICT, LIMIT_REACHED, inserted } from '../shared/insert-results.js';
import { sessionFields } from '../shared/rows.js';
import { settle } from '../shared/settle.js';
import type {
  DeleteAllOptions,
  DeleteAllResult,
  InsertOptions,
  InsertResult,
  RetiredToken,
  SessionStore,
  StoredSession,
  TokenMatch,
  UserSessionLimit,
} from '../shared/store-types.js';
import { resolveOptions } from './options.js';
import type { MemoryStoreOptions, ResolvedOptions } from './options.js';
import { SessionTable } from './session-table.js';

let productionWarningEmitted = false;

/** See `createMemoryStore` in ../memory.ts, the public entry point. */
export function openMemoryStore(options: MemoryStoreOptions): SessionStore {
  const resolved = resolveOptions(options);
  warnInProduction();
  const table = new SessionTable();
  let closed = false;
  const run = <T>(operation: () => T): Promise<T> =>
    settle(() => {
      if (closed) throw new Error('The memory session store is closed');
      return operation();
    });

  return {
    findByTokenHash: (tokenHash: string): Promise<TokenMatch | null> =>
      run(() => findByTokenHash(table, tokenHash)),
    findById: (id: string): Promise<StoredSession | null> => run(() => table.get(id) ?? null),
    insert: (session: StoredSession, options: InsertOptions): Promise<InsertResult> =>
      run(() => insertSession(table, resolved, session, options)),
    update: (
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> => run(() => updateSession(table, session, retire)),
    delete: (id: string): Promise<boolean> => run(() => table.remove(id)),
    deleteByUser: (
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> =>
      run(() => {
        const ids = table.idsOfUser(userId).filter((id) => id !== except);
        for (const id of ids) table.remove(id);
        return ids;
      }),
    deleteAll: (options: DeleteAllOptions): Promise<DeleteAllResult> =>
      run(() => deleteAll(table, options)),
    listByUser: (userId: string, now: number): Promise<StoredSession[]> =>
      run(() => listByUser(table, userId, now)),
    purgeExpired: (now: number, limit: number): Promise<number> =>
      run(() => table.purge(now, limit)),
    close(): Promise<void> {
      if (!closed) {
        closed = true;
        table.clear();
      }
      return Promise.resolve();
    },
  };
}

function findByTokenHash(table: SessionTable, tokenHash: string): TokenMatch | null {
  const currentId = table.holderOf(tokenHash);
  const current = currentId === undefined ? undefined : table.get(currentId);
  if (current !== undefined) return { session: current, retiredGraceUntil: null };
  const retired = table.retiredToken(tokenHash);
  const owner = retired === undefined ? undefined : table.get(retired.sessionId);
  if (retired === undefined || owner === undefined) return null;
  return { session: owner, retiredGraceUntil: retired.graceUntil };
}

function insertSession(
  table: SessionTable,
  { maxSessions, now }: ResolvedOptions,
  session: StoredSession,
  { replaces, limit }: InsertOptions,
): InsertResult {
  const replacedId = replaces?.id ?? null;
  assertUnused(table, session, replacedId);
  // Only a session that exists at exactly the version read is replaced (SM-31).
  if (replaces !== null && table.get(replaces.id)?.version !== replaces.version) return CONFLICT;
  const evicted =
    limit === null || session.userId === null
      ? []
      : overLimit(table, session.userId, limit, replacedId);
  if (evicted === null) return LIMIT_REACHED;

  // Room is made after the replaced and evicted sessions are gone, so that a store full of
  // signed-in sessions can still serve logins that replace a session.
  if (replacedId !== null) table.remove(replacedId);
  for (const id of evicted) table.remove(id);
  makeRoom(table, maxSessions, now);
  table.add(Object.freeze(sessionFields(session)));
  return inserted(evicted);
}

/**
 * Refuses, before anything changes, an id or a current token hash that another session holds;
 * the session being replaced hands both over. The id is checked first, as in every store.
 */
function assertUnused(
  table: SessionTable,
  session: StoredSession,
  replacedId: string | null,
): void {
  if (table.has(session.id) && session.id !== replacedId) {
    throw new StoreConflictError('session id');
  }
  const holder = table.holderOf(session.tokenHash);
  if (holder !== undefined && holder !== replacedId) {
    throw new StoreConflictError('token hash');
  }
}

/**
 * The sessions to evict so that the user keeps at most `limit.max` live sessions once the new
 * one is in (SM-34), least recently used first; null when the policy refuses instead.
 */
function overLimit(
  table: SessionTable,
  userId: string,
  limit: UserSessionLimit,
  replacedId: string | null,
): string[] | null {
  const live: StoredSession[] = [];
  for (const id of table.idsOfUser(userId)) {
    const record = table.get(id);
    if (record !== undefined && id !== replacedId && expiresAt(record) > limit.now) {
      live.push(record);
    }
  }
  const excess = live.length + 1 - limit.max;
  if (excess <= 0) return [];
  if (limit.policy === 'refuse') return null;
  return live
    .sort(leastRecentlyUsedFirst)
    .slice(0, excess)
    .map((record) => record.id);
}

/**
 * Frees one place when the store is full. Every insert adds at most one session, so one place
 * is always enough; the check comes before any change, so a rejected insert leaves the store as
 * it was (expired sessions aside).
 */
function makeRoom(table: SessionTable, maxSessions: number, now: () => number): void {
  if (table.size < maxSessions) return;
  if (table.dropExpired(now()) || table.dropOldestAnonymous()) return;
  throw new Error(
    `The memory session store is full: maxSessions (${maxSessions}) signed-in sessions are live`,
  );
}

function updateSession(
  table: SessionTable,
  session: StoredSession,
  retire: RetiredToken | null,
): boolean {
  const current = table.get(session.id);
  if (current === undefined || current.version !== session.version - 1) return false;
  const holder = table.holderOf(session.tokenHash);
  if (holder !== undefined && holder !== session.id) {
    throw new Error('Another session already uses this token hash');
  }
  const retiredHolder = retire === null ? undefined : table.retiredToken(retire.tokenHash);
  if (retiredHolder !== undefined && retiredHolder.sessionId !== session.id) {
    throw new Error('Another session already retired this token hash');
  }
  table.replace(Object.freeze(sessionFields(session)), retire);
  return true;
}

function deleteAll(
  table: SessionTable,
  { createdBefore, limit }: DeleteAllOptions,
): DeleteAllResult {
  // Every call starts over from the first session, so a call that deletes nothing has seen the
  // whole map: each call is a whole pass and the cursor stays null.
  const deleted: string[] = [];
  for (const [id, entry] of table.entries()) {
    if (!(deleted.length < limit)) break;
    if (entry.record.createdAt < createdBefore) deleted.push(id);
  }
  for (const id of deleted) table.remove(id);
  return { deleted, cursor: null };
}

function listByUser(table: SessionTable, userId: string, now: number): StoredSession[] {
  const live: StoredSession[] = [];
  for (const id of table.idsOfUser(userId)) {
    const record = table.get(id);
    if (record === undefined) continue;
    if (expiresAt(record) > now) live.push(record);
    else table.remove(id);
  }
  return live.sort((a, b) => a.createdAt - b.createdAt);
}

function warnInProduction(): void {
  if (productionWarningEmitted || process.env.NODE_ENV !== 'production') return;
  productionWarningEmitted = true;
  process.emitWarning(
    'The Strongroom memory store keeps sessions in this process only: they are lost on restart ' +
      'and a logout handled by one instance is not seen by the others. Use the SQLite, Redis or ' +
      'PostgreSQL store in production.',
    { type: 'StrongroomWarning', code: 'STRONGROOM_MEMORY_STORE' },
  );
}

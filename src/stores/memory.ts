import { ConfigError } from '../core/errors.js';
import { expiresAt } from '../core/store.js';
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
} from '../core/store.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most sessions kept at once, which keeps a flood of sessions from exhausting the
   * process's memory. When the store is full, inserting a session first drops an expired
   * session, else the anonymous session inserted longest ago. A live signed-in session is
   * never evicted: otherwise anyone able to sign up or log in repeatedly could push every
   * user out. When all `maxSessions` sessions are live and signed in, the insert rejects
   * (the session manager answers 503 and emits `store.failed`); use a persistent store, or
   * raise the bound, if that can happen.
   *
   * @default 10_000
   */
  readonly maxSessions?: number;
  /**
   * The clock that tells which sessions have expired when room is needed, in milliseconds
   * since the Unix epoch. Pass the same clock as the session manager's when you inject one.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

interface HeapNode {
  readonly id: string;
  readonly expiresAt: number;
  readonly seq: number;
}

interface Entry {
  record: StoredSession;
  /** The heap node that currently stands for this session; older nodes are stale. */
  node: HeapNode;
  readonly retired: Set<string>;
}

interface RetiredEntry {
  readonly sessionId: string;
  readonly graceUntil: number;
}

const DEFAULT_MAX_SESSIONS = 10_000;
const CONFLICT: InsertResult = Object.freeze({ status: 'conflict' });
const LIMIT_REACHED: InsertResult = Object.freeze({ status: 'limit-reached' });

let productionWarningEmitted = false;

/**
 * A session store held in this process's memory, for tests and local development.
 *
 * Sessions are lost when the process restarts and are not shared between processes, so a
 * logout handled by one instance is not seen by another: use the SQLite, Redis or PostgreSQL
 * store in production. Creating a memory store while `NODE_ENV` is `production` emits a
 * process warning (once per process).
 *
 * Expired sessions are dropped lazily, without a timer: by {@link SessionStore.purgeExpired},
 * when {@link SessionStore.listByUser} meets them, and first in line when room is needed for a
 * new session. Reads may return an expired session; the session manager checks deadlines
 * itself. The store keeps frozen copies of the records it is given and hands those out.
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'strongroom/stores/memory';
 *
 * const store = createMemoryStore({ maxSessions: 1_000 });
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): SessionStore {
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new ConfigError([{ path: 'maxSessions', message: 'must be a positive integer' }]);
  }
  const clock = options.now ?? (() => Date.now());
  warnInProduction();

  const sessions = new Map<string, Entry>();
  const currentTokens = new Map<string, string>();
  const retiredTokens = new Map<string, RetiredEntry>();
  const userSessions = new Map<string, Set<string>>();
  /** Ids of anonymous sessions in insertion order: the first is the first to go when full. */
  const anonymous = new Set<string>();
  const heap = new ExpiryHeap();
  let sequence = 0;
  let closed = false;

  function newNode(record: StoredSession): HeapNode {
    const node: HeapNode = { id: record.id, expiresAt: expiresAt(record), seq: sequence++ };
    heap.push(node);
    // Every deadline change leaves a stale node behind; rebuild before they outnumber the
    // live ones so that memory stays proportional to maxSessions.
    if (heap.size > 2 * sessions.size + 1_024) {
      heap.rebuild([...sessions.values()].map((entry) => entry.node).concat(node));
    }
    return node;
  }

  function isCurrent(node: HeapNode): boolean {
    return sessions.get(node.id)?.node === node;
  }

  function indexUser(userId: string | null, id: string): void {
    if (userId === null) {
      anonymous.add(id);
      return;
    }
    let ids = userSessions.get(userId);
    if (ids === undefined) {
      ids = new Set();
      userSessions.set(userId, ids);
    }
    ids.add(id);
  }

  function unindexUser(userId: string | null, id: string): void {
    if (userId === null) {
      anonymous.delete(id);
      return;
    }
    const ids = userSessions.get(userId);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) userSessions.delete(userId);
  }

  function remove(id: string): boolean {
    const entry = sessions.get(id);
    if (entry === undefined) return false;
    sessions.delete(id);
    currentTokens.delete(entry.record.tokenHash);
    for (const tokenHash of entry.retired) retiredTokens.delete(tokenHash);
    unindexUser(entry.record.userId, id);
    return true;
  }

  /** Whether `replaces` names a session that exists at exactly that version (SM-31). */
  function isReplaceable(replaces: InsertOptions['replaces']): boolean {
    return replaces === null || sessions.get(replaces.id)?.record.version === replaces.version;
  }

  function assertUnused(session: StoredSession, replacedId: string | null): void {
    if (sessions.has(session.id) && session.id !== replacedId) {
      throw new Error('A session with this id already exists');
    }
    const holder = currentTokens.get(session.tokenHash);
    if (holder !== undefined && holder !== replacedId) {
      throw new Error('Another session already uses this token hash');
    }
  }

  /**
   * The sessions to evict so that the user keeps at most `limit.max` live sessions once the
   * new one is in (SM-34), least recently used first; null when the policy refuses instead.
   */
  function overLimit(
    userId: string,
    limit: UserSessionLimit,
    replacedId: string | null,
  ): string[] | null {
    const live: StoredSession[] = [];
    for (const id of userSessions.get(userId) ?? []) {
      const record = sessions.get(id)?.record;
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

  /** Drops the expired session whose deadline passed first; false when none has expired. */
  function dropExpired(now: number): boolean {
    for (let node = heap.peek(); node !== undefined; node = heap.peek()) {
      if (isCurrent(node) && node.expiresAt > now) return false;
      heap.pop();
      if (isCurrent(node)) return remove(node.id);
    }
    return false;
  }

  function dropOldestAnonymous(): boolean {
    const first = anonymous.values().next();
    return first.done !== true && remove(first.value);
  }

  /**
   * Frees one place when the store is full. Every insert adds at most one session, so one
   * place is always enough; the check comes before any change, so a rejected insert leaves
   * the store as it was (expired sessions aside).
   */
  function makeRoom(): void {
    if (sessions.size < maxSessions) return;
    if (dropExpired(clock()) || dropOldestAnonymous()) return;
    throw new Error(
      `The memory session store is full: maxSessions (${maxSessions}) signed-in sessions are live`,
    );
  }

  function run<T>(operation: () => T): Promise<T> {
    return new Promise((resolve) => {
      if (closed) throw new Error('The memory session store is closed');
      resolve(operation());
    });
  }

  return {
    findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      return run(() => {
        const currentId = currentTokens.get(tokenHash);
        const current = currentId === undefined ? undefined : sessions.get(currentId);
        if (current !== undefined) return { session: current.record, retiredGraceUntil: null };
        const retired = retiredTokens.get(tokenHash);
        const owner = retired === undefined ? undefined : sessions.get(retired.sessionId);
        if (retired === undefined || owner === undefined) return null;
        return { session: owner.record, retiredGraceUntil: retired.graceUntil };
      });
    },

    findById(id: string): Promise<StoredSession | null> {
      return run(() => sessions.get(id)?.record ?? null);
    },

    insert(session: StoredSession, { replaces, limit }: InsertOptions): Promise<InsertResult> {
      return run(() => {
        const replacedId = replaces?.id ?? null;
        assertUnused(session, replacedId);
        if (!isReplaceable(replaces)) return CONFLICT;
        const evicted =
          limit === null || session.userId === null
            ? []
            : overLimit(session.userId, limit, replacedId);
        if (evicted === null) return LIMIT_REACHED;

        // Room is made after the replaced and evicted sessions are gone, so that a store full
        // of signed-in sessions can still serve logins that replace a session.
        if (replacedId !== null) remove(replacedId);
        for (const id of evicted) remove(id);
        makeRoom();
        const record = copySession(session);
        sessions.set(record.id, { record, node: newNode(record), retired: new Set() });
        currentTokens.set(record.tokenHash, record.id);
        indexUser(record.userId, record.id);
        return { status: 'inserted', evicted };
      });
    },

    update(
      session: StoredSession,
      { retire }: { readonly retire: RetiredToken | null },
    ): Promise<boolean> {
      return run(() => {
        const entry = sessions.get(session.id);
        if (entry === undefined || entry.record.version !== session.version - 1) return false;
        const holder = currentTokens.get(session.tokenHash);
        if (holder !== undefined && holder !== session.id) {
          throw new Error('Another session already uses this token hash');
        }
        const retiredHolder = retire === null ? undefined : retiredTokens.get(retire.tokenHash);
        if (retiredHolder !== undefined && retiredHolder.sessionId !== session.id) {
          throw new Error('Another session already retired this token hash');
        }

        const previous = entry.record;
        const record = copySession(session);
        entry.record = record;
        if (previous.tokenHash !== record.tokenHash) {
          currentTokens.delete(previous.tokenHash);
          currentTokens.set(record.tokenHash, record.id);
        }
        if (previous.userId !== record.userId) {
          unindexUser(previous.userId, record.id);
          indexUser(record.userId, record.id);
        }
        if (entry.node.expiresAt !== expiresAt(record)) entry.node = newNode(record);
        if (retire !== null) {
          retiredTokens.set(retire.tokenHash, {
            sessionId: record.id,
            graceUntil: retire.graceUntil,
          });
          entry.retired.add(retire.tokenHash);
        }
        return true;
      });
    },

    delete(id: string): Promise<boolean> {
      return run(() => remove(id));
    },

    deleteByUser(
      userId: string,
      { except }: { readonly except: string | null },
    ): Promise<string[]> {
      return run(() => {
        const ids = [...(userSessions.get(userId) ?? [])].filter((id) => id !== except);
        for (const id of ids) remove(id);
        return ids;
      });
    },

    deleteAll({ createdBefore, limit }: DeleteAllOptions): Promise<DeleteAllResult> {
      return run(() => {
        // Every call starts over from the first session, so a call that deletes nothing has seen
        // the whole map: each call is a whole pass and the cursor stays null.
        const deleted: string[] = [];
        for (const [id, entry] of sessions) {
          if (!(deleted.length < limit)) break;
          if (entry.record.createdAt < createdBefore) deleted.push(id);
        }
        for (const id of deleted) remove(id);
        return { deleted, cursor: null };
      });
    },

    listByUser(userId: string, now: number): Promise<StoredSession[]> {
      return run(() => {
        const live: StoredSession[] = [];
        for (const id of [...(userSessions.get(userId) ?? [])]) {
          const entry = sessions.get(id);
          if (entry === undefined) continue;
          if (expiresAt(entry.record) > now) live.push(entry.record);
          else remove(id);
        }
        return live.sort((a, b) => a.createdAt - b.createdAt);
      });
    },

    purgeExpired(now: number, limit: number): Promise<number> {
      return run(() => {
        let purged = 0;
        while (purged < limit) {
          const node = heap.peek();
          if (node === undefined || node.expiresAt > now) break;
          heap.pop();
          if (isCurrent(node)) {
            remove(node.id);
            purged++;
          }
        }
        return purged;
      });
    },

    close(): Promise<void> {
      if (!closed) {
        closed = true;
        sessions.clear();
        currentTokens.clear();
        retiredTokens.clear();
        userSessions.clear();
        anonymous.clear();
        heap.rebuild([]);
      }
      return Promise.resolve();
    },
  };
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

/**
 * Copies only the fields of a stored session, so that the store never keeps a reference the
 * caller can still change, nor anything else (such as decrypted data) that was attached to it.
 */
function copySession(session: StoredSession): StoredSession {
  return Object.freeze({
    id: session.id,
    tokenHash: session.tokenHash,
    userId: session.userId,
    createdAt: session.createdAt,
    authenticatedAt: session.authenticatedAt,
    lastSeenAt: session.lastSeenAt,
    idleExpiresAt: session.idleExpiresAt,
    absoluteExpiresAt: session.absoluteExpiresAt,
    rotatedAt: session.rotatedAt,
    version: session.version,
    sealed: session.sealed,
  });
}

/** A binary min-heap of deadlines; ties go to the older node. */
class ExpiryHeap {
  #nodes: HeapNode[] = [];

  get size(): number {
    return this.#nodes.length;
  }

  peek(): HeapNode | undefined {
    return this.#nodes[0];
  }

  push(node: HeapNode): void {
    this.#nodes.push(node);
    this.#siftUp(this.#nodes.length - 1);
  }

  pop(): HeapNode | undefined {
    const nodes = this.#nodes;
    const top = nodes[0];
    const last = nodes.pop();
    if (top !== undefined && last !== undefined && nodes.length > 0) {
      nodes[0] = last;
      this.#siftDown(0);
    }
    return top;
  }

  rebuild(nodes: HeapNode[]): void {
    this.#nodes = nodes;
    for (let index = (nodes.length >> 1) - 1; index >= 0; index--) this.#siftDown(index);
  }

  #siftUp(index: number): void {
    const nodes = this.#nodes;
    const node = nodes[index];
    if (node === undefined) return;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = nodes[parentIndex];
      if (parent === undefined || !precedes(node, parent)) break;
      nodes[index] = parent;
      index = parentIndex;
    }
    nodes[index] = node;
  }

  #siftDown(index: number): void {
    const nodes = this.#nodes;
    const node = nodes[index];
    if (node === undefined) return;
    for (;;) {
      let childIndex = 2 * index + 1;
      let child = nodes[childIndex];
      if (child === undefined) break;
      const right = nodes[childIndex + 1];
      if (right !== undefined && precedes(right, child)) {
        childIndex++;
        child = right;
      }
      if (!precedes(child, node)) break;
      nodes[index] = child;
      index = childIndex;
    }
    nodes[index] = node;
  }
}

/** The eviction order of SM-34: smallest `lastSeenAt`, then `createdAt`, then `id`. */
function leastRecentlyUsedFirst(a: StoredSession, b: StoredSession): number {
  return (
    a.lastSeenAt - b.lastSeenAt ||
    a.createdAt - b.createdAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

function precedes(a: HeapNode, b: HeapNode): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq);
}

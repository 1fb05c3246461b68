import { ConfigError } from '../core/errors.js';
import { expiresAt } from '../core/store.js';
import type { RetiredToken, SessionStore, StoredSession, TokenMatch } from '../core/store.js';

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most sessions kept at once. When the store is full, inserting a session first evicts
   * the session whose deadline (the earlier of idle and absolute expiry) comes soonest, so
   * expired sessions always go before live ones, and among live sessions the least active
   * goes first. Bounding the store keeps a flood of anonymous sessions from exhausting the
   * process's memory.
   *
   * @default 10_000
   */
  readonly maxSessions?: number;
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
  warnInProduction();

  const sessions = new Map<string, Entry>();
  const currentTokens = new Map<string, string>();
  const retiredTokens = new Map<string, RetiredEntry>();
  const userSessions = new Map<string, Set<string>>();
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
    if (userId === null) return;
    let ids = userSessions.get(userId);
    if (ids === undefined) {
      ids = new Set();
      userSessions.set(userId, ids);
    }
    ids.add(id);
  }

  function unindexUser(userId: string | null, id: string): void {
    if (userId === null) return;
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

  function makeRoom(): void {
    while (sessions.size >= maxSessions) {
      const node = heap.pop();
      if (node === undefined) return;
      if (isCurrent(node)) remove(node.id);
    }
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

    insert(
      session: StoredSession,
      { replaces }: { readonly replaces: string | null },
    ): Promise<void> {
      return run(() => {
        const existing = sessions.get(session.id);
        if (existing !== undefined && session.id !== replaces) {
          throw new Error('A session with this id already exists');
        }
        const holder = currentTokens.get(session.tokenHash);
        if (holder !== undefined && holder !== replaces) {
          throw new Error('Another session already uses this token hash');
        }
        if (replaces !== null) remove(replaces);
        makeRoom();
        const record = copySession(session);
        sessions.set(record.id, { record, node: newNode(record), retired: new Set() });
        currentTokens.set(record.tokenHash, record.id);
        indexUser(record.userId, record.id);
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

function precedes(a: HeapNode, b: HeapNode): boolean {
  return a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.seq < b.seq);
}

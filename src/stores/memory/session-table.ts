import { expiresAt } from '../../core/store.js';
import type { RetiredToken, StoredSession } from '../shared/store-types.js';
import { ExpiryHeap } from './expiry-heap.js';
import type { HeapNode } from './expiry-heap.js';

interface Entry {
  record: StoredSession;
  /** The heap node that currently stands for this session; older nodes are stale. */
  node: HeapNode;
  readonly retired: Set<string>;
}

export interface RetiredEntry {
  readonly sessionId: string;
  readonly graceUntil: number;
}

/**
 * The memory store's records and every index over them, kept consistent by the only methods
 * that change them: {@link add}, {@link replace} and {@link remove}.
 */
export class SessionTable {
  readonly #sessions = new Map<string, Entry>();
  readonly #currentTokens = new Map<string, string>();
  readonly #retiredTokens = new Map<string, RetiredEntry>();
  readonly #userSessions = new Map<string, Set<string>>();
  /** Ids of anonymous sessions in insertion order: the first is the first to go when full. */
  readonly #anonymous = new Set<string>();
  readonly #heap = new ExpiryHeap();
  #sequence = 0;

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): StoredSession | undefined {
    return this.#sessions.get(id)?.record;
  }

  has(id: string): boolean {
    return this.#sessions.has(id);
  }

  /** The id of the session whose current token hashes to `tokenHash`. */
  holderOf(tokenHash: string): string | undefined {
    return this.#currentTokens.get(tokenHash);
  }

  retiredToken(tokenHash: string): RetiredEntry | undefined {
    return this.#retiredTokens.get(tokenHash);
  }

  /** A copy of the ids of the user's sessions, safe to iterate while removing them. */
  idsOfUser(userId: string): string[] {
    return [...(this.#userSessions.get(userId) ?? [])];
  }

  /** Sessions in insertion order, for scans. */
  entries(): IterableIterator<[string, { readonly record: StoredSession }]> {
    return this.#sessions.entries();
  }

  /** Adds a record whose id and token hash are free (the caller checks). */
  add(record: StoredSession): void {
    this.#sessions.set(record.id, { record, node: this.#newNode(record), retired: new Set() });
    this.#currentTokens.set(record.tokenHash, record.id);
    this.#indexUser(record.userId, record.id);
  }

  /** Replaces the record of an existing session, retiring `retire` as one of its tokens. */
  replace(record: StoredSession, retire: RetiredToken | null): void {
    const entry = this.#sessions.get(record.id);
    if (entry === undefined) return;
    const previous = entry.record;
    entry.record = record;
    if (previous.tokenHash !== record.tokenHash) {
      this.#currentTokens.delete(previous.tokenHash);
      this.#currentTokens.set(record.tokenHash, record.id);
    }
    if (previous.userId !== record.userId) {
      this.#unindexUser(previous.userId, record.id);
      this.#indexUser(record.userId, record.id);
    }
    if (entry.node.expiresAt !== expiresAt(record)) entry.node = this.#newNode(record);
    if (retire !== null) {
      this.#retiredTokens.set(retire.tokenHash, {
        sessionId: record.id,
        graceUntil: retire.graceUntil,
      });
      entry.retired.add(retire.tokenHash);
    }
  }

  /** Removes a session and its retired tokens. Returns whether it existed. */
  remove(id: string): boolean {
    const entry = this.#sessions.get(id);
    if (entry === undefined) return false;
    this.#sessions.delete(id);
    this.#currentTokens.delete(entry.record.tokenHash);
    for (const tokenHash of entry.retired) this.#retiredTokens.delete(tokenHash);
    this.#unindexUser(entry.record.userId, id);
    return true;
  }

  /** Drops the expired session whose deadline passed first; false when none has expired. */
  dropExpired(now: number): boolean {
    const heap = this.#heap;
    for (let node = heap.peek(); node !== undefined; node = heap.peek()) {
      if (this.#isCurrent(node) && node.expiresAt > now) return false;
      heap.pop();
      if (this.#isCurrent(node)) return this.remove(node.id);
    }
    return false;
  }

  dropOldestAnonymous(): boolean {
    const first = this.#anonymous.values().next();
    return first.done !== true && this.remove(first.value);
  }

  /** Removes at most `limit` sessions whose deadline is at or before `now`; returns how many. */
  purge(now: number, limit: number): number {
    const heap = this.#heap;
    let purged = 0;
    while (purged < limit) {
      const node = heap.peek();
      if (node === undefined || node.expiresAt > now) break;
      heap.pop();
      if (this.#isCurrent(node)) {
        this.remove(node.id);
        purged++;
      }
    }
    return purged;
  }

  clear(): void {
    this.#sessions.clear();
    this.#currentTokens.clear();
    this.#retiredTokens.clear();
    this.#userSessions.clear();
    this.#anonymous.clear();
    this.#heap.rebuild([]);
  }

  #newNode(record: StoredSession): HeapNode {
    const node: HeapNode = { id: record.id, expiresAt: expiresAt(record), seq: this.#sequence++ };
    this.#heap.push(node);
    // Every deadline change leaves a stale node behind; rebuild before they outnumber the
    // live ones so that memory stays proportional to maxSessions.
    if (this.#heap.size > 2 * this.#sessions.size + 1_024) {
      this.#heap.rebuild([...this.#sessions.values()].map((entry) => entry.node).concat(node));
    }
    return node;
  }

  #isCurrent(node: HeapNode): boolean {
    return this.#sessions.get(node.id)?.node === node;
  }

  #indexUser(userId: string | null, id: string): void {
    if (userId === null) {
      this.#anonymous.add(id);
      return;
    }
    let ids = this.#userSessions.get(userId);
    if (ids === undefined) {
      ids = new Set();
      this.#userSessions.set(userId, ids);
    }
    ids.add(id);
  }

  #unindexUser(userId: string | null, id: string): void {
    if (userId === null) {
      this.#anonymous.delete(id);
      return;
    }
    const ids = this.#userSessions.get(userId);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) this.#userSessions.delete(userId);
  }
}

import type { SessionStore } from '../../core/store.js';

/**
 * What a topology (standalone.ts, cluster.ts) implements: the whole store contract but
 * `close` and `purgeExpired`, which are the same for both and live in the entry point.
 */
export type Operations = Omit<SessionStore, 'close' | 'purgeExpired'>;

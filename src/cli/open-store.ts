import type { SessionStore } from '../core/store.js';
import { openStoreSpec, parseStoreSpec, StoreSpecError } from './store-spec.js';

/**
 * Opens the store a `--store` spec names (see {@link parseStoreSpec}). The CLI runs one command
 * and exits, so no background purge timer is started. `memory:` is refused: a memory store lives
 * inside one process, and the CLI would only ever see an empty one of its own.
 */
export async function openStore(spec: string): Promise<SessionStore> {
  const parsed = parseStoreSpec(spec);
  if (parsed.kind === 'memory') {
    throw new StoreSpecError(
      'A memory store lives inside the process that created it: use redis://, postgres:// or an SQLite file path',
    );
  }
  return openStoreSpec(parsed, { purgeIntervalSeconds: 0 });
}

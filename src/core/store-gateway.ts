import { summarizeError } from './error-summary.js';
import { isStrongroomError, StoreUnavailableError, type StrongroomError } from './errors.js';
import type { EventHub, StoreOperation } from './events.js';
import type { RequestContext } from './request.js';
import type { SessionStore } from './store.js';

/**
 * The core's only way to the store. Any failure becomes a {@link StoreUnavailableError}, so
 * the adapters fail closed with 503 (SM-57) instead of treating the user as anonymous; typed
 * Strongroom errors a store throws on purpose (such as `StoreConflictError`) pass through.
 */
export class StoreGateway {
  readonly #store: SessionStore;
  readonly #events: EventHub;

  constructor(store: SessionStore, events: EventHub) {
    this.#store = store;
    this.#events = events;
  }

  /**
   * Runs one store operation. The `store.failed` event says which operation failed and why
   * (`detail`: the cause's code and message, made log-safe), so that an outage can be told
   * from a bug without the error object.
   */
  async call<T>(operation: StoreOperation, run: (store: SessionStore) => Promise<T>): Promise<T> {
    try {
      return await run(this.#store);
    } catch (error) {
      throw this.failure(operation, error, null, {});
    }
  }

  /** Reports a failed dependency call and returns the error to throw. */
  failure(
    operation: StoreOperation,
    error: unknown,
    request: RequestContext | null,
    session: { readonly sessionId?: string; readonly userId?: string | null },
  ): StrongroomError {
    if (isStrongroomError(error)) return error;
    this.#events.emit('store.failed', request, {
      ...session,
      reason: operation,
      detail: summarizeError(error),
    });
    return new StoreUnavailableError(operation, { cause: error });
  }
}

import type { SessionStore } from '../../src/core/store.js';

/** Every method of {@link SessionStore}, in the order the interface declares them. */
export const STORE_METHODS = [
  'findByTokenHash',
  'findById',
  'insert',
  'update',
  'delete',
  'deleteByUser',
  'deleteAll',
  'listByUser',
  'purgeExpired',
  'close',
] as const satisfies readonly (keyof SessionStore)[];

export type StoreMethod = (typeof STORE_METHODS)[number];

/**
 * Stands in for one call of a wrapped store: `proceed()` makes the call on the inner store with
 * the same arguments; not calling it keeps the call from the inner store.
 */
export type StoreInterceptor = (
  method: StoreMethod,
  args: unknown[],
  proceed: () => Promise<unknown>,
) => Promise<unknown>;

/**
 * A store whose every method goes through `intercept`. It has exactly the methods of
 * {@link SessionStore}: whatever else the inner store has (`ready()`, internals) is hidden.
 */
export function wrapStore(inner: SessionStore, intercept: StoreInterceptor): SessionStore {
  const wrapped: Partial<Record<StoreMethod, (...args: unknown[]) => Promise<unknown>>> = {};
  for (const method of STORE_METHODS) {
    const call = inner[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = (...args) => intercept(method, args, () => call.apply(inner, args));
  }
  return wrapped as SessionStore;
}

/** A store whose server can be "stopped" by setting `down`. */
export interface SwitchableStore extends SessionStore {
  /** While true, every call but `close` rejects as if the connection had been refused. */
  down: boolean;
}

/**
 * A store that fails on demand, as a network store does when its server is down: runs the
 * outage cases (fail closed with 503, recover) against a store that has no server to lose.
 * `close` still works while it is down, so that a test can always clean up.
 */
export function switchableStore(inner: SessionStore): SwitchableStore {
  const switchable: SwitchableStore = Object.assign(
    wrapStore(inner, (method, _args, proceed) =>
      switchable.down && method !== 'close'
        ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
        : proceed(),
    ),
    { down: false },
  );
  return switchable;
}

/** One call a {@link spyStore} recorded, its arguments cloned when it was made. */
export interface StoreCall {
  readonly method: StoreMethod;
  readonly args: unknown[];
}

/** A store that records every call made to it. */
export interface SpiedStore extends SessionStore {
  /** Every call so far, oldest first; empty it with `calls.length = 0`. */
  readonly calls: StoreCall[];
}

/** A store wrapper that records every call, for grey-box assertions. */
export function spyStore(inner: SessionStore): SpiedStore {
  const calls: StoreCall[] = [];
  const store = wrapStore(inner, (method, args, proceed) => {
    calls.push({ method, args: structuredClone(args) });
    return proceed();
  });
  return Object.assign(store, { calls });
}

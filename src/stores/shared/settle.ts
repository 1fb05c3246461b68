/**
 * Runs a synchronous store operation and hands its outcome over as a promise, so that a store
 * method rejects instead of throwing synchronously whatever goes wrong, as the contract asks.
 */
export function settle<T>(operation: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(operation());
  });
}

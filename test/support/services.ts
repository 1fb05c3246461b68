import { connect } from 'node:net';

/**
 * Whether a TCP service answers on 127.0.0.1:`port`. Tests that need it call
 * {@link serviceAvailable} at collection time and `describe.skipIf(!available)`.
 */
export function probe(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * On a developer's machine a missing service skips its tests with a message; under `CI=true`
 * a missing service is a failure, never a skip.
 */
export async function serviceAvailable(name: string, port: number): Promise<boolean> {
  if (await probe(port)) return true;
  const message = `${name} is not reachable on 127.0.0.1:${port}`;
  if (process.env.CI === 'true') {
    throw new Error(`${message}; CI requires it (see .ci/run and test/setup/)`);
  }
  console.warn(`[skip] ${message}: its tests are skipped. Start it to run them.`);
  return false;
}

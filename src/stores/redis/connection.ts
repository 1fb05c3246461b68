import type { Client, ResolvedOptions } from './options.js';
import { openClient } from './options.js';
import type { Script } from './scripts.js';

type Argument = string | number | Buffer;

/** The store's use of one ioredis client: scripts, fail-fast guarding, warnings, shutdown. */
export interface Connection {
  readonly client: Client;
  /** Runs a script by its SHA, loading it on NOSCRIPT. Bulk replies arrive as strings. */
  readonly evaluate: (
    script: Script,
    keys: readonly string[],
    args: readonly Argument[],
  ) => Promise<unknown>;
  /** Like {@link Connection.evaluate}, with bulk replies as Buffers: records may hold raw bytes. */
  readonly evaluateBuffer: (
    script: Script,
    keys: readonly string[],
    args: readonly Argument[],
  ) => Promise<unknown>;
  /** Runs one store operation: rejects at once when closed or disconnected, else within the timeout. */
  readonly run: <T>(operation: string, body: () => Promise<T>) => Promise<T>;
  /** Stops listening to the client, and quits it when the store opened it. Idempotent. */
  readonly close: () => Promise<void>;
}

export function openConnection(resolved: ResolvedOptions): Connection {
  const { timeoutMs } = resolved;
  const ownsClient = resolved.client === undefined;
  const client: Client = resolved.client ?? openClient(resolved.url);

  let closed = false;
  /** Since when the connection is down (calls fail fast), and whether that was announced. */
  let lostSince: number | null = null;
  let warned = false;
  let lastError = 'connection closed';

  const onError = (error: unknown): void => {
    lastError = error instanceof Error ? error.message : String(error);
  };
  const onClose = (): void => {
    lostSince ??= Date.now();
  };
  // Announced when ioredis starts reconnecting, so an intentional quit() is not reported.
  const onReconnecting = (): void => {
    lostSince ??= Date.now();
    if (warned || closed) return;
    warned = true;
    process.emitWarning(
      `Strongroom's Redis session store lost its connection (${lastError}); session operations ` +
        'fail (503) until it is restored.',
      { type: 'StrongroomWarning', code: 'STRONGROOM_REDIS_UNAVAILABLE' },
    );
  };
  const onReady = (): void => {
    const since = lostSince;
    lostSince = null;
    if (!warned || since === null) return;
    warned = false;
    if (closed) return;
    process.emitWarning(
      `Strongroom's Redis session store is connected again after ` +
        `${((Date.now() - since) / 1_000).toFixed(1)} s.`,
      { type: 'StrongroomWarning', code: 'STRONGROOM_REDIS_RESTORED' },
    );
  };
  // A caller's client may already be down: fail fast until it is back, as after a loss.
  if (['close', 'reconnecting', 'end'].includes(client.status)) lostSince = Date.now();
  client.on('error', onError);
  client.on('close', onClose);
  client.on('reconnecting', onReconnecting);
  client.on('ready', onReady);

  async function evaluate(
    script: Script,
    keys: readonly string[],
    args: readonly Argument[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script.source, keys.length, ...keys, ...args);
    }
  }

  async function evaluateBuffer(
    script: Script,
    keys: readonly string[],
    args: readonly Argument[],
  ): Promise<unknown> {
    try {
      return await client.callBuffer('evalsha', [script.sha, keys.length, ...keys, ...args]);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.callBuffer('eval', [script.source, keys.length, ...keys, ...args]);
    }
  }

  function run<T>(operation: string, body: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new Error('The Redis session store is closed'));
    if (lostSince !== null) {
      return Promise.reject(
        new Error(`Redis is unreachable (${lastError}); ${operation} was not attempted`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`Redis did not complete ${operation} within ${timeoutMs / 1_000} s`));
      }, timeoutMs);
      body().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    client.off('error', onError);
    client.off('close', onClose);
    client.off('reconnecting', onReconnecting);
    client.off('ready', onReady);
    if (!ownsClient) return;
    client.on('error', () => {});
    if (client.status === 'ready') {
      try {
        await withTimeout(client.quit(), timeoutMs);
      } catch {
        // The connection is going away either way.
      }
    }
    client.disconnect();
  }

  return { client, evaluate, evaluateBuffer, run, close };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

import { Redis } from 'ioredis';
import { watchHealth } from './health.js';
import type { Script } from './lua.js';
import type { Client, ResolvedOptions } from './options.js';

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
  const health = watchHealth(client);
  let closed = false;

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
    const unreachable = health.unreachable();
    if (unreachable !== null) {
      return Promise.reject(
        new Error(`Redis is unreachable (${unreachable}); ${operation} was not attempted`),
      );
    }
    return withTimeout(
      body,
      timeoutMs,
      () => new Error(`Redis did not complete ${operation} within ${timeoutMs / 1_000} s`),
    );
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    health.stop();
    if (!ownsClient) return;
    client.on('error', () => {});
    if (client.status === 'ready') {
      try {
        await withTimeout(
          () => client.quit(),
          timeoutMs,
          () => new Error('timed out'),
        );
      } catch {
        // The connection is going away either way.
      }
    }
    client.disconnect();
  }

  return { client, evaluate, evaluateBuffer, run, close };
}

function openClient(url: string): Redis {
  return new Redis(url, {
    // A command waits for at most one reconnection attempt, then rejects: during an outage the
    // manager answers 503 promptly instead of queueing requests for the server's return.
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Starts `start` and settles as its promise does, or rejects with `timedOut()` after `ms`.
 * Rejections are always Errors, including a synchronous throw from `start`.
 */
function withTimeout<T>(start: () => Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timedOut()), ms);
    const fail = (error: unknown): void => {
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    try {
      start().then((value) => {
        clearTimeout(timer);
        resolve(value);
      }, fail);
    } catch (error) {
      fail(error);
    }
  });
}

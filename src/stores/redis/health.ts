import type { Client } from './options.js';

/** What the store knows of its client's connection, from the client's own events. */
export interface Health {
  /** Null while the connection is up; while it is down, the last error the client reported. */
  readonly unreachable: () => string | null;
  /** Stops listening to the client. Idempotent. */
  readonly stop: () => void;
}

/**
 * Follows the client's connection. Losing and regaining it each emit one process warning (type
 * `StrongroomWarning`, codes `STRONGROOM_REDIS_UNAVAILABLE` and `STRONGROOM_REDIS_RESTORED`), not
 * one per request. Listening to `error` also silences ioredis's own "Unhandled error event"
 * logging for a client without a listener of its own.
 */
export function watchHealth(client: Client): Health {
  let stopped = false;
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
    if (warned || stopped) return;
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
    if (stopped) return;
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

  return {
    unreachable: () => (lostSince === null ? null : lastError),
    stop: () => {
      if (stopped) return;
      stopped = true;
      client.off('error', onError);
      client.off('close', onClose);
      client.off('reconnecting', onReconnecting);
      client.off('ready', onReady);
    },
  };
}

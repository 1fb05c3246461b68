import type { ConfigProblem } from '../../core/errors.js';

/** The background sweep of the stores without native TTLs (SQLite, PostgreSQL). */
export interface PurgeSweepOptions {
  /**
   * How often, in seconds, a background sweep deletes expired sessions and retired tokens.
   * 0 turns the sweep off (call {@link SessionStore.purgeExpired} yourself, or leave it to a
   * single instance). The timer never keeps the process alive. At most 24 days. In
   * PostgreSQL, several instances sweeping the same tables do not block one another
   * (`FOR UPDATE SKIP LOCKED`).
   *
   * @default 60
   */
  readonly purgeIntervalSeconds?: number;
  /**
   * Rows deleted per batch by the background sweep (one transaction in SQLite, one statement
   * in PostgreSQL), which keeps going batch after batch while a batch comes back full. Small
   * batches keep each batch's locks short; SQLite yields to the event loop between batches, so
   * a large backlog never blocks requests for long.
   *
   * @default 500
   */
  readonly purgeBatchSize?: number;
  /**
   * The clock of the background sweep, in milliseconds since the Unix epoch. Pass the same
   * clock as the session manager's when you inject one.
   *
   * @default Date.now
   */
  readonly now?: () => number;
}

/** {@link PurgeSweepOptions} with their defaults applied, once validated. */
export interface PurgeSweepSettings {
  readonly purgeIntervalSeconds: number;
  readonly purgeBatchSize: number;
  readonly now: () => number;
}

/**
 * 2^31 - 1: the longest delay `setInterval` honours (a longer one fires after 1 ms) and the
 * largest LIMIT PostgreSQL takes.
 */
export const MAX_INT32 = 2_147_483_647;

/** Validates the sweep options, adding every problem to `problems`, and applies the defaults. */
export function resolvePurgeSweep(
  options: PurgeSweepOptions,
  problems: ConfigProblem[],
): PurgeSweepSettings {
  const purgeIntervalSeconds = options.purgeIntervalSeconds ?? 60;
  const purgeBatchSize = options.purgeBatchSize ?? 500;
  if (!Number.isSafeInteger(purgeIntervalSeconds) || purgeIntervalSeconds < 0) {
    problems.push({
      path: 'purgeIntervalSeconds',
      message: 'must be a whole number of seconds, or 0 to turn the sweep off',
    });
  } else if (purgeIntervalSeconds * 1_000 > MAX_INT32) {
    problems.push({ path: 'purgeIntervalSeconds', message: 'must be at most 24 days' });
  }
  if (!Number.isSafeInteger(purgeBatchSize) || purgeBatchSize < 1 || purgeBatchSize > MAX_INT32) {
    problems.push({ path: 'purgeBatchSize', message: 'must be a positive integer' });
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    problems.push({ path: 'now', message: 'must be a function returning milliseconds' });
  }
  return { purgeIntervalSeconds, purgeBatchSize, now: options.now ?? (() => Date.now()) };
}

/** What one purge batch deleted. */
export interface PurgeCounts {
  readonly sessions: number;
  /** Retired tokens deleted on their own deadline (not along with their session). */
  readonly retired: number;
}

export interface PurgeSweepTask {
  readonly settings: PurgeSweepSettings;
  /**
   * Deletes at most `limit` expired sessions and at most `limit` expired retired tokens.
   * Synchronous for an embedded database, whose sweep then yields to the event loop between
   * batches; a promise for a network one, whose round trips already do.
   */
  purgeBatch(now: number, limit: number): PurgeCounts | Promise<PurgeCounts>;
  /** A sweep failed while the sweeper was running; the next interval tries again. */
  onError(error: unknown): void;
}

export interface PurgeSweeper {
  /** Clears the timer; a batch in progress is the last one. Safe to call twice. */
  stop(): void;
  /** Resolves once no batch is in progress (at once when none is). Never rejects. */
  idle(): Promise<void>;
}

/**
 * Starts the background sweep: every `purgeIntervalSeconds`, unless the previous sweep is still
 * going, batch after batch while a batch comes back full. No timer at all when the interval is
 * 0, and an unref'd one otherwise. A failure ends that sweep (reported through `onError`):
 * nothing unsafe is left behind meanwhile, since the manager checks every deadline itself and
 * never serves an expired session.
 */
export function startPurgeSweeper(task: PurgeSweepTask): PurgeSweeper {
  const { purgeIntervalSeconds, purgeBatchSize, now } = task.settings;
  let stopped = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const sweep = (done: () => void): void => {
    const fail = (error: unknown): void => {
      if (!stopped) task.onError(error);
      done();
    };
    const next = (counts: PurgeCounts, yielded: boolean): void => {
      if (stopped || (counts.sessions < purgeBatchSize && counts.retired < purgeBatchSize)) {
        done();
      } else if (yielded) {
        batch();
      } else {
        setImmediate(batch).unref();
      }
    };
    const batch = (): void => {
      if (stopped) return done();
      let result: PurgeCounts | Promise<PurgeCounts>;
      try {
        result = task.purgeBatch(now(), purgeBatchSize);
      } catch (error) {
        return fail(error);
      }
      if (result instanceof Promise) {
        void result.then((counts) => next(counts, true), fail);
      } else {
        next(result, false);
      }
    };
    batch();
  };

  if (purgeIntervalSeconds > 0) {
    timer = setInterval(() => {
      if (running !== undefined || stopped) return;
      let finish = (): void => {};
      // Assigned before the sweep starts, and cleared by it, synchronously when it ends at once.
      running = new Promise<void>((resolve) => {
        finish = resolve;
      });
      sweep(() => {
        running = undefined;
        finish();
      });
    }, purgeIntervalSeconds * 1_000);
    timer.unref();
  }

  return {
    stop(): void {
      stopped = true;
      clearInterval(timer);
    },
    idle(): Promise<void> {
      return running ?? Promise.resolve();
    },
  };
}

import type { Pool, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { summarizeError } from '../../core/error-summary.js';
import { isOutage } from './errors.js';
import { QUERY_TIMEOUT_MS, migrate } from './migrations.js';
import type { TableNames } from './names.js';
import type { Statement } from './statements.js';

/**
 * The store's way to the database: every query waits for the schema, has a read timeout, and
 * reports an outage once (a process warning) instead of crashing the process.
 */
export class PostgresConnection {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #tables: TableNames;
  #closed = false;
  #schemaDone = false;
  #schemaPending: Promise<void> | undefined;
  #warned = false;

  // Without a listener, an idle connection dropped by the server (restart, failover, network)
  // makes the pool emit an unhandled 'error' that would crash the process.
  readonly #onPoolError = (error: Error): void =>
    this.warnOnce(
      'lost a connection (%s). Session calls fail (503) until the database answers again; ' +
        'this warning is not repeated before then.',
      error,
    );

  constructor(pool: Pool, ownsPool: boolean, tables: TableNames) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.#tables = tables;
    pool.on('error', this.#onPoolError);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Rejects once the store is closed. */
  assertOpen(): void {
    if (this.#closed) throw new Error('The PostgreSQL session store is closed');
  }

  /** Creates or migrates the tables, once; after a failure, the next call tries again. */
  ensureSchema(): Promise<void> {
    this.#schemaPending ??= migrate(this.#pool, this.#tables).then(
      () => {
        this.#schemaDone = true;
      },
      (error: unknown) => {
        this.#schemaPending = undefined;
        throw error;
      },
    );
    return this.#schemaPending;
  }

  async query<R extends QueryResultRow>(
    statement: Statement,
    values: readonly unknown[],
  ): Promise<QueryResult<R>> {
    this.assertOpen();
    const config: QueryConfig & { query_timeout: number } = {
      name: statement.name,
      text: statement.text,
      values: values as unknown[],
      query_timeout: QUERY_TIMEOUT_MS,
    };
    let result: QueryResult<R>;
    try {
      if (!this.#schemaDone) await this.ensureSchema();
      result = await this.#pool.query<R>(config);
    } catch (error) {
      if (isOutage(error)) {
        this.warnOnce(
          'cannot reach the database (%s). Session calls fail (503) until it answers again; ' +
            'this warning is not repeated before then.',
          error,
        );
      }
      throw error;
    }
    this.#warned = false;
    return result;
  }

  /**
   * One warning per outage: reset by the next query that succeeds. `%s` in the message becomes
   * the cause's code and message, with any password masked.
   */
  warnOnce(message: string, error: unknown): void {
    if (this.#warned) return;
    this.#warned = true;
    process.emitWarning(
      `The Strongroom PostgreSQL session store ${message.replace('%s', summarizeError(error))}`,
      {
        type: 'StrongroomWarning',
        code: 'STRONGROOM_POSTGRES_CONNECTION',
      },
    );
  }

  /** Refuses every later query; what is in flight finishes. */
  close(): void {
    this.#closed = true;
  }

  /** Ends the pool the store created, or stops listening to the caller's. */
  async release(): Promise<void> {
    if (this.#ownsPool) {
      await this.#pool.end();
    } else {
      this.#pool.off('error', this.#onPoolError);
    }
  }
}

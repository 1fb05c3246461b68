/**
 * The PostgreSQL store (needs a server on 127.0.0.1:5432): its options, each checked before
 * anything connects, every problem listed at once.
 */
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { createPostgresStore } from '../../src/stores/postgres.js';
import type { PostgresStoreOptions } from '../../src/stores/postgres.js';
import { makeSession } from '../../src/testing/store-contract-support.js';
import { serviceAvailable } from '../support/services.js';
import { DIRECT_URL, PG_PORT, usePostgresFixture } from './postgres-support.js';

const available = await serviceAvailable('PostgreSQL', PG_PORT);

describe.skipIf(!available)('createPostgresStore', () => {
  const { admin, schemas, open } = usePostgresFixture();

  describe('options', () => {
    it.each([
      ['schema', ''],
      ['schema', '1abc'],
      ['schema', 'bad-name'],
      ['schema', 'x"; DROP TABLE users; --'],
      ['schema', 'a'.repeat(64)],
      ['tablePrefix', ''],
      ['tablePrefix', 'sp ace'],
      ['tablePrefix', 'x".y'],
      ['tablePrefix', 'a'.repeat(33)],
    ])('rejects %s %j with a ConfigError, before connecting', (option, value) => {
      const connectSpy = vi.spyOn(pg.Pool.prototype, 'connect');
      expect(() => createPostgresStore({ connectionString: DIRECT_URL, [option]: value })).toThrow(
        ConfigError,
      );
      expect(connectSpy).not.toHaveBeenCalled();
    });

    it('accepts the longest valid names', async () => {
      const schema = `s${'a'.repeat(62)}`;
      schemas.push(schema);
      const store = open({
        pool: admin,
        schema,
        tablePrefix: `p${'b'.repeat(31)}`,
        purgeIntervalSeconds: 0,
      });
      await store.ready();
      const session = makeSession();
      await store.insert(session, { replaces: null, limit: null });
      expect(await store.findByTokenHash(session.tokenHash)).toEqual({
        session,
        retiredGraceUntil: null,
      });
    });

    it('lists every configuration problem at once', () => {
      const options = {
        connectionString: DIRECT_URL,
        pool: admin,
        schema: '-',
        tablePrefix: '-',
        purgeIntervalSeconds: -1,
        purgeBatchSize: 0,
      } as unknown as PostgresStoreOptions;
      let error: unknown;
      try {
        createPostgresStore(options);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((problem) => problem.path)).toEqual([
        'connectionString',
        'schema',
        'tablePrefix',
        'purgeIntervalSeconds',
        'purgeBatchSize',
      ]);
    });

    it('requires a connection string or a pool, and rejects an ended pool', async () => {
      expect(() => createPostgresStore({} as PostgresStoreOptions)).toThrow(ConfigError);
      expect(() => createPostgresStore({ connectionString: '' })).toThrow(ConfigError);
      const ended = new pg.Pool({ connectionString: DIRECT_URL });
      await ended.end();
      expect(() => createPostgresStore({ pool: ended })).toThrow(ConfigError);
    });
  });
});

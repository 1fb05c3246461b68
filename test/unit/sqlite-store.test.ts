import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import type { StoredSession } from '../../src/core/store.js';
import { createSQLiteStore } from '../../src/stores/sqlite.js';
import type { SQLiteStoreOptions } from '../../src/stores/sqlite.js';

const directory = mkdtempSync(join(tmpdir(), 'strongroom-sqlite-unit-'));
let files = 0;

/**
 * How to make a file or directory unwritable for this process. Permission bits do not stop
 * root, which the tests often run as: there, the immutable attribute (chattr +i, which needs
 * CAP_LINUX_IMMUTABLE and a file system that has it) does. Null when neither works.
 */
const unwritable = ((): { lock(path: string): void; unlock(path: string): void } | null => {
  if (process.getuid?.() !== 0) {
    return { lock: (path) => chmodSync(path, 0o555), unlock: (path) => chmodSync(path, 0o755) };
  }
  const chattr = (flag: string, path: string): boolean =>
    spawnSync('chattr', [flag, path], { stdio: 'ignore' }).status === 0;
  const probe = join(directory, 'probe');
  mkdirSync(probe);
  const works = chattr('+i', probe) && chattr('-i', probe);
  if (!works && process.env.CI === 'true') {
    throw new Error('CI runs as root without chattr +i: the permission tests cannot run');
  }
  if (!works) return null;
  const set = (flag: string, path: string): void => {
    if (!chattr(flag, path)) throw new Error(`chattr ${flag} ${path} failed`);
  };
  return { lock: (path) => set('+i', path), unlock: (path) => set('-i', path) };
})();
const databases: Database.Database[] = [];

function newFile(): string {
  return join(directory, `${files++}.db`);
}

function openDatabase(path = ':memory:'): Database.Database {
  const db = new Database(path);
  databases.push(db);
  return db;
}

function makeSession(now: number, overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    id: randomBytes(16).toString('base64url'),
    tokenHash: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    userId: null,
    createdAt: now,
    authenticatedAt: null,
    lastSeenAt: now,
    idleExpiresAt: now + 30 * 60_000,
    absoluteExpiresAt: now + 12 * 3_600_000,
    rotatedAt: now,
    version: 1,
    sealed: 'sealed',
    ...overrides,
  };
}

function count(db: Database.Database, table: string): number {
  return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
}

afterEach(() => {
  vi.useRealTimers();
});

afterAll(() => {
  for (const db of databases) if (db.open) db.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('createSQLiteStore', () => {
  it('opens a file database in WAL mode', async () => {
    const path = newFile();
    const store = createSQLiteStore({ path });
    const reader = openDatabase(path);
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
    await store.close();
  });

  it('creates the schema idempotently: a second open of the same file keeps the data', async () => {
    const path = newFile();
    const first = createSQLiteStore({ path });
    const session = makeSession(Date.now());
    await first.insert(session, { replaces: null, limit: null });
    await first.close();

    const second = createSQLiteStore({ path });
    expect(await second.findById(session.id)).toEqual(session);
    await second.close();

    const names = openDatabase(path)
      .prepare<[], { name: string }>(
        "SELECT name FROM sqlite_master WHERE name LIKE 'strongroom_%'",
      )
      .all()
      .map((row) => row.name)
      .sort();
    expect(names).toEqual([
      'strongroom_retired_tokens',
      'strongroom_retired_tokens_expires_at',
      'strongroom_retired_tokens_session_id',
      'strongroom_sessions',
      'strongroom_sessions_created_at',
      'strongroom_sessions_expires_at',
      'strongroom_sessions_user_id',
    ]);
  });

  it('uses the table prefix, so stores with different prefixes share a database independently', async () => {
    const db = openDatabase();
    const app = createSQLiteStore({ database: db, tablePrefix: 'app_' });
    const other = createSQLiteStore({ database: db, tablePrefix: 'other_' });
    const session = makeSession(Date.now());
    await app.insert(session, { replaces: null, limit: null });

    expect(count(db, 'app_sessions')).toBe(1);
    expect(count(db, 'other_sessions')).toBe(0);
    expect(await other.findById(session.id)).toBeNull();
    await Promise.all([app.close(), other.close()]);
  });

  it.each(['', '1abc', 'bad-prefix', 'x"; DROP TABLE users; --', 'sp ace'])(
    'rejects the table prefix %j with a ConfigError',
    (tablePrefix) => {
      expect(() => createSQLiteStore({ path: ':memory:', tablePrefix })).toThrow(ConfigError);
    },
  );

  it('lists every configuration problem at once', () => {
    const options = {
      path: ':memory:',
      database: openDatabase(),
      tablePrefix: '-',
      purgeIntervalSeconds: -1,
      purgeBatchSize: 0,
    } as unknown as SQLiteStoreOptions;
    let error: unknown;
    try {
      createSQLiteStore(options);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((problem) => problem.path)).toEqual([
      'path',
      'tablePrefix',
      'purgeIntervalSeconds',
      'purgeBatchSize',
    ]);
  });

  it('rejects a closed database with a ConfigError', () => {
    const db = openDatabase();
    db.close();
    expect(() => createSQLiteStore({ database: db })).toThrow(ConfigError);
  });

  describe('a path that cannot serve as the database: a ConfigError naming the file and the fix', () => {
    function openFailure(path: string): ConfigError {
      let thrown: unknown;
      try {
        createSQLiteStore({ path, purgeIntervalSeconds: 0 });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      const error = thrown as ConfigError;
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]?.path).toBe('path');
      expect(error.cause).toBeInstanceOf(Error);
      return error;
    }

    it('a missing directory: create it or fix the path', () => {
      const missing = join(directory, 'not-created', 'deeper');
      const error = openFailure(join(missing, 'sessions.db'));
      expect(error.message).toContain(`cannot open the SQLite database ${missing}/sessions.db`);
      expect(error.message).toContain(`the directory ${missing} does not exist`);
      expect(error.message).toContain(`mkdir -p ${missing}`);
    });

    it('a relative path is reported resolved, so the reader knows where it was looked for', () => {
      const relative = join('strongroom-missing-dir', 'sessions.db');
      expect(openFailure(relative).message).toContain(join(process.cwd(), relative));
    });

    it('a "directory" that is a regular file (ENOTDIR): fix the path', () => {
      const file = newFile();
      writeFileSync(file, '');
      const error = openFailure(join(file, 'sessions.db'));
      expect(error.message).toContain(`${file} is a file, not a directory`);
      expect(error.message).toContain('SQLITE_CANTOPEN: unable to open database file');
    });

    it('a path that is a directory: give a file inside it', () => {
      const error = openFailure(directory);
      expect(error.message).toContain(`${directory} is a directory`);
      expect(error.message).toContain(join(directory, 'sessions.db'));
    });

    it('a file that is not a database', () => {
      const file = newFile();
      writeFileSync(file, randomBytes(4096));
      const error = openFailure(file);
      expect(error.message).toContain(`cannot open the SQLite database ${file}`);
      expect(error.message).toContain('not a SQLite database');
      expect(error.message).toContain('SQLITE_NOTADB');
    });

    it.skipIf(unwritable === null)(
      'a directory the process may not write: names the user, the owner and the mode',
      () => {
        const locked = join(directory, 'locked');
        mkdirSync(locked);
        unwritable!.lock(locked);
        try {
          const error = openFailure(join(locked, 'sessions.db'));
          expect(error.message).toMatch(
            new RegExp(
              `may not create files in ${locked} \\((EACCES|EPERM); owned by uid \\d+, mode \\d+\\)`,
            ),
          );
          expect(error.message).toContain('make the directory writable');
        } finally {
          unwritable!.unlock(locked);
        }
      },
    );

    it.skipIf(unwritable === null)('a database file the process may not write', () => {
      const file = newFile();
      new Database(file).close();
      unwritable!.lock(file);
      try {
        const error = openFailure(file);
        expect(error.message).toMatch(/may not read and write .* \((EACCES|EPERM); owned by uid/);
      } finally {
        unwritable!.unlock(file);
      }
    });
  });

  it('leaves a caller-owned database open, and its pragmas untouched, on close', async () => {
    const path = newFile();
    const db = openDatabase(path);
    const store = createSQLiteStore({ database: db });
    await store.close();
    expect(db.open).toBe(true);
    expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(count(db, 'strongroom_sessions')).toBe(0);
  });

  it('turns database errors into rejected promises, never synchronous throws', async () => {
    const db = openDatabase();
    const store = createSQLiteStore({ database: db });
    const session = makeSession(Date.now());
    db.close();

    let pending: Promise<unknown> | undefined;
    expect(() => {
      pending = store.insert(session, { replaces: null, limit: null });
    }).not.toThrow();
    await expect(pending).rejects.toThrow();
    await expect(store.findByTokenHash(session.tokenHash)).rejects.toThrow();
    await expect(store.deleteByUser('user', { except: null })).rejects.toThrow();
    await store.close();
  });

  it('returns numbers even when the caller’s database returns BigInt by default', async () => {
    const db = openDatabase();
    db.defaultSafeIntegers(true);
    const store = createSQLiteStore({ database: db });
    const session = makeSession(Date.now(), { userId: 'user' });
    await store.insert(session, { replaces: null, limit: null });

    expect(await store.findById(session.id)).toEqual(session);
    expect(await store.findByTokenHash(session.tokenHash)).toEqual({
      session,
      retiredGraceUntil: null,
    });
    expect(await store.listByUser('user', session.createdAt)).toEqual([session]);
    await store.close();
  });

  it('leaves no retired token rows behind when sessions go (delete, replace, user, purge)', async () => {
    const db = openDatabase();
    const store = createSQLiteStore({ database: db, purgeIntervalSeconds: 0 });
    const now = Date.now();
    const rotatedSession = async (overrides: Partial<StoredSession>) => {
      const session = makeSession(now, overrides);
      await store.insert(session, { replaces: null, limit: null });
      const rotated = { ...session, tokenHash: makeSession(now).tokenHash, version: 2 };
      await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: now } });
      return session;
    };
    const deleted = await rotatedSession({});
    const replaced = await rotatedSession({});
    await rotatedSession({ userId: 'user' });
    await rotatedSession({ idleExpiresAt: now - 1 });
    const kept = await rotatedSession({});
    expect(count(db, 'strongroom_retired_tokens')).toBe(5);

    await store.delete(deleted.id);
    expect(
      await store.insert(makeSession(now), {
        replaces: { id: replaced.id, version: 2 },
        limit: null,
      }),
    ).toEqual({ status: 'inserted', evicted: [] });
    await store.deleteByUser('user', { except: null });
    expect(await store.purgeExpired(now, 10)).toBe(1);

    const left = db
      .prepare<[], { session_id: string }>('SELECT session_id FROM strongroom_retired_tokens')
      .all();
    expect(left).toEqual([{ session_id: kept.id }]);
    await store.close();
  });

  it('purges retired tokens whose own deadline passed while their session lives on', async () => {
    const db = openDatabase();
    const store = createSQLiteStore({ database: db, purgeIntervalSeconds: 0 });
    const now = Date.now();
    const session = makeSession(now);
    const rotated = { ...session, tokenHash: makeSession(now).tokenHash, version: 2 };
    await store.insert(session, { replaces: null, limit: null });
    await store.update(rotated, { retire: { tokenHash: session.tokenHash, graceUntil: now } });
    db.prepare('UPDATE strongroom_retired_tokens SET expires_at = ?').run(now - 1);

    expect(await store.purgeExpired(now, 10)).toBe(0);
    expect(count(db, 'strongroom_retired_tokens')).toBe(0);
    expect(await store.findById(session.id)).toEqual(rotated);
    await store.close();
  });

  it('finds a token with index lookups only (the hot path never scans a table)', () => {
    const db = openDatabase();
    const prepare = vi.spyOn(db, 'prepare');
    createSQLiteStore({ database: db, purgeIntervalSeconds: 0 });
    const lookups = prepare.mock.calls
      .map(([source]) => source)
      .filter((source) => source.includes('@tokenHash') && source.startsWith('SELECT'));
    prepare.mockRestore();

    expect(lookups).toHaveLength(1);
    const plan = db
      .prepare<{ tokenHash: string }, { detail: string }>(`EXPLAIN QUERY PLAN ${lookups[0]!}`)
      .all({ tokenHash: 'x' })
      .map((row) => row.detail);
    expect(plan.some((detail) => detail.startsWith('SEARCH'))).toBe(true);
    expect(plan.filter((detail) => detail.startsWith('SCAN'))).toEqual([]);
  });

  it('[SM-30] [SM-34] deleteAll and the user limit find their rows through indexes, never a table scan', () => {
    const db = openDatabase();
    const prepare = vi.spyOn(db, 'prepare');
    createSQLiteStore({ database: db, purgeIntervalSeconds: 0 });
    const sources = prepare.mock.calls
      .map(([source]) => source)
      .filter((source) => /@createdBefore|expires_at > @now/.test(source));
    prepare.mockRestore();

    // deleteAll, and the live count and least recently used of a user (SM-34) run in a write
    // transaction, where a scan would hold every other writer up; listByUser as well.
    expect(sources).toHaveLength(4);
    for (const source of sources) {
      const plan = db
        .prepare<Record<string, unknown>, { detail: string }>(`EXPLAIN QUERY PLAN ${source}`)
        .all({ createdBefore: 1, limit: 1, userId: 'u', now: 1, except: null })
        .map((row) => row.detail);
      expect(
        plan.some((detail) => detail.startsWith('SEARCH')),
        source,
      ).toBe(true);
      expect(
        plan.filter((detail) => detail.startsWith('SCAN')),
        source,
      ).toEqual([]);
    }
  });
});

describe('SQLite background purge', () => {
  it('deletes expired rows in batches, yielding between them, and close() stops it', async () => {
    vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
    const db = openDatabase();
    const store = createSQLiteStore({
      database: db,
      purgeIntervalSeconds: 60,
      purgeBatchSize: 500,
    });
    const now = Date.now();
    const insertMany = (total: number, expiresIn: number) =>
      Promise.all(
        Array.from({ length: total }, () =>
          store.insert(makeSession(now, { idleExpiresAt: now + expiresIn }), {
            replaces: null,
            limit: null,
          }),
        ),
      );
    await insertMany(1_200, -1_000);
    await insertMany(3, 3_600_000);
    expect(count(db, 'strongroom_sessions')).toBe(1_203);

    vi.advanceTimersByTime(59_999);
    expect(count(db, 'strongroom_sessions')).toBe(1_203);
    vi.advanceTimersToNextTimer();
    expect(count(db, 'strongroom_sessions')).toBe(703);
    const sweptAt = Date.now();
    vi.advanceTimersToNextTimer();
    expect(count(db, 'strongroom_sessions')).toBe(203);
    vi.advanceTimersToNextTimer();
    expect(count(db, 'strongroom_sessions')).toBe(3);
    // The later batches followed at once (setImmediate), not at the next interval.
    expect(Date.now() - sweptAt).toBeLessThan(1_000);

    await store.close();
    expect(vi.getTimerCount()).toBe(0);
    db.prepare('UPDATE strongroom_sessions SET expires_at = ?').run(now - 1);
    vi.advanceTimersByTime(10 * 60_000);
    expect(count(db, 'strongroom_sessions')).toBe(3);
  });

  it('sweeps with the injected clock', async () => {
    vi.useFakeTimers();
    const db = openDatabase();
    const late = Date.UTC(2100, 0, 1);
    const store = createSQLiteStore({ database: db, purgeIntervalSeconds: 1, now: () => late });
    await store.insert(makeSession(late - 3_600_000), { replaces: null, limit: null });
    await store.insert(makeSession(late), { replaces: null, limit: null });

    vi.advanceTimersByTime(1_000);
    expect(count(db, 'strongroom_sessions')).toBe(1);
    await store.close();
  });

  it('starts no timer when purgeIntervalSeconds is 0', async () => {
    vi.useFakeTimers();
    const store = createSQLiteStore({ path: ':memory:', purgeIntervalSeconds: 0 });
    expect(vi.getTimerCount()).toBe(0);
    await store.close();
  });
});

import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';

/**
 * The demo's data directory and its files hold password hashes, encrypted sessions and the demo
 * key: readable by their owner only, whatever the umask (0644 files would let any local user
 * copy `users.db` and crack it offline).
 */
const PRIVATE_DIRECTORY_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;

/** Files SQLite keeps next to a database: the WAL, its shared-memory index, a rollback journal. */
const SQLITE_SIDE_FILES = ['-wal', '-shm', '-journal'] as const;

/**
 * Creates `path` (and missing parents) with mode 0700. An existing directory of the current
 * user is tightened to 0700 (earlier versions of the demo created `.data` 0755); one owned by
 * someone else (`STRONGROOM_DATA_DIR=/tmp`) is left alone with a warning, since the files in it
 * are owner-only anyway.
 *
 * @example
 * ```ts
 * ensurePrivateDirectory('.data');
 * ```
 */
export function ensurePrivateDirectory(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  const { mode, uid } = statSync(path);
  if ((mode & 0o777) === PRIVATE_DIRECTORY_MODE) return;
  if (uid === process.getuid?.()) {
    chmodSync(path, PRIVATE_DIRECTORY_MODE);
    return;
  }
  console.warn(
    `Strongroom demo: the data directory ${path} is not private (mode ${(mode & 0o777).toString(8)}) and not yours to change; its files are owner-only.`,
  );
}

/**
 * Makes an SQLite database file owner-only before SQLite opens it: creates it empty with mode
 * 0600 (an empty file is a valid new database) and tightens an existing one and its side files.
 * SQLite creates `-wal` and `-shm` later with the mode of the database file, so they follow.
 *
 * @example
 * ```ts
 * preparePrivateDatabase('.data/users.db');
 * const db = new Database('.data/users.db');
 * ```
 */
export function preparePrivateDatabase(path: string): void {
  // `a` creates the file if missing and never truncates one that exists.
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
  for (const suffix of SQLITE_SIDE_FILES) {
    // Left by an earlier run (or an earlier version of the demo, which created them 0644).
    if (existsSync(path + suffix)) chmodSync(path + suffix, PRIVATE_FILE_MODE);
  }
}

/**
 * Tightens a file the demo wrote to mode 0600.
 *
 * @example
 * ```ts
 * makePrivateFile('.data/demo-keys');
 * ```
 */
export function makePrivateFile(path: string): void {
  chmodSync(path, PRIVATE_FILE_MODE);
}

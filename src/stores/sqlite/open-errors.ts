import { accessSync, constants, statSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { errorCode } from '../shared/error-code.js';

/** SQLite result codes that mean "this file cannot serve as the session database". */
const UNUSABLE_FILE_CODES = /^SQLITE_(CANTOPEN|NOTADB|CORRUPT|READONLY|PERM|AUTH)/;

/**
 * A ConfigError naming the file and the likely fix, for an error raised while opening the
 * store's own database; any other error (SQLITE_BUSY: another process holds the lock) as it is.
 * better-sqlite3 only says `unable to open database file`, so the file system is asked why.
 */
export function openFailure(path: string, error: unknown): unknown {
  const code = errorCode(error);
  const sqliteCode = code?.startsWith('SQLITE_') === true ? code : null;
  const explanation =
    path === ':memory:'
      ? null
      : (explainFileProblem(resolvePath(path)) ?? explainSQLiteCode(sqliteCode));
  const missingDirectory =
    error instanceof TypeError && /directory does not exist/.test(error.message);
  if (explanation === null && !missingDirectory && !UNUSABLE_FILE_CODES.test(sqliteCode ?? '')) {
    return error;
  }
  const said = error instanceof Error ? error.message : String(error);
  const failure = new ConfigError([
    {
      path: 'path',
      message:
        `cannot open the SQLite database ${path === ':memory:' ? path : resolvePath(path)}: ` +
        `${explanation ?? 'check the path and its permissions'} ` +
        `(${sqliteCode === null ? '' : `${sqliteCode}: `}${said})`,
    },
  ]);
  // ConfigError takes no options; the driver's error stays reachable for debugging.
  Object.defineProperty(failure, 'cause', { value: error, configurable: true, writable: true });
  return failure;
}

/** Why the file system would refuse `file` as a database, or null when it would not. */
function explainFileProblem(file: string): string | null {
  const directory = dirname(file);
  const ancestors: string[] = [];
  for (let at = directory; ; at = dirname(at)) {
    ancestors.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const ancestor of ancestors) {
    let stats: Stats;
    try {
      stats = statSync(ancestor);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT') {
        return `the directory ${directory} does not exist; create it (mkdir -p ${directory}) or fix the path`;
      }
      if (code === 'EACCES' || code === 'EPERM') {
        return `${processUser()} may not look inside ${dirname(ancestor)} (${code}${ownership(dirname(ancestor))}); give it access (x permission) or choose another path`;
      }
      return null;
    }
    if (!stats.isDirectory()) {
      return `${ancestor} is a file, not a directory; fix the path`;
    }
  }
  let fileStats: Stats | null = null;
  try {
    fileStats = statSync(file);
  } catch {
    // Missing: SQLite creates it, if the directory lets it.
  }
  if (fileStats?.isDirectory() === true) {
    return `${file} is a directory; give the path of a file, such as ${join(file, 'sessions.db')}`;
  }
  // WAL mode creates `-wal` and `-shm` files next to the database, even when it exists.
  const directoryDenied = accessDenied(directory, constants.W_OK | constants.X_OK);
  if (directoryDenied !== null) {
    return (
      `${processUser()} may not create files in ${directory} (${directoryDenied}${ownership(directory)}), ` +
      'as SQLite needs for the database and its -wal and -shm files; make the directory writable by that user, or choose another path'
    );
  }
  const fileDenied =
    fileStats === null ? null : accessDenied(file, constants.R_OK | constants.W_OK);
  if (fileDenied !== null) {
    return `${processUser()} may not read and write ${file} (${fileDenied}${ownership(file)}); make it writable by that user, or choose another path`;
  }
  return null;
}

function explainSQLiteCode(code: string | null): string | null {
  if (code === null) return null;
  if (code === 'SQLITE_NOTADB') {
    return 'the file is not a SQLite database (or is encrypted); point `path` at the session database or at a new file';
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return 'the database file is corrupt; restore it from a backup, or start a new file (every session ends)';
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return 'the database is read-only; make the file and its directory writable by this process';
  }
  return null;
}

function accessDenied(path: string, mode: number): string | null {
  try {
    accessSync(path, mode);
    return null;
  } catch (error) {
    return errorCode(error) ?? 'denied';
  }
}

/** `; owned by uid 0, mode 755`, or nothing when the file system will not say. */
function ownership(path: string): string {
  try {
    const { uid, mode } = statSync(path);
    return `; owned by uid ${uid}, mode ${(mode & 0o7777).toString(8)}`;
  } catch {
    return '';
  }
}

function processUser(): string {
  const uid = process.getuid?.();
  return uid === undefined ? 'this process' : `this process (uid ${uid})`;
}

import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { hashPassword, verifyPassword } from './password-hash.js';

/** A demo account. Password hashes never leave this module. */
export interface User {
  /** Decimal row id, used as the session's user id. */
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly createdAt: string;
  /**
   * Changes with every password change and every disabling: the credential sessions are bound
   * to (`currentCredential`, SM-28). Read from the same row as the password hash it vouches for.
   */
  readonly credential: string;
}

/** Accounts of the demo app in `<dataDir>/users.db`. */
export interface UserStore {
  /**
   * The enabled account with these credentials, or null. Takes about as long for unknown
   * emails. A matching hash made under older scrypt parameters is replaced by a current one.
   */
  verifyCredentials(email: string, password: string): Promise<User | null>;
  /** Whether `password` is the current password of user `id` (rehashing it like above). */
  verifyPassword(id: string, password: string): Promise<boolean>;
  findById(id: string): User | null;
  findByEmail(email: string): User | null;
  /** Creates an account; throws {@link DuplicateEmailError} when the email is taken. */
  create(email: string, password: string): Promise<User>;
  /** Sets a new password; returns the account's new credential. */
  setPassword(id: string, password: string): Promise<string>;
  /** For the admin CLI: a disabled account cannot sign in and its sessions stop working. */
  setDisabled(id: string, disabled: boolean): void;
  close(): void;
}

export class DuplicateEmailError extends Error {
  constructor() {
    super('An account with this email already exists');
    this.name = 'DuplicateEmailError';
  }
}

export const MIN_PASSWORD_LENGTH = 8;
/** scrypt reads the whole password; an upper bound keeps one request from costing seconds. */
export const MAX_PASSWORD_LENGTH = 1024;
const MAX_EMAIL_LENGTH = 254;
const EMAIL_PATTERN = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

interface UserRow {
  id: number;
  email: string;
  password_hash: string;
  disabled: number;
  created_at: string;
  credential_version: number;
}

/** Lower-cased, trimmed email, or null when it does not look like an address. */
export function normaliseEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  return email.length <= MAX_EMAIL_LENGTH && EMAIL_PATTERN.test(email) ? email : null;
}

/** Whether a new password is acceptable (length only, per NIST SP 800-63B §3.1.1.2). */
export function isAcceptablePassword(password: string): boolean {
  return password.length >= MIN_PASSWORD_LENGTH && password.length <= MAX_PASSWORD_LENGTH;
}

/**
 * Opens (and creates) the users database: WAL mode, one table.
 *
 * @example
 * ```ts
 * const users = openUserStore({ path: '.data/users.db' });
 * const alice = await users.verifyCredentials('alice@example.com', 'correct horse battery staple');
 * ```
 */
export function openUserStore(options: { readonly path: string }): UserStore {
  const db = openUsersDatabase(options.path);
  const statements = prepareStatements(db);
  // Verifying against this hash when the email is unknown keeps the timing of a failed login
  // independent of whether the account exists.
  const dummyHash = hashPassword(randomBytes(16).toString('base64url'));

  const rowById = (id: string): UserRow | undefined =>
    /^[1-9][0-9]{0,15}$/.test(id) ? statements.byId.get(Number(id)) : undefined;

  /** Whether `password` is the password of `row`; as long for no row, against the dummy hash. */
  const matches = async (row: UserRow | undefined, password: string): Promise<boolean> => {
    const { ok, rehash } = await verifyPassword(password, row?.password_hash ?? (await dummyHash));
    if (ok && row !== undefined && rehash !== null) {
      statements.rehash.run(rehash, row.id, row.password_hash);
    }
    return ok && row !== undefined;
  };

  return {
    async verifyCredentials(email, password) {
      const normalised = normaliseEmail(email);
      const row = normalised === null ? undefined : statements.byEmail.get(normalised);
      const ok = await matches(row, password);
      return ok && row !== undefined && row.disabled === 0 ? toUser(row) : null;
    },
    async verifyPassword(id, password) {
      return matches(rowById(id), password);
    },
    findById(id) {
      const row = rowById(id);
      return row === undefined ? null : toUser(row);
    },
    findByEmail(email) {
      const normalised = normaliseEmail(email);
      const row = normalised === null ? undefined : statements.byEmail.get(normalised);
      return row === undefined ? null : toUser(row);
    },
    async create(email, password) {
      const normalised = normaliseEmail(email);
      if (normalised === null) throw new TypeError('Not an email address');
      if (!isAcceptablePassword(password)) throw new TypeError('Unacceptable password');
      const hash = await hashPassword(password);
      const row = statements.insert.get(normalised, hash, new Date().toISOString());
      if (row === undefined) throw new DuplicateEmailError();
      return toUser(row);
    },
    async setPassword(id, password) {
      if (!isAcceptablePassword(password)) throw new TypeError('Unacceptable password');
      const row = rowById(id);
      if (row === undefined) throw new TypeError('Unknown user');
      const updated = statements.setPassword.get(await hashPassword(password), row.id);
      if (updated === undefined) throw new TypeError('Unknown user');
      return String(updated.credential_version);
    },
    setDisabled(id, disabled) {
      const row = rowById(id);
      if (row === undefined) throw new TypeError('Unknown user');
      statements.setDisabled.run(disabled ? 1 : 0, row.id);
    },
    close() {
      db.close();
    },
  };
}

/** The database with its table, created or brought up to date. */
function openUsersDatabase(path: string): Database.Database {
  const db = new Database(path, { timeout: 5_000 });
  if (!db.memory) db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  )`);
  addCredentialVersion(db);
  return db;
}

interface UserStatements {
  readonly byId: Database.Statement<[number], UserRow>;
  readonly byEmail: Database.Statement<[string], UserRow>;
  readonly insert: Database.Statement<[string, string, string], UserRow>;
  readonly setPassword: Database.Statement<[string, number], { credential_version: number }>;
  readonly rehash: Database.Statement<[string, number, string]>;
  readonly setDisabled: Database.Statement<[number, number]>;
}

function prepareStatements(db: Database.Database): UserStatements {
  return {
    byId: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
    byEmail: db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?'),
    insert: db.prepare<[string, string, string], UserRow>(
      'INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING *',
    ),
    setPassword: db.prepare<[string, number], { credential_version: number }>(
      'UPDATE users SET password_hash = ?, credential_version = credential_version + 1 WHERE id = ? RETURNING credential_version',
    ),
    // Only over the hash that was verified: a password changed meanwhile is never overwritten.
    rehash: db.prepare<[string, number, string]>(
      'UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?',
    ),
    setDisabled: db.prepare<[number, number]>(
      'UPDATE users SET disabled = ?, credential_version = credential_version + 1 WHERE id = ?',
    ),
  };
}

function toUser(row: UserRow): User {
  return {
    id: String(row.id),
    email: row.email,
    disabled: row.disabled !== 0,
    createdAt: row.created_at,
    credential: String(row.credential_version),
  };
}

/** Databases made before credential binding get the column, every account at version 1. */
function addCredentialVersion(db: Database.Database): void {
  const columns = db.pragma('table_info(users)') as { name: string }[];
  if (columns.some((column) => column.name === 'credential_version')) return;
  db.exec('ALTER TABLE users ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 1');
}

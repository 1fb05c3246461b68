import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import Database from 'better-sqlite3';

/** A demo account. Password hashes never leave this module. */
export interface User {
  /** Decimal row id, used as the session's user id. */
  readonly id: string;
  readonly email: string;
  readonly disabled: boolean;
  readonly createdAt: string;
}

/** Accounts of the demo app in `<dataDir>/users.db`. */
export interface UserStore {
  /** The enabled account with these credentials, or null. Takes about as long for unknown emails. */
  verifyCredentials(email: string, password: string): Promise<User | null>;
  /** Whether `password` is the current password of user `id`. */
  verifyPassword(id: string, password: string): Promise<boolean>;
  findById(id: string): User | null;
  findByEmail(email: string): User | null;
  /** Creates an account; throws {@link DuplicateEmailError} when the email is taken. */
  create(email: string, password: string): Promise<User>;
  setPassword(id: string, password: string): Promise<void>;
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

// OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 is the recommendation for
// production; the demo uses N=2^14 (16 MiB) so that its test suite stays fast.
const SCRYPT: Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>> = { N: 2 ** 14, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;

interface UserRow {
  id: number;
  email: string;
  password_hash: string;
  disabled: number;
  created_at: string;
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
  const db = new Database(options.path, { timeout: 5_000 });
  if (!db.memory) db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
  )`);
  const statements = {
    byId: db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?'),
    byEmail: db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?'),
    insert: db.prepare<[string, string, string], UserRow>(
      'INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (email) DO NOTHING RETURNING *',
    ),
    setPassword: db.prepare<[string, number]>('UPDATE users SET password_hash = ? WHERE id = ?'),
    setDisabled: db.prepare<[number, number]>('UPDATE users SET disabled = ? WHERE id = ?'),
  };
  // Verifying against this hash when the email is unknown keeps the timing of a failed login
  // independent of whether the account exists.
  const dummyHash = hashPassword(randomBytes(16).toString('base64url'));

  const rowById = (id: string): UserRow | undefined =>
    /^[1-9][0-9]{0,15}$/.test(id) ? statements.byId.get(Number(id)) : undefined;

  return {
    async verifyCredentials(email, password) {
      const normalised = normaliseEmail(email);
      const row = normalised === null ? undefined : statements.byEmail.get(normalised);
      const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash));
      return ok && row !== undefined && row.disabled === 0 ? toUser(row) : null;
    },
    async verifyPassword(id, password) {
      const row = rowById(id);
      const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash));
      return ok && row !== undefined;
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
      statements.setPassword.run(await hashPassword(password), row.id);
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

function toUser(row: UserRow): User {
  return {
    id: String(row.id),
    email: row.email,
    disabled: row.disabled !== 0,
    createdAt: row.created_at,
  };
}

function deriveKey(password: string, salt: Buffer, params: typeof SCRYPT): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { ...params, maxmem: 64 * 1024 * 1024 },
      (error, key) => (error === null ? resolve(key) : reject(error)),
    );
  });
}

/** `scrypt$N$r$p$salt$key`, parameters stored so that they can be raised later. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await deriveKey(password, salt, SCRYPT);
  const { N, r, p } = SCRYPT;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(key, 'base64url');
  const actual = await deriveKey(password, Buffer.from(salt, 'base64url'), params);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

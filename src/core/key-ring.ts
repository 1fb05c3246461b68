import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  timingSafeEqual,
} from 'node:crypto';
import { ConfigError, type ConfigProblem } from './errors.js';
import type { Runtime } from './runtime.js';

/**
 * A secret used to encrypt session data at rest (SM-51). Generate one with
 * `npx strongroom keygen`.
 *
 * @example
 * ```ts
 * const keys = [{ id: '2026-11', secret: process.env.SESSION_KEY! }];
 * ```
 */
export interface KeyInput {
  /** Short label stored beside each ciphertext so that old keys keep decrypting. */
  readonly id: string;
  /** At least 32 random bytes, base64url or base64 encoded. */
  readonly secret: string;
}

const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const MIN_SECRET_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_INFO = 'strongroom session seal v1';
const TOKEN_HASH_INFO = 'strongroom token hash v1';
const CREDENTIAL_INFO = 'strongroom credential fingerprint v1';
const KEYGEN_HINT = 'generate one with `npx strongroom keygen`';
const KEY_FORMS =
  'pass keys: parseKeyList(process.env.STRONGROOM_KEYS) for an "id:secret,id:secret" variable, or [{ id, secret }]';

interface DerivedKey {
  readonly id: string;
  /** AES-256-GCM key for records at rest. */
  readonly key: Buffer;
  /** HMAC key for token hashes: without it, a store writer cannot make a hash for a token. */
  readonly tokenKey: Buffer;
  /** HMAC key for credential fingerprints (see `Session.login`'s `credential`). */
  readonly credentialKey: Buffer;
}

/** The result of opening a sealed value. */
export interface Opened {
  readonly plaintext: string;
  /** False when the value was sealed under an older key and should be sealed again. */
  readonly sealedWithActiveKey: boolean;
}

/**
 * AES-256-GCM under a ring of keys: the first key seals, every key opens. Each seal uses a
 * fresh 96-bit nonce; the associated data binds a ciphertext to one session id so that blobs
 * cannot be swapped between records (SM-51).
 */
export class KeyRing {
  readonly #keys: readonly DerivedKey[];
  readonly #byId: ReadonlyMap<string, DerivedKey>;
  readonly #runtime: Runtime;

  constructor(keys: readonly DerivedKey[], runtime: Runtime) {
    this.#keys = keys;
    this.#byId = new Map(keys.map((k) => [k.id, k]));
    this.#runtime = runtime;
  }

  /** How many keys the ring holds. */
  get size(): number {
    return this.#keys.length;
  }

  get activeKeyId(): string {
    return this.#active().id;
  }

  /**
   * The store key of a token under each key of the ring, active key first (SM-50). Keyed, so
   * that someone who can write to the store cannot compute a valid entry for a token of their
   * choosing; several, so that sessions issued before a key rotation are still found.
   */
  tokenHashes(token: string): string[] {
    return this.#keys.map((k) => hmac(k.tokenKey, token));
  }

  /** The store key of a new token: under the active key. */
  tokenHash(token: string): string {
    return hmac(this.#active().tokenKey, token);
  }

  /** A fingerprint of a user's credential, bound to the user id, under the active key. */
  credentialFingerprint(userId: string, credential: string): string {
    return hmac(this.#active().credentialKey, `${userId}\u0000${credential}`);
  }

  /** Whether `fingerprint` was made from this user and credential under any key of the ring. */
  matchesCredential(fingerprint: string, userId: string, credential: string): boolean {
    const expected = Buffer.from(fingerprint);
    return this.#keys.some((k) => {
      const actual = Buffer.from(hmac(k.credentialKey, `${userId}\u0000${credential}`));
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    });
  }

  seal(plaintext: string, associatedData: string): string {
    const active = this.#active();
    const iv = this.#runtime.randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', active.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([
      cipher.update(plaintext, 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${active.id}.${Buffer.concat([iv, body]).toString('base64url')}`;
  }

  /** Returns null for anything that does not authenticate: it never throws. */
  open(sealed: string, associatedData: string): Opened | null {
    const dot = sealed.indexOf('.');
    const key = dot > 0 ? this.#byId.get(sealed.slice(0, dot)) : undefined;
    if (key === undefined) return null;
    const raw = Buffer.from(sealed.slice(dot + 1), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plaintext =
        decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES), undefined, 'utf8') +
        decipher.final('utf8');
      return { plaintext, sealedWithActiveKey: key === this.#active() };
    } catch {
      return null;
    }
  }

  #active(): DerivedKey {
    // The constructor is only reached with at least one key (see resolveKeyRing).
    return this.#keys[0] as DerivedKey;
  }
}

/** Validates key inputs, reporting problems rather than throwing, and derives AES keys. */
export function resolveKeyRing(
  input: unknown,
  runtime: Runtime,
  problems: ConfigProblem[],
): KeyRing | null {
  if (!Array.isArray(input) || input.length === 0) {
    // Never echo the value: a string here is usually the whole secret-bearing variable.
    const got =
      typeof input === 'string'
        ? 'expected an array of keys, not a string; '
        : typeof input === 'object' && input !== null && !Array.isArray(input)
          ? 'expected an array of keys: wrap the key in [ ]; '
          : `at least one encryption key is required${Array.isArray(input) ? ' (the list is empty: is the environment variable empty?)' : ''}; `;
    problems.push({ path: 'keys', message: `${got}${KEY_FORMS}; ${KEYGEN_HINT}` });
    return null;
  }
  const derived: DerivedKey[] = [];
  const seen = new Set<string>();
  input.forEach((entry: unknown, index) => {
    const path = `keys[${index}]`;
    const key = deriveKey(entry, path, problems);
    if (key === null) return;
    if (seen.has(key.id)) {
      problems.push({ path: `${path}.id`, message: `duplicate key id "${key.id}"` });
      return;
    }
    seen.add(key.id);
    derived.push(key);
  });
  return derived.length === input.length ? new KeyRing(derived, runtime) : null;
}

function deriveKey(entry: unknown, path: string, problems: ConfigProblem[]): DerivedKey | null {
  if (typeof entry !== 'object' || entry === null) {
    const hint =
      typeof entry === 'string' ? '; for "id:secret" strings, use parseKeyList(value)' : '';
    problems.push({ path, message: `expected { id, secret }${hint}` });
    return null;
  }
  const { id, secret } = entry as Record<string, unknown>;
  let ok = true;
  if (typeof id !== 'string' || !KEY_ID_PATTERN.test(id)) {
    problems.push({ path: `${path}.id`, message: 'expected 1-32 characters of [A-Za-z0-9_-]' });
    ok = false;
  }
  const bytes = typeof secret === 'string' ? decodeSecret(secret) : null;
  if (bytes === null || bytes.length < MIN_SECRET_BYTES || isLowEntropy(bytes)) {
    problems.push({
      path: `${path}.secret`,
      message: `expected at least ${MIN_SECRET_BYTES} random bytes, base64url encoded; ${KEYGEN_HINT}`,
    });
    ok = false;
  }
  if (!ok || bytes === null) return null;
  const derive = (info: string): Buffer =>
    Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), info, 32));
  return {
    id: id as string,
    key: derive(HKDF_INFO),
    tokenKey: derive(TOKEN_HASH_INFO),
    credentialKey: derive(CREDENTIAL_INFO),
  };
}

function hmac(key: Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}

function decodeSecret(secret: string): Buffer | null {
  const normalised = secret.trim().replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  if (!/^[A-Za-z0-9_-]+$/.test(normalised)) return null;
  return Buffer.from(normalised, 'base64url');
}

/** Catches the classic placeholders (all zeros, one repeated byte, a short pattern). */
function isLowEntropy(bytes: Buffer): boolean {
  return new Set(bytes).size < 16;
}

/**
 * Parses the `id:secret,id:secret` form used in environment variables, first key active, as
 * `npx strongroom keygen` prints it. Throws a {@link ConfigError} (path `keys`, naming the entry
 * by position, never its content) when an entry has no id or no secret, or when the variable is
 * not set at all.
 *
 * @example
 * ```ts
 * createSessionManager({ keys: parseKeyList(process.env.STRONGROOM_KEYS ?? ''), store });
 * ```
 */
export function parseKeyList(value: string): KeyInput[] {
  const form = 'expected "id:secret,id:secret"';
  if (typeof value !== 'string') {
    throw new ConfigError([
      {
        path: 'keys',
        message: `parseKeyList was given ${value === undefined ? 'undefined (is the variable set?)' : `a ${typeof value}`}; ${form}; ${KEYGEN_HINT}`,
      },
    ]);
  }
  const entries = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const problems: ConfigProblem[] = [];
  const keys = entries.map((part, index): KeyInput => {
    const colon = part.indexOf(':');
    const id = colon < 0 ? '' : part.slice(0, colon).trim();
    const secret = colon < 0 ? part : part.slice(colon + 1).trim();
    const missing =
      colon < 0
        ? 'has no "id:" before its secret'
        : id === ''
          ? 'has an empty id'
          : secret === ''
            ? 'has an empty secret'
            : null;
    if (missing !== null) {
      problems.push({
        path: 'keys',
        message: `entry ${index + 1} of ${entries.length} of the key list ${missing}; ${form} (each entry as \`npx strongroom keygen\` prints it)`,
      });
    }
    return { id, secret };
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return keys;
}

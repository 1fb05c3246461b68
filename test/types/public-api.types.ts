// Type tests: compiled by `npm run typecheck`, never executed. Each @ts-expect-error must stay
// an error, so loosening a public type fails the build.
import * as root from 'strongroom';
import { createSessionManager, type Session } from 'strongroom';
import { isStrongroomError } from 'strongroom/errors';
import type {
  ConfigError,
  CSRFError,
  StoreConflictError,
  StoreUnavailableError,
  StrongroomError,
  AnyStrongroomError,
  ConfigProblem,
  CSRFFailureReason,
  StrongroomErrorByCode,
  StrongroomErrorCode,
} from 'strongroom/errors';
import {
  expiresAt,
  type StoreConflictError as StoreConflictErrorFromStore,
  type StoreUnavailableError as StoreUnavailableErrorFromStore,
  type DeleteAllOptions,
  type DeleteAllResult,
  type InsertOptions,
  type InsertResult,
  type ReplacedSession,
  type RetiredToken,
  type SessionStore,
  type StoredSession,
  type TokenMatch,
  type UserSessionLimit,
} from 'strongroom/store';
import { expressSessions } from 'strongroom/express';
import { createMemoryStore } from 'strongroom/stores/memory';
import type { Request } from 'express';

interface AppData {
  cart: string[];
  theme: 'light' | 'dark';
}

const manager = createSessionManager<AppData>({
  store: createMemoryStore(),
  keys: [{ id: 'k', secret: 's' }],
});
const auth = expressSessions(manager);

export async function typed(req: Request): Promise<void> {
  const session: Session<AppData> = auth.session(req);
  const cart: string[] | undefined = session.get('cart');
  await session.set('theme', 'dark');
  await session.update({ cart: [] });
  await session.login('user', { keep: ['cart'], cookie: 'persistent' });
  void cart;

  // @ts-expect-error unknown key
  session.get('nope');
  // @ts-expect-error wrong value type
  await session.set('theme', 'blue');
  // @ts-expect-error keep names only known keys
  await session.login('user', { keep: ['nope'] });
  // @ts-expect-error cookie lifetime is a union, not a boolean
  await session.login('user', { cookie: true });
  // @ts-expect-error timeouts are whole seconds as numbers
  createSessionManager({ store: createMemoryStore(), keys: [], idleTimeoutSeconds: '30m' });
  // @ts-expect-error policies are string unions
  createSessionManager({ store: createMemoryStore(), keys: [], theftPolicy: true });
}

// --- The error surface: narrowing by code, across copies of the package --------------------

/** True when A and B are the same type (not merely assignable to each other). */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

export function narrowsByCode(error: unknown): void {
  if (isStrongroomError(error, 'ERR_CSRF')) {
    assertType<Equal<typeof error, CSRFError>>();
    const reason: CSRFFailureReason = error.reason;
    void reason;
  }
  if (isStrongroomError(error, 'ERR_TOO_MANY_REQUESTS')) {
    const seconds: number = error.retryAfterSeconds;
    void seconds;
  }
  if (isStrongroomError(error, 'ERR_STORE_UNAVAILABLE')) {
    assertType<Equal<typeof error, StoreUnavailableError>>();
  }
  if (isStrongroomError(error)) {
    assertType<Equal<typeof error, AnyStrongroomError>>();
    const status: number = error.status;
    void status;
    // @ts-expect-error only a CSRFError has a reason
    void error.reason;
  }
  // @ts-expect-error codes are a closed union
  isStrongroomError(error, 'ERR_CSFR');
}

export function narrowsOnTheUnion(error: AnyStrongroomError): string {
  switch (error.code) {
    case 'ERR_CSRF':
      assertType<Equal<typeof error, CSRFError>>();
      return error.reason;
    case 'ERR_CONFIG':
      assertType<Equal<typeof error, ConfigError>>();
      return error.problems.map((problem: ConfigProblem) => problem.path).join();
    case 'ERR_TOO_MANY_REQUESTS':
      return String(error.retryAfterSeconds);
    default:
      // @ts-expect-error narrowed away: no other class has a reason
      void error.reason;
      return error.message;
  }
}

// The map and the code union cannot drift apart: the same keys, and each class carries its key.
assertType<Equal<keyof StrongroomErrorByCode, StrongroomErrorCode>>();
assertType<
  Equal<
    { [Code in StrongroomErrorCode]: StrongroomErrorByCode[Code]['code'] },
    { [Code in StrongroomErrorCode]: Code }
  >
>();
assertType<Equal<StrongroomErrorByCode['ERR_STORE_CONFLICT'], StoreConflictError>>();
// The base class keeps the whole union, for errors constructed directly.
assertType<Equal<StrongroomError['code'], StrongroomErrorCode>>();

// --- What the root exports, and what it leaves to the subpaths ------------------------------

// One class for one error, whichever subpath names it.
assertType<Equal<typeof StoreUnavailableError, typeof StoreUnavailableErrorFromStore>>();
assertType<Equal<typeof StoreConflictError, typeof StoreConflictErrorFromStore>>();
assertType<Equal<typeof root.CSRFError, typeof CSRFError>>();
assertType<Equal<typeof root.isStrongroomError, typeof isStrongroomError>>();
// Apps pass a store in the options: `SessionStore` stays at the root, the same type as the store's.
assertType<Equal<root.SessionStore, SessionStore>>();

export function storeAuthorSurface(session: StoredSession, options: InsertOptions): number {
  const result: Promise<InsertResult> | null = null;
  const deleted: DeleteAllResult = { deleted: [], cursor: null };
  const all: DeleteAllOptions = { createdBefore: 0, limit: 1, cursor: null };
  const match: TokenMatch = { session, retiredGraceUntil: null };
  const retired: RetiredToken = { tokenHash: session.tokenHash, graceUntil: 0 };
  const replaced: ReplacedSession | null = options.replaces;
  const limit: UserSessionLimit | null = options.limit;
  void [result, deleted, all, match, retired, replaced, limit];
  return expiresAt(session);
}

// Session is constructed only by the manager: a type at the root, not a class.
// @ts-expect-error 'Session' cannot be used as a value because it was exported using 'export type'
void root.Session;
// @ts-expect-error resolveConfig is internal
void root.resolveConfig;
// @ts-expect-error the store-author helpers are in strongroom/store
void root.expiresAt;
// @ts-expect-error the store's own errors are in strongroom/store and strongroom/errors
void root.StoreUnavailableError;
// @ts-expect-error so is StoreConflictError
void root.StoreConflictError;
// @ts-expect-error ResolvedConfig is internal
export type NoResolvedConfig = root.ResolvedConfig;
// @ts-expect-error StoredSession is for store authors: strongroom/store
export type NoStoredSession = root.StoredSession;

// --- Events: discriminated on type, reasons typed --------------------------------------------

export function eventsNarrow(sessions: ReturnType<typeof createSessionManager>): void {
  sessions.on('session.expired', (event) => {
    const reason: 'idle' | 'absolute' = event.reason;
    assertType<Equal<typeof reason, typeof event.reason>>();
    void reason;
  });
  sessions.on('csrf.rejected', (event) => {
    const reason = event.reason;
    assertType<Equal<typeof reason, CSRFFailureReason>>();
    void reason;
  });
  sessions.on('*', (event) => {
    if (event.type === 'session.revoked') {
      // @ts-expect-error revocation reasons are a closed union
      void (event.reason === 'no-such-reason');
    }
    if (event.type === 'session.created') assertType<Equal<typeof event.reason, null>>();
  });
  // @ts-expect-error event types are a closed union
  sessions.on('session.logged-out', () => undefined);
}

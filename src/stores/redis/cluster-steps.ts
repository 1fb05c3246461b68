import type { ReplacedSession } from '../../core/store.js';
import { clusterScripts } from './cluster-scripts.js';
import type { Context } from './operations.js';
import type { EncodedSession } from './record.js';
import { encodeInteger } from './record.js';
import { asStrings } from './replies.js';

/*
 * The single-slot steps the cluster operations (cluster.ts, cluster-insert.ts,
 * cluster-delete.ts) are sequences of. Each step is one script or command on one hash slot.
 */

/** What the cluster `drop` script reports about a deleted session. */
export interface Dropped {
  readonly tokenHashes: string[];
  readonly user: string;
}

/**
 * When `drop` deletes a session: always, only if it belongs to the user (encoded), only at that
 * version, only at that version and anonymous, only if created before the instant.
 */
export type DropCondition =
  | { readonly kind: 'any' }
  | { readonly kind: 'user'; readonly user: string }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'anonymous'; readonly version: number }
  | { readonly kind: 'before'; readonly instant: number };

/** `missing`: no such record; `refused`: the condition failed; `signed-in`: see 'anonymous'. */
export type DropOutcome = Dropped | 'missing' | 'refused' | 'signed-in';

/** Deletes a record and its retired tokens when `condition` holds (the pointers stay). */
export async function drop(
  { keys, evaluate }: Context,
  id: string,
  condition: DropCondition,
): Promise<DropOutcome> {
  const reply = await evaluate(
    clusterScripts.drop,
    [keys.session(id), keys.retired(id)],
    dropArguments(condition),
  );
  if (reply === null) return 'missing';
  if (reply === 0) return 'refused';
  if (reply === 1) return 'signed-in';
  const [tokenHash, user, ...retired] = asStrings(reply);
  return { tokenHashes: [tokenHash ?? '', ...retired], user: user ?? '' };
}

/**
 * Drops each of `ids` under `condition`, in parallel. The pointers of the sessions deleted are
 * cleared by steps pushed onto `tidy`, for the caller to await when it suits it.
 */
export async function dropEach(
  context: Context,
  ids: readonly string[],
  condition: DropCondition,
  tidy: Promise<unknown>[],
): Promise<{ deleted: string[]; missing: string[] }> {
  const outcomes = await Promise.all(ids.map((id) => drop(context, id, condition)));
  const deleted: string[] = [];
  const missing: string[] = [];
  outcomes.forEach((outcome, index) => {
    const id = ids[index] as string;
    if (outcome === 'missing') missing.push(id);
    if (typeof outcome !== 'object') return;
    deleted.push(id);
    tidy.push(clearPointers(context, id, outcome));
  });
  return { deleted, missing };
}

/** Clears pointers a deleted session left in other slots. Best effort: reads ignore them. */
export async function clearPointers(context: Context, id: string, dropped: Dropped): Promise<void> {
  const { client, keys } = context;
  const steps: Promise<unknown>[] = dropped.tokenHashes.map((hash) =>
    release(context, keys.escapedToken(hash), id),
  );
  if (dropped.user !== '') steps.push(client.zrem(keys.encodedUser(dropped.user), id));
  await settleAll(steps);
}

/**
 * Points the token key at the session until `deadline`, or extends a key that already does.
 * 1 created, 0 extended, -1 the key names another session (it is left as it is).
 */
export function claim(
  { evaluate }: Context,
  tokenKey: string,
  id: string,
  deadline: number,
): Promise<unknown> {
  return evaluate(clusterScripts.claim, [tokenKey], [id, deadline]);
}

/** Deletes the token key if it still names the session. */
export function release({ evaluate }: Context, tokenKey: string, id: string): Promise<unknown> {
  return evaluate(clusterScripts.release, [tokenKey], [id]);
}

/** Indexes a signed-in session; with `listOthers`, returns the ids indexed before it. */
export async function indexSession(
  { keys, evaluate }: Context,
  userId: string,
  id: string,
  encoded: EncodedSession,
  listOthers: 'list-others' | 'index-only',
): Promise<string[]> {
  const reply = await evaluate(
    clusterScripts.index,
    [keys.user(userId)],
    [id, encoded.absoluteExpiresAt, listOthers === 'list-others' ? '1' : '0'],
  );
  return listOthers === 'list-others' ? asStrings(reply) : [];
}

/** The ids indexed under a user, after pruning expired entries. */
export async function members({ evaluate }: Context, indexKey: string): Promise<string[]> {
  return asStrings(await evaluate(clusterScripts.members, [indexKey], []));
}

export function versionOf(replaces: ReplacedSession): DropCondition {
  return { kind: 'version', version: replaces.version };
}

/** Awaits every step, ignoring failures: for tidying that reads do not depend on. */
export async function settleAll(steps: readonly Promise<unknown>[]): Promise<void> {
  await Promise.allSettled(steps);
}

function dropArguments(condition: DropCondition): string[] {
  switch (condition.kind) {
    case 'any':
      return ['any', ''];
    case 'user':
      return ['user', condition.user];
    case 'version':
    case 'anonymous':
      return [condition.kind, encodeInteger(condition.version)];
    case 'before':
      return ['before', String(condition.instant)];
  }
}

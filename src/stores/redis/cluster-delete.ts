import type { Cluster, Redis } from 'ioredis';
import type { DeleteAllOptions, DeleteAllResult } from '../../core/store.js';
import { clearPointers, drop, dropEach, members, settleAll } from './cluster-steps.js';
import type { Context } from './operations.js';
import { encodeUser } from './record.js';
import type { ScanPosition } from './scan.js';
import {
  SCAN_BATCHES_PER_CALL,
  encodeScanPosition,
  nothingDeleted,
  startDeleteAll,
} from './scan.js';

/*
 * Deleting on Cluster: a record's drop is one step in its own slot; the pointers it leaves in
 * other slots (token keys, the user's index) are cleared afterwards, best effort, because every
 * read checks a pointer against the record anyway.
 */

export async function deleteSession(context: Context, id: string): Promise<boolean> {
  const dropped = await drop(context, id, { kind: 'any' });
  if (typeof dropped !== 'object') return false;
  await clearPointers(context, id, dropped);
  return true;
}

/*
 * Reads the index, then drops each member that is still the user's. A member found already
 * gone may have been replaced by a login racing with this call; that login indexed its new
 * session before it dropped the old one (see `dropReplaced` in cluster-insert.ts), so reading
 * the index again finds it. Rounds repeat while they meet such members and the index holds ids
 * not yet seen; ids are never reused, so every round makes progress.
 */
export async function deleteByUser(
  context: Context,
  userId: string,
  { except }: { readonly except: string | null },
): Promise<string[]> {
  const { client, keys } = context;
  const indexKey = keys.user(userId);
  const owner = { kind: 'user', user: encodeUser(userId) } as const;
  const seen = new Set<string>(except === null ? [] : [except]);
  const deleted: string[] = [];
  for (;;) {
    const candidates = (await members(context, indexKey)).filter((id) => !seen.has(id));
    if (candidates.length === 0) break;
    for (const id of candidates) seen.add(id);
    const tidy: Promise<unknown>[] = [];
    const round = await dropEach(context, candidates, owner, tidy);
    deleted.push(...round.deleted);
    if (round.missing.length > 0) tidy.push(client.zrem(indexKey, ...round.missing));
    await settleAll(tidy);
    if (round.missing.length === 0) break;
  }
  return deleted;
}

/*
 * SCAN on each master in turn, then a conditional drop per record found (each record is in
 * its own slot). At most about one SCAN batch of ids is held at once.
 */
export async function deleteAll(
  context: Context,
  options: DeleteAllOptions,
): Promise<DeleteAllResult> {
  const start = startDeleteAll(options);
  if (start === null) return nothingDeleted();
  const { keys } = context;
  const nodes = await masters(context);
  let position: ScanPosition = start.position;
  const deleted: string[] = [];
  const tidy: Promise<unknown>[] = [];
  try {
    for (let batch = 0; batch < SCAN_BATCHES_PER_CALL && deleted.length < start.room; batch++) {
      const node = nodes[position.node];
      if (node === undefined) break;
      const [next, found] = await node.scan(
        position.cursor,
        'MATCH',
        keys.recordPattern,
        'COUNT',
        start.count,
        'TYPE',
        'string',
      );
      const ids = found.map((key) => keys.idOfRecordKey(key));
      const room = start.room - deleted.length;
      const step = await dropCreatedBefore(context, ids, options.createdBefore, room, tidy);
      deleted.push(...step.deleted);
      // Out of room inside the batch: the next call scans it again from where it started.
      if (!step.complete) break;
      position =
        next === '0'
          ? { node: position.node + 1, cursor: '0' }
          : { node: position.node, cursor: next };
    }
  } finally {
    await settleAll(tidy);
  }
  return {
    deleted,
    cursor: nodes[position.node] === undefined ? null : encodeScanPosition(position),
  };
}

/**
 * Deletes the records among `ids` created before `instant`, at most `room` of them, `room`
 * drops at a time. Their pointers are cleared in the background: `tidy` collects the steps.
 * `complete` is false when `room` ran out before every id was checked.
 */
async function dropCreatedBefore(
  context: Context,
  ids: readonly string[],
  instant: number,
  room: number,
  tidy: Promise<unknown>[],
): Promise<{ deleted: string[]; complete: boolean }> {
  const deleted: string[] = [];
  let next = 0;
  while (next < ids.length) {
    const take = room - deleted.length;
    if (take <= 0) return { deleted, complete: false };
    const chunk = ids.slice(next, next + take);
    next += chunk.length;
    const step = await dropEach(context, chunk, { kind: 'before', instant }, tidy);
    deleted.push(...step.deleted);
  }
  return { deleted, complete: true };
}

/** The masters in a stable (address) order, so that a cursor's node index means one node. */
async function masters({ client }: Context): Promise<Redis[]> {
  if (!client.isCluster) return [client as Redis];
  const cluster = client as Cluster;
  // A client still connecting knows no nodes yet; a command waits for its slot map.
  if (cluster.nodes('master').length === 0) await cluster.ping();
  const nodes = cluster.nodes('master');
  if (nodes.length === 0) throw new Error('No Redis Cluster master is known yet');
  const address = (node: Redis): string => `${node.options.host}:${node.options.port}`;
  return [...nodes].sort((a, b) => (address(a) < address(b) ? -1 : 1));
}

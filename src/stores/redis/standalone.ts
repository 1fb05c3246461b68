import type { StoredSession, TokenMatch } from '../../core/store.js';
import type { Connection } from './connection.js';
import type { Keys } from './keys.js';
import type { Operations } from './operations.js';
import {
  decodeRecord,
  encodeInteger,
  encodeRetire,
  encodeSession,
  encodeUser,
  escapeField,
} from './record.js';
import {
  SCAN_BATCHES_PER_CALL,
  asBuffers,
  asStrings,
  decodeScanPosition,
  encodeScanPosition,
  live,
  readInsertReply,
  readUpdateReply,
  scanCount,
  toMatch,
} from './replies.js';
import { standaloneScripts } from './scripts.js';

/**
 * The standalone topology: every operation is one script that follows pointers between keys on
 * the server, so one round trip, and atomic (Redis runs one script at a time).
 */
export function standaloneOperations(
  connection: Connection,
  keys: Keys,
  prefix: string,
): Operations {
  const { client, evaluate, evaluateBuffer } = connection;

  return {
    async findByTokenHash(tokenHash: string): Promise<TokenMatch | null> {
      const reply = await evaluateBuffer(
        standaloneScripts.find,
        [keys.token(tokenHash)],
        [prefix, escapeField(tokenHash)],
      );
      if (reply === null) return null;
      const [id, record, grace] = asBuffers(reply);
      return toMatch(id?.toString(), record, grace?.toString());
    },

    async findById(id: string): Promise<StoredSession | null> {
      const record = await client.getBuffer(keys.session(id));
      return record === null ? null : decodeRecord(id, record);
    },

    async insert(session, { replaces, limit }) {
      const encoded = encodeSession(session);
      // The limit applies to signed-in sessions only; the script skips it for an empty user.
      const reply = await evaluate(
        standaloneScripts.insert,
        [keys.session(session.id), keys.token(session.tokenHash)],
        [
          prefix,
          session.id,
          encoded.record,
          encoded.tokenHash,
          encoded.user,
          encoded.expiresAt,
          encoded.absoluteExpiresAt,
          replaces?.id ?? '',
          replaces === null ? '' : encodeInteger(replaces.version),
          limit === null ? '' : String(limit.max),
          limit?.policy ?? '',
          limit === null ? '' : String(limit.now),
        ],
      );
      return readInsertReply(reply);
    },

    async update(session, { retire }): Promise<boolean> {
      const encoded = encodeSession(session);
      const reply = await evaluate(
        standaloneScripts.update,
        [keys.session(session.id), keys.token(session.tokenHash)],
        [
          prefix,
          session.id,
          encodeInteger(session.version - 1),
          encoded.record,
          encoded.tokenHash,
          encoded.user,
          encoded.expiresAt,
          encoded.absoluteExpiresAt,
          ...encodeRetire(retire),
        ],
      );
      return readUpdateReply(reply);
    },

    async delete(id: string): Promise<boolean> {
      return (await evaluate(standaloneScripts.delete, [keys.session(id)], [prefix, id])) === 1;
    },

    async deleteByUser(userId, { except }): Promise<string[]> {
      const reply = await evaluate(
        standaloneScripts.deleteByUser,
        [keys.user(userId)],
        [prefix, encodeUser(userId), ...(except === null ? ['0'] : ['1', except])],
      );
      return asStrings(reply);
    },

    async deleteAll({ createdBefore, limit, cursor }) {
      const start = decodeScanPosition(cursor);
      // One server is node 0: any other node index is past the end.
      if (!(limit >= 1) || start.node !== 0) return { deleted: [], cursor: null };
      const reply = await evaluate(
        standaloneScripts.deleteAll,
        [],
        [
          prefix,
          keys.recordPattern,
          start.cursor,
          scanCount(limit),
          String(createdBefore),
          String(Math.floor(limit)),
          SCAN_BATCHES_PER_CALL,
        ],
      );
      const [next, deleted] = Array.isArray(reply) ? (reply as unknown[]) : [];
      return {
        deleted: asStrings(deleted),
        cursor: next === '0' ? null : encodeScanPosition({ node: 0, cursor: String(next) }),
      };
    },

    async listByUser(userId: string, now: number): Promise<StoredSession[]> {
      const reply = asBuffers(
        await evaluateBuffer(
          standaloneScripts.listByUser,
          [keys.user(userId)],
          [prefix, encodeUser(userId)],
        ),
      );
      const sessions: StoredSession[] = [];
      for (let index = 0; index + 1 < reply.length; index += 2) {
        sessions.push(
          decodeRecord((reply[index] as Buffer).toString(), reply[index + 1] as Buffer),
        );
      }
      return live(sessions, now);
    },
  };
}

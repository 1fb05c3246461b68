import { LUA_COMMON, Script } from './lua.js';

/** Scripts of the cluster topology: each touches only the keys it declares, all in one slot. */
export const clusterScripts = {
  /** KEYS: S(id), R(id). ARGV: th~. Returns nil or {record[, grace]}. */
  read: new Script(`return read(KEYS[1], KEYS[2], ARGV[1])`, LUA_COMMON),
  /** KEYS: S(id). ARGV: record, expiresAt. Returns 1, or 0 when the id is in use. */
  create: new Script(
    `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1`,
    LUA_COMMON,
  ),
  /** KEYS: T(th). ARGV: id, deadline. 1 created, 0 extended, -1 the hash names another session. */
  claim: new Script(`return claim(KEYS[1], ARGV[1], ARGV[2])`, LUA_COMMON),
  /** KEYS: T(th). ARGV: id. */
  release: new Script(
    `release(KEYS[1], ARGV[1])
return 1`,
    LUA_COMMON,
  ),
  /**
   * KEYS: U(user). ARGV: id, absolute expiry, '1' to list the others, or '0'. Indexes the
   * session; returns 1, or the ids the index held besides it (after pruning expired entries).
   * The slot runs one script at a time, so the ids it returns are exactly the sessions
   * indexed before this one: the order the cluster session limit relies on.
   */
  index: new Script(
    `index(KEYS[1], ARGV[1], ARGV[2])
prune(KEYS[1])
if ARGV[3] ~= '1' then return 1 end
local others = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= ARGV[1] then others[#others + 1] = sid end
end
return others`,
    LUA_COMMON,
  ),
  /** KEYS: U(user). Returns the ids indexed under the user, after pruning expired entries. */
  members: new Script(
    `prune(KEYS[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)`,
    LUA_COMMON,
  ),
  /**
   * KEYS: S(id), R(id). ARGV: expected version, record, th~, user~ or '', expiresAt, absolute
   * expiry, 'fast' or 'full', '1' and the retired hash~ and grace, or '0'. Returns 0 (version
   * mismatch or no such session), or {'OK' | 'PREPARE', old th~, old user~}. In 'fast' mode it
   * writes only when no other key must change first: same token, same user, no later
   * absolute expiry; otherwise it answers 'PREPARE' and writes nothing.
   */
  compareAndSet: new Script(
    `local rec, th, uid, exp, abs = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local version, oldTh, oldUid, oldAbs = meta(old)
if version ~= ARGV[1] then return 0 end
if ARGV[7] == 'fast' and (th ~= oldTh or (uid ~= '' and (uid ~= oldUid or tonumber(abs) > oldAbs))) then
  return {'PREPARE', oldTh, oldUid}
end
redis.call('SET', KEYS[1], rec, 'PXAT', exp)
if ARGV[8] == '1' then redis.call('HSET', KEYS[2], ARGV[9], ARGV[10]) end
redis.call('PEXPIREAT', KEYS[2], exp)
return {'OK', oldTh, oldUid}`,
    LUA_COMMON,
  ),
  /**
   * KEYS: S(id), R(id). ARGV: a condition and its value: 'any' ''; 'user' and the user~ the
   * session must belong to; 'version' and the version~ it must have; 'anonymous' and a
   * version~ (it must also have no user); 'before' and the instant it must have been created
   * before. Deletes the record and its retired tokens when the condition holds. Returns nil (no
   * such session), 0 (the condition fails), 1 ('anonymous' only: at that version, but signed
   * in, so not deleted), or {th~, user~, retired th~…} so the caller can clear the pointers in
   * other slots.
   */
  drop: new Script(
    `local rec = redis.call('GET', KEYS[1])
if not rec then return false end
local version, th, uid = meta(rec)
local kind, value = ARGV[1], ARGV[2]
if kind == 'user' and uid ~= value then return 0 end
if (kind == 'version' or kind == 'anonymous') and version ~= value then return 0 end
if kind == 'anonymous' and uid ~= '' then return 1 end
if kind == 'before' then
  local created = createdAt(rec)
  if not (created and created < tonumber(value)) then return 0 end
end
local out = {th, uid}
for _, old in ipairs(redis.call('HKEYS', KEYS[2])) do out[#out + 1] = old end
redis.call('DEL', KEYS[1], KEYS[2])
return out`,
    LUA_COMMON,
  ),
};

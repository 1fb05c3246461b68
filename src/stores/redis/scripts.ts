import { createHash } from 'node:crypto';

/** A Lua script with the SHA-1 that EVALSHA names it by. */
export class Script {
  readonly source: string;
  readonly sha: string;

  constructor(body: string, prelude: string) {
    this.source = `${prelude}\n${body}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }
}

/**
 * Lua that reads the record format of record.ts: `version,tokenHash~,user~,absolute,created,
 * authenticated,lastSeen,idle,rotated,packed,sealed`, integers in base 36, the times after
 * `created` as offsets from it.
 */
const LUA_RECORD = `
local function fields(rec, n)
  local out, pos = {}, 1
  for i = 1, n do
    local c = string.find(rec, ',', pos, true)
    if not c then return nil end
    out[i] = string.sub(rec, pos, c - 1)
    pos = c + 1
  end
  return out
end
-- tonumber(s, 36) reads '-5' as a huge unsigned number: offsets may be negative.
local function int36(s)
  if string.sub(s, 1, 1) == '-' then
    local n = tonumber(string.sub(s, 2), 36)
    return n and -n
  end
  return tonumber(s, 36)
end
local function meta(rec)
  local f = fields(rec, 4)
  return f[1], f[2], f[3], int36(f[4])
end
-- When the record expires (the earlier deadline), when it was last seen, when it was created.
local function usage(rec)
  local f = fields(rec, 8)
  local created = int36(f[5])
  return math.min(created + int36(f[8]), int36(f[4])), created + int36(f[7]), created
end
-- createdAt, or nil for a value that is not a record (deleteAll meets keys it did not write).
local function createdAt(rec)
  local f = fields(rec, 5)
  return f and int36(f[5])
end
-- Ids compare byte by byte, as JavaScript compares base64url ids: Lua's '<' follows the
-- server's collation locale.
local function bytesBefore(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- The eviction order of SM-34 on {lastSeenAt, createdAt, id}: least recently used first.
local function leastRecentlyUsedFirst(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  if a[2] ~= b[2] then return a[2] < b[2] end
  return bytesBefore(a[3], b[3])
end
`;

/** Lua shared by every script. */
const LUA_COMMON = `${LUA_RECORD}
local function read(skey, rkey, th)
  local rec = redis.call('GET', skey)
  if not rec then return false end
  local _, current = meta(rec)
  if current == th then return {rec} end
  local grace = redis.call('HGET', rkey, th)
  if grace then return {rec, grace} end
  return false
end
local function claim(tkey, sid, at)
  local holder = redis.call('GET', tkey)
  if not holder then
    redis.call('SET', tkey, sid, 'PXAT', at)
    return 1
  end
  if holder ~= sid then return -1 end
  redis.call('PEXPIREAT', tkey, at, 'GT')
  return 0
end
local function release(tkey, sid)
  if redis.call('GET', tkey) == sid then redis.call('DEL', tkey) end
end
local function prune(ukey)
  local t = redis.call('TIME')
  redis.call('ZREMRANGEBYSCORE', ukey, '-inf', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
local function index(ukey, sid, abs)
  redis.call('ZADD', ukey, 'GT', abs, sid)
  if redis.call('PEXPIRETIME', ukey) < tonumber(abs) then redis.call('PEXPIREAT', ukey, abs) end
end
`;

/** Lua of the standalone scripts, which find keys by name from ARGV[1], the key prefix. */
const LUA_NAMED = `${LUA_COMMON}
local P = ARGV[1]
local function S(sid) return P .. '{' .. sid .. '}' end
local function R(sid) return P .. '{' .. sid .. '}r' end
local function T(th) return P .. 't:' .. th end
local function U(uid) return P .. 'u:{' .. uid .. '}' end
local function owns(sid, th)
  local rec = redis.call('GET', S(sid))
  if not rec then return false end
  local _, current = meta(rec)
  return current == th or redis.call('HEXISTS', R(sid), th) == 1
end
local function point(th, sid, at)
  if redis.call('GET', T(th)) == sid then
    redis.call('PEXPIREAT', T(th), at, 'GT')
  else
    redis.call('SET', T(th), sid, 'PXAT', at)
  end
end
local function destroy(sid)
  local rec = redis.call('GET', S(sid))
  if not rec then return false end
  local _, th, uid = meta(rec)
  local retired = redis.call('HKEYS', R(sid))
  redis.call('DEL', S(sid), R(sid))
  release(T(th), sid)
  for _, old in ipairs(retired) do release(T(old), sid) end
  if uid ~= '' then redis.call('ZREM', U(uid), sid) end
  return true
end
-- The user's sessions to evict so that at most max are live once sid is in (SM-34), or false
-- when the policy refuses. Counts the records of the user's index that still name the user and
-- are live at the caller's now, except sid and the session it replaces. Changes nothing but
-- expired index entries.
local function overLimit(uid, sid, replaced, max, policy, now)
  local ukey = U(uid)
  prune(ukey)
  local live = {}
  for _, other in ipairs(redis.call('ZRANGE', ukey, 0, -1)) do
    if other ~= sid and other ~= replaced then
      local rec = redis.call('GET', S(other))
      if rec then
        local _, _, owner = meta(rec)
        local expiry, seen, created = usage(rec)
        if owner == uid and expiry > now then live[#live + 1] = {seen, created, other} end
      end
    end
  end
  local excess = #live + 1 - max
  if excess <= 0 then return {} end
  if policy == 'refuse' then return false end
  table.sort(live, leastRecentlyUsedFirst)
  local out = {}
  for i = 1, math.min(excess, #live) do out[i] = live[i][3] end
  return out
end
`;

/** Scripts of the standalone topology: one per operation, each atomic. */
export const standaloneScripts = {
  /** KEYS: T(th). ARGV: P, th~. Returns nil or {id, record[, grace]}. */
  find: new Script(
    `local sid = redis.call('GET', KEYS[1])
if not sid then return false end
local found = read(S(sid), R(sid), ARGV[2])
if not found then return false end
return {sid, found[1], found[2]}`,
    LUA_NAMED,
  ),
  /**
   * KEYS: S(id), T(th). ARGV: P, id, record, th~, user~ or '', expiresAt, absolute expiry, the
   * replaced id and its version~ (or '', ''), the limit's max, policy and now (or '', '', '').
   * Returns 'ID' (id in use), 'TOKEN' (hash in use), 'CONFLICT' (the replaced session is not at
   * that version), 'LIMIT' (refused by the limit) or {'OK', evicted id…}. Checks everything
   * before it changes anything.
   */
  insert: new Script(
    `local sid, rec, th, uid, exp, abs = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local replaced = ARGV[8] ~= '' and ARGV[8]
if redis.call('EXISTS', S(sid)) == 1 then return 'ID' end
local holder = redis.call('GET', T(th))
if holder and holder ~= sid and holder ~= replaced and owns(holder, th) then return 'TOKEN' end
if replaced then
  local old = redis.call('GET', S(replaced))
  if not old or meta(old) ~= ARGV[9] then return 'CONFLICT' end
end
local evicted = {}
if uid ~= '' and ARGV[10] ~= '' then
  evicted = overLimit(uid, sid, replaced, tonumber(ARGV[10]), ARGV[11], tonumber(ARGV[12]))
  if not evicted then return 'LIMIT' end
end
if replaced then destroy(replaced) end
for _, old in ipairs(evicted) do destroy(old) end
redis.call('SET', T(th), sid, 'PXAT', exp)
redis.call('SET', S(sid), rec, 'PXAT', exp)
if uid ~= '' then
  index(U(uid), sid, abs)
  prune(U(uid))
end
return {'OK', unpack(evicted)}`,
    LUA_NAMED,
  ),
  /**
   * KEYS: S(id), T(th). ARGV: P, id, expected version, record, th~, user~ or '', expiresAt,
   * absolute expiry, '1' and the retired hash~ and grace, or '0'. Returns 1, 0 (version
   * mismatch or no such session), 'TOKEN' or 'RETIRED' (hash owned by another session).
   */
  update: new Script(
    `local sid, rec, th, uid, exp, abs = ARGV[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local retired = ARGV[9] == '1' and ARGV[10]
local old = redis.call('GET', S(sid))
if not old then return 0 end
local version, oldTh, oldUid = meta(old)
if version ~= ARGV[3] then return 0 end
if th ~= oldTh then
  local holder = redis.call('GET', T(th))
  if holder and holder ~= sid and owns(holder, th) then return 'TOKEN' end
end
if retired and retired ~= oldTh then
  local holder = redis.call('GET', T(retired))
  if holder and holder ~= sid and owns(holder, retired) then return 'RETIRED' end
end
point(th, sid, exp)
if uid ~= '' then index(U(uid), sid, abs) end
redis.call('SET', S(sid), rec, 'PXAT', exp)
if retired then
  redis.call('HSET', R(sid), retired, ARGV[11])
  point(retired, sid, abs)
end
if th ~= oldTh and retired ~= oldTh then release(T(oldTh), sid) end
redis.call('PEXPIREAT', R(sid), exp)
if oldUid ~= '' and oldUid ~= uid then redis.call('ZREM', U(oldUid), sid) end
return 1`,
    LUA_NAMED,
  ),
  /** KEYS: S(id). ARGV: P, id. Returns 1 when the session existed, else 0. */
  delete: new Script(`return destroy(ARGV[2]) and 1 or 0`, LUA_NAMED),
  /** KEYS: U(user). ARGV: P, user~, '1' and the kept id, or '0'. Returns the deleted ids. */
  deleteByUser: new Script(
    `local uid, except = ARGV[2], ARGV[3] == '1' and ARGV[4]
prune(KEYS[1])
local deleted = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if sid ~= except then
    local rec = redis.call('GET', S(sid))
    if not rec then
      redis.call('ZREM', KEYS[1], sid)
    else
      local _, _, owner = meta(rec)
      if owner == uid then
        destroy(sid)
        deleted[#deleted + 1] = sid
      end
    end
  end
end
return deleted`,
    LUA_NAMED,
  ),
  /**
   * No KEYS: it finds records with SCAN. ARGV: P, the record pattern, SCAN cursor, COUNT,
   * createdBefore, limit, most SCAN calls. Deletes records created before createdBefore, at
   * most limit, with their pointers. Returns {next cursor, {deleted id…}}. When the limit stops
   * it inside a SCAN batch, the cursor it returns is the one that batch started from, so that
   * the rest of the batch is visited again by the next call (already deleted keys are gone).
   */
  deleteAll: new Script(
    `local pattern, cursor, count = ARGV[2], ARGV[3], ARGV[4]
local before, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local deleted = {}
for _ = 1, tonumber(ARGV[7]) do
  local batch = redis.call('SCAN', cursor, 'MATCH', pattern, 'COUNT', count, 'TYPE', 'string')
  for _, skey in ipairs(batch[2]) do
    if #deleted >= limit then return {cursor, deleted} end
    local created = createdAt(redis.call('GET', skey) or '')
    if created and created < before then
      local sid = string.sub(skey, #P + 2, -2)
      destroy(sid)
      deleted[#deleted + 1] = sid
    end
  end
  cursor = batch[1]
  if cursor == '0' or #deleted >= limit then break end
end
return {cursor, deleted}`,
    LUA_NAMED,
  ),
  /** KEYS: U(user). ARGV: P, user~. Returns {id, record, id, record, …}. */
  listByUser: new Script(
    `local uid = ARGV[2]
prune(KEYS[1])
local found = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local rec = redis.call('GET', S(sid))
  if not rec then
    redis.call('ZREM', KEYS[1], sid)
  else
    local _, _, owner = meta(rec)
    if owner == uid then
      found[#found + 1] = sid
      found[#found + 1] = rec
    end
  end
end
return found`,
    LUA_NAMED,
  ),
};

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

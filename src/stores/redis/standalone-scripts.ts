import { LUA_COMMON, Script } from './lua.js';

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

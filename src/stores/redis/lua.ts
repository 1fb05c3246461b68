import { createHash } from 'node:crypto';

/*
 * What the scripts of both topologies share: the script wrapper and the Lua library every script
 * is prefixed with (standalone-scripts.ts, cluster-scripts.ts). Redis caches a script by the
 * SHA-1 of its whole source, so a shared prelude costs nothing per call.
 */

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
export const LUA_COMMON = `${LUA_RECORD}
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

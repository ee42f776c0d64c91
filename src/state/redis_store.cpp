// The Redis backend of the state store (libhiredis, blocking, with connect
// and command timeouts). Keys under [state] redis_prefix P:
//   P p:ID      hash: the record        P m:ID   string: the held message
//   P s:SENDER  sorted set of awaiting ids by expires_at (the hot path)
//   P exp       awaiting ids by expires_at (sweeper, total bound)
//   P st:N      ids in state N by created_at (listing)
//   P purge     ids by purge_at         P sizes  hash id -> held bytes
//   P bytes     held bytes, all records P lock:NAME  hash owner, expiry
// Every change touching several keys is one Lua script, so it is atomic
// against other hosts. Times are the callers' (compared inside the scripts);
// Redis TTLs, set a day past purge_at (lock: at its expiry), only reclaim
// memory when no sweeper runs. The scripts build key names from P, so this
// needs one Redis server (or a Sentinel-managed pair), not Redis Cluster.
// The outbound sections' keys are listed above their scripts below.
// A failed round trip (refused, timed out, reset) drops the connection and
// returns Code::unavailable; the next call connects again.
// Trusted input: the settings. Record values are binary-safe arguments.
#include "state/redis_store.h"

#include <hiredis/hiredis.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fstream>
#include <mutex>
#include <sstream>
#include <tuple>

#include "outbound/direction.h"

namespace emogate::state {

namespace {

// Shared by the scripts below: removes every trace of one record.
constexpr const char* kDropFn = R"lua(
local function drop(P, id)
  local rk = P .. 'p:' .. id
  local s = redis.call('HGET', rk, 's')
  if s then redis.call('ZREM', P .. 's:' .. s, id) end
  for n = 0, 3 do redis.call('ZREM', P .. 'st:' .. n, id) end
  redis.call('ZREM', P .. 'exp', id)
  redis.call('ZREM', P .. 'purge', id)
  local sz = redis.call('HGET', P .. 'sizes', id)
  if sz then
    redis.call('DECRBY', P .. 'bytes', sz)
    redis.call('HDEL', P .. 'sizes', id)
  end
  redis.call('DEL', P .. 'm:' .. id)
  return redis.call('DEL', rk)
end
)lua";

// The record fields, in the order every script returns them after the id.
constexpr const char* kFields = "'s','r','c','e','g','b','st','sa','mq','cb','cu','hb'";

enum Script { kPut, kFind, kGet, kClaim, kUnclaim, kTransition, kList, kExpired, kCounts, kRemove, kPurge, kLock,
              kUnlock, kLogRecord, kLogFind, kLogByAccount, kLogPurge, kIncidentFlag, kIncidentGet, kIncidentList,
              kAddressCount, kAddressCounts, kIncidentPurge, kFreeze, kUnfreeze, kListFrozen, kLogVolume, kScriptCount };

// ---- the outbound sections' scripts ------------------------------------------
// Keys under P: ob:r:SEQ hash (one log record: m message id, a account,
// t time, r recipients, tr truncated, h hashes, q queue id), ob:m:MID and
// ob:a:ACCOUNT sorted sets of SEQ by time, ob:t all SEQ by time (bound,
// purge), ob:seq; in:ACCOUNT hash (the incident), in:ACCOUNT:i:K sets (K 0
// recipients, 1 domains, 2 findings, 3 hashes, 4 queue ids), in:ACCOUNT:e
// flagged events in the window by time, incidents (accounts by first_seen),
// in:seq; fz:ACCOUNT hash (w why, t time), frozen (accounts by time);
// ac:E, ac:E:f, ac:E:l hashes address -> count, first, last (E 0
// backscatter, 1 spoofed_sender). The volume window (store.h Volume), kept
// two windows before it expires: ob:w:r:ACCOUNT sorted set of recipients
// by last time, ob:w:h:HASH\nACCOUNT sorted set by time of SEQ\nRECIPIENTS
// (SEQ zero-padded) for each message carrying the attachment.

constexpr const char* kLogFns = R"lua(
local function drop_log(P, seq)
  local k = P .. 'ob:r:' .. seq
  local h = redis.call('HMGET', k, 'm', 'a')
  if h[1] then redis.call('ZREM', P .. 'ob:m:' .. h[1], seq) end
  if h[2] then redis.call('ZREM', P .. 'ob:a:' .. h[2], seq) end
  redis.call('ZREM', P .. 'ob:t', seq)
  redis.call('DEL', k)
end
local function fetch_log(P, seqs, index)
  local out = {}
  for _, seq in ipairs(seqs) do
    local h = redis.call('HMGET', P .. 'ob:r:' .. seq, 'm', 'a', 't', 'r', 'tr', 'h', 'q')
    if h[1] then table.insert(out, h) else redis.call('ZREM', index, seq) end
  end
  return out
end
)lua";

// volume(P, account, t, recipients, hashes, rows, stop): the window at t as
// store.h Volume says (threads counted up to `stop`), and per recipient its
// time in the window (held).
constexpr const char* kVolumeFns = R"lua(
local function lines(joined)
  local out, seen = {}, {}
  for v in string.gmatch(joined, '[^\n]+') do
    if not seen[v] then
      seen[v] = true
      table.insert(out, v)
    end
  end
  return out
end
local function volume(P, a, t, rcpts, hashes, rows, stop)
  local edge = t - 3600
  local rk = P .. 'ob:w:r:' .. a
  local kept = redis.call('ZCOUNT', rk, '(' .. edge, '+inf')
  local fresh, held = 0, {}
  for _, x in ipairs(rcpts) do
    local s = redis.call('ZSCORE', rk, x)
    if s and tonumber(s) > edge then held[x] = tonumber(s) else fresh = fresh + 1 end
  end
  local threads = 0
  for _, h in ipairs(hashes) do
    local seen, n = {}, 1
    for _, x in ipairs(rcpts) do seen[x] = true end
    for _, e in ipairs(redis.call('ZREVRANGEBYSCORE', P .. 'ob:w:h:' .. h .. '\n' .. a, '+inf', '(' .. edge,
                                  'LIMIT', 0, rows)) do
      if n >= stop then break end
      local list = lines(string.sub(e, (string.find(e, '\n', 1, true) or string.len(e)) + 1))
      local shares = false
      for _, x in ipairs(list) do
        if seen[x] then
          shares = true
          break
        end
      end
      if not shares then
        n = n + 1
        for _, x in ipairs(list) do seen[x] = true end
      end
    end
    if n > threads then threads = n end
  end
  return kept, fresh, held, threads
end
)lua";

constexpr const char* kIncidentFns = R"lua(
local function fetch_incident(P, a)
  local ik = P .. 'in:' .. a
  local h = redis.call('HMGET', ik, 'fs', 'ls', 'n', 'mal', 'cap', 'lst', 'ss', 'fa', 'fw', 'ua', 'ub')
  if not h[1] then return nil end
  table.insert(h, 1, a)
  table.insert(h, redis.call('SCARD', ik .. ':i:0'))
  table.insert(h, redis.call('SCARD', ik .. ':i:1'))
  for k = 2, 4 do table.insert(h, redis.call('SMEMBERS', ik .. ':i:' .. k)) end
  return h
end
)lua";

std::string outbound_script(Script s) {
  const std::string head = "local P = ARGV[1]\n";
  switch (s) {
    case kLogRecord:  // P mid account t rcpts truncated hashes qid max_entries ttl all_rcpts cap rows stop
      return head + kLogFns + kVolumeFns + R"lua(
local a, t = ARGV[3], tonumber(ARGV[4])
local rcpts, hashes = lines(ARGV[11]), lines(ARGV[7])
local kept, fresh, held, threads = volume(P, a, t, rcpts, hashes, tonumber(ARGV[13]), tonumber(ARGV[14]))
local seq = redis.call('INCR', P .. 'ob:seq')
local k = P .. 'ob:r:' .. seq
local ttl = tonumber(ARGV[10])
redis.call('HSET', k, 'm', ARGV[2], 'a', ARGV[3], 't', ARGV[4], 'r', ARGV[5], 'tr', ARGV[6], 'h', ARGV[7], 'q', ARGV[8])
redis.call('EXPIRE', k, ttl)
for _, z in ipairs({P .. 'ob:m:' .. ARGV[2], P .. 'ob:a:' .. ARGV[3]}) do
  redis.call('ZADD', z, ARGV[4], seq)
  redis.call('EXPIRE', z, ttl)
end
redis.call('ZADD', P .. 'ob:t', ARGV[4], seq)
local dropped = 0
local over = redis.call('ZCARD', P .. 'ob:t') - tonumber(ARGV[9])
if over > 0 then
  for _, old in ipairs(redis.call('ZRANGE', P .. 'ob:t', 0, over - 1)) do
    drop_log(P, old)
    dropped = dropped + 1
  end
end
local ik = P .. 'in:' .. ARGV[3]
local last = redis.call('HGET', ik, 'lst')
if last then
  if tonumber(ARGV[4]) > tonumber(last) then redis.call('HSET', ik, 'lst', ARGV[4]) end
  redis.call('HINCRBY', ik, 'ss', 1)
end
local edge, cap, wttl = t - 3600, tonumber(ARGV[12]), 7200
local rk = P .. 'ob:w:r:' .. a
redis.call('ZREMRANGEBYSCORE', rk, '-inf', edge)
local n = kept
for _, x in ipairs(rcpts) do
  if held[x] then
    if t > held[x] then redis.call('ZADD', rk, t, x) end
  elseif n < cap then
    redis.call('ZADD', rk, t, x)
    n = n + 1
  end
end
redis.call('EXPIRE', rk, wttl)
local member = string.format('%020d', seq) .. '\n' .. ARGV[5]
for _, h in ipairs(hashes) do
  local hk = P .. 'ob:w:h:' .. h .. '\n' .. a
  redis.call('ZREMRANGEBYSCORE', hk, '-inf', edge)
  redis.call('ZADD', hk, t, member)
  redis.call('EXPIRE', hk, wttl)
end
return {dropped, kept + fresh, fresh > 0 and 1 or 0, threads}
)lua";
    case kLogVolume:  // P account t all_rcpts hashes rows stop
      return head + kVolumeFns + R"lua(
local kept, fresh, held, threads = volume(P, ARGV[2], tonumber(ARGV[3]), lines(ARGV[4]), lines(ARGV[5]),
                                          tonumber(ARGV[6]), tonumber(ARGV[7]))
return {kept + fresh, fresh > 0 and 1 or 0, threads}
)lua";
    case kLogFind:  // P mid limit
      return head + kLogFns + R"lua(
local z = P .. 'ob:m:' .. ARGV[2]
return fetch_log(P, redis.call('ZREVRANGE', z, 0, tonumber(ARGV[3]) - 1), z)
)lua";
    case kLogByAccount:  // P account since limit
      return head + kLogFns + R"lua(
local z = P .. 'ob:a:' .. ARGV[2]
return fetch_log(P, redis.call('ZREVRANGEBYSCORE', z, '+inf', ARGV[3], 'LIMIT', 0, ARGV[4]), z)
)lua";
    case kLogPurge:  // P before
      return head + kLogFns + R"lua(
local seqs = redis.call('ZRANGEBYSCORE', P .. 'ob:t', '-inf', '(' .. ARGV[2])
for _, seq in ipairs(seqs) do drop_log(P, seq) end
return #seqs
)lua";
    case kIncidentFlag:  // P account at malicious qid rcpts domains findings hashes max_incidents max_rcpt max_list window
      return head + R"lua(
local a, at = ARGV[2], tonumber(ARGV[3])
local ik = P .. 'in:' .. a
if redis.call('EXISTS', ik) == 0 then
  if redis.call('ZCARD', P .. 'incidents') >= tonumber(ARGV[10]) then return {-1, 0} end
  redis.call('HSET', ik, 'fs', at, 'ls', at, 'n', 0, 'mal', 0, 'cap', 0, 'lst', 0, 'ss', 0, 'fa', 0, 'fw', '',
             'ua', 0, 'ub', '')
  redis.call('ZADD', P .. 'incidents', at, a)
end
local h = redis.call('HMGET', ik, 'fs', 'ls')
if at < tonumber(h[1]) then
  redis.call('HSET', ik, 'fs', at)
  redis.call('ZADD', P .. 'incidents', at, a)
end
if at > tonumber(h[2]) then redis.call('HSET', ik, 'ls', at) end
redis.call('HINCRBY', ik, 'n', 1)
if ARGV[4] == '1' then redis.call('HINCRBY', ik, 'mal', 1) end
local function add(kind, joined, bound)
  local k = ik .. ':i:' .. kind
  local full = false
  for v in string.gmatch(joined, '[^\n]+') do
    if redis.call('SISMEMBER', k, v) == 0 then
      if redis.call('SCARD', k) < bound then redis.call('SADD', k, v) else full = true end
    end
  end
  return full
end
local rb, lb = tonumber(ARGV[11]), tonumber(ARGV[12])
local capped = add(0, ARGV[6], rb)
capped = add(1, ARGV[7], rb) or capped
add(2, ARGV[8], lb)
add(3, ARGV[9], lb)
add(4, ARGV[5], lb)
if capped then redis.call('HSET', ik, 'cap', 1) end
local ek = ik .. ':e'
local edge = at - tonumber(ARGV[13])
redis.call('ZREMRANGEBYSCORE', ek, '-inf', edge)
redis.call('ZADD', ek, at, redis.call('INCR', P .. 'in:seq') .. (ARGV[4] == '1' and 'm' or 's'))
local over = redis.call('ZCARD', ek) - lb
if over > 0 then redis.call('ZREMRANGEBYRANK', ek, 0, over - 1) end
local m, s = 0, 0
for _, e in ipairs(redis.call('ZRANGEBYSCORE', ek, '(' .. edge, at)) do
  if string.sub(e, -1) == 'm' then m = m + 1 else s = s + 1 end
end
return {m, s}
)lua";
    case kIncidentGet:  // P account
      return head + kIncidentFns + R"lua(
local h = fetch_incident(P, ARGV[2])
if h then return {h} end
return {}
)lua";
    case kIncidentList:  // P since limit
      return head + kIncidentFns + R"lua(
local since, limit, out = tonumber(ARGV[2]), tonumber(ARGV[3]), {}
for _, a in ipairs(redis.call('ZRANGE', P .. 'incidents', 0, -1)) do
  if #out >= limit then break end
  local h = fetch_incident(P, a)
  if not h then
    redis.call('ZREM', P .. 'incidents', a)
  elseif tonumber(h[3]) >= since or tonumber(h[7]) >= since then
    table.insert(out, h)
  end
end
return out
)lua";
    case kAddressCount:  // P event address fold at max
      return head + R"lua(
local k = P .. 'ac:' .. ARGV[2]
local addr, at = ARGV[3], tonumber(ARGV[5])
if redis.call('HEXISTS', k, addr) == 0 and redis.call('HLEN', k) >= tonumber(ARGV[6]) then addr = ARGV[4] end
redis.call('HINCRBY', k, addr, 1)
local f = redis.call('HGET', k .. ':f', addr)
if not f or at < tonumber(f) then redis.call('HSET', k .. ':f', addr, at) end
local l = redis.call('HGET', k .. ':l', addr)
if not l or at > tonumber(l) then redis.call('HSET', k .. ':l', addr, at) end
return 1
)lua";
    case kAddressCounts:  // P since: event, address, count, first, last for each
      return head + R"lua(
local out = {}
for e = 0, 1 do
  local k = P .. 'ac:' .. e
  local all = redis.call('HGETALL', k)
  for i = 1, #all, 2 do
    local l = tonumber(redis.call('HGET', k .. ':l', all[i]) or '0')
    if l >= tonumber(ARGV[2]) then
      table.insert(out, {tostring(e), all[i], all[i + 1], redis.call('HGET', k .. ':f', all[i]) or '0', tostring(l)})
    end
  end
end
return out
)lua";
    case kIncidentPurge:  // P before
      return head + R"lua(
local before, n = tonumber(ARGV[2]), 0
for _, a in ipairs(redis.call('ZRANGE', P .. 'incidents', 0, -1)) do
  local ik = P .. 'in:' .. a
  local h = redis.call('HMGET', ik, 'ls', 'lst')
  if redis.call('EXISTS', P .. 'fz:' .. a) == 0 and tonumber(h[1] or '0') < before and tonumber(h[2] or '0') < before then
    redis.call('DEL', ik, ik .. ':e', ik .. ':i:0', ik .. ':i:1', ik .. ':i:2', ik .. ':i:3', ik .. ':i:4')
    redis.call('ZREM', P .. 'incidents', a)
    n = n + 1
  end
end
for e = 0, 1 do
  local k = P .. 'ac:' .. e
  local all = redis.call('HGETALL', k .. ':l')
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) < before then
      redis.call('HDEL', k, all[i])
      redis.call('HDEL', k .. ':f', all[i])
      redis.call('HDEL', k .. ':l', all[i])
      n = n + 1
    end
  end
end
return n
)lua";
    case kFreeze:  // P account why at
      return head + R"lua(
local fk = P .. 'fz:' .. ARGV[2]
if redis.call('EXISTS', fk) == 1 then return 0 end
redis.call('HSET', fk, 'w', ARGV[3], 't', ARGV[4])
redis.call('ZADD', P .. 'frozen', ARGV[4], ARGV[2])
local ik = P .. 'in:' .. ARGV[2]
if redis.call('EXISTS', ik) == 1 then redis.call('HSET', ik, 'fa', ARGV[4], 'fw', ARGV[3], 'ua', 0, 'ub', '') end
return 1
)lua";
    case kUnfreeze:  // P account by at
      return head + R"lua(
if redis.call('DEL', P .. 'fz:' .. ARGV[2]) == 0 then return 0 end
redis.call('ZREM', P .. 'frozen', ARGV[2])
local ik = P .. 'in:' .. ARGV[2]
if redis.call('EXISTS', ik) == 1 then redis.call('HSET', ik, 'ua', ARGV[4], 'ub', ARGV[3]) end
return 1
)lua";
    case kListFrozen:  // P limit
      return head + R"lua(
local out = {}
for _, a in ipairs(redis.call('ZRANGE', P .. 'frozen', 0, tonumber(ARGV[2]) - 1)) do
  local h = redis.call('HMGET', P .. 'fz:' .. a, 'w', 't')
  if h[1] then table.insert(out, {a, h[1], h[2]}) else redis.call('ZREM', P .. 'frozen', a) end
end
return out
)lua";
    default: break;
  }
  return {};
}


std::string script_source(Script s) {
  if (s >= kLogRecord) return outbound_script(s);
  const std::string fetch = std::string(R"lua(
local function fetch(P, ids, dangling)
  local out = {}
  for _, id in ipairs(ids) do
    local h = redis.call('HMGET', P .. 'p:' .. id, )lua") + kFields + R"lua()
    if h[1] then
      table.insert(h, 1, id)
      table.insert(out, h)
    elseif dangling then
      redis.call('ZREM', dangling, id)
    end
  end
  return out
end
)lua";
  const std::string head = "local P = ARGV[1]\n";
  switch (s) {
    case kPut:  // P id sender rcpts created expires purge blob msg now max_sender max_total max_bytes
      return head + R"lua(
local id = ARGV[2]
local rk = P .. 'p:' .. id
if redis.call('EXISTS', rk) == 1 then return 4 end
local size = string.len(ARGV[9])
local sk = P .. 's:' .. ARGV[3]
local ms, mt, mb = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
if ms > 0 and redis.call('ZCARD', sk) >= ms then return 1 end
if mt > 0 and redis.call('ZCARD', P .. 'exp') >= mt then return 2 end
if mb > 0 and tonumber(redis.call('GET', P .. 'bytes') or '0') + size > mb then return 3 end
redis.call('HSET', rk, 's', ARGV[3], 'r', ARGV[4], 'c', ARGV[5], 'e', ARGV[6], 'g', ARGV[7], 'b', ARGV[8],
           'st', '0', 'sa', ARGV[5], 'mq', '', 'cb', '', 'cu', '0', 'hb', size)
redis.call('SET', P .. 'm:' .. id, ARGV[9])
local ttl = math.max(tonumber(ARGV[7]) - tonumber(ARGV[10]), 0) + 86400
redis.call('EXPIRE', rk, ttl)
redis.call('EXPIRE', P .. 'm:' .. id, ttl)
redis.call('ZADD', sk, ARGV[6], id)
if redis.call('TTL', sk) >= 0 then redis.call('EXPIRE', sk, ttl, 'GT') else redis.call('EXPIRE', sk, ttl) end
redis.call('ZADD', P .. 'exp', ARGV[6], id)
redis.call('ZADD', P .. 'st:0', ARGV[5], id)
redis.call('ZADD', P .. 'purge', ARGV[7], id)
redis.call('HSET', P .. 'sizes', id, size)
redis.call('INCRBY', P .. 'bytes', size)
return 0
)lua";
    case kFind:  // P sender now
      return head + fetch + R"lua(
local sk = P .. 's:' .. ARGV[2]
return fetch(P, redis.call('ZRANGEBYSCORE', sk, '(' .. ARGV[3], '+inf'), sk)
)lua";
    case kGet:  // P id
      return head + fetch + "return fetch(P, {ARGV[2]}, nil)\n";
    case kClaim:  // P id host now ttl
      return head + R"lua(
local rk = P .. 'p:' .. ARGV[2]
local h = redis.call('HMGET', rk, 'st', 'cb', 'cu')
if not h[1] then return -1 end
if h[1] ~= '0' and h[1] ~= '1' then return 0 end
if h[2] ~= '' and h[2] ~= ARGV[3] and tonumber(h[3]) > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', rk, 'cb', ARGV[3], 'cu', tonumber(ARGV[4]) + tonumber(ARGV[5]))
return 1
)lua";
    case kUnclaim:  // P id host
      return head + R"lua(
local rk = P .. 'p:' .. ARGV[2]
local cb = redis.call('HGET', rk, 'cb')
if not cb then return -1 end
if cb ~= ARGV[3] then return 0 end
redis.call('HSET', rk, 'cb', '', 'cu', '0')
return 1
)lua";
    case kTransition:  // P id from to now match_queue_id purge_at drop
      return head + R"lua(
local id = ARGV[2]
local rk = P .. 'p:' .. id
local h = redis.call('HMGET', rk, 'st', 's', 'c', 'e', 'g')
if not h[1] then return -1 end
if h[1] ~= ARGV[3] then return 0 end
redis.call('HSET', rk, 'st', ARGV[4], 'sa', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', rk, 'mq', ARGV[6]) end
if ARGV[7] ~= '0' then
  redis.call('HSET', rk, 'g', ARGV[7])
  redis.call('ZADD', P .. 'purge', ARGV[7], id)
  local ttl = math.max(tonumber(ARGV[7]) - tonumber(ARGV[5]), 0) + 86400
  redis.call('EXPIRE', rk, ttl)
  redis.call('EXPIRE', P .. 'm:' .. id, ttl)
end
redis.call('ZREM', P .. 'st:' .. ARGV[3], id)
redis.call('ZADD', P .. 'st:' .. ARGV[4], h[3], id)
if ARGV[3] == '0' then
  redis.call('ZREM', P .. 's:' .. h[2], id)
  redis.call('ZREM', P .. 'exp', id)
end
if ARGV[4] == '0' then
  redis.call('ZADD', P .. 's:' .. h[2], h[4], id)
  redis.call('ZADD', P .. 'exp', h[4], id)
end
if ARGV[8] == '1' then
  redis.call('DEL', P .. 'm:' .. id)
  redis.call('HSET', rk, 'hb', '0')
  local sz = redis.call('HGET', P .. 'sizes', id)
  if sz then
    redis.call('DECRBY', P .. 'bytes', sz)
    redis.call('HDEL', P .. 'sizes', id)
  end
end
return 1
)lua";
    case kList:  // P state limit
      return head + fetch + R"lua(
local k = P .. 'st:' .. ARGV[2]
return fetch(P, redis.call('ZRANGE', k, 0, tonumber(ARGV[3]) - 1), k)
)lua";
    case kExpired:  // P now limit
      return head + fetch + R"lua(
local k = P .. 'exp'
return fetch(P, redis.call('ZRANGEBYSCORE', k, '-inf', ARGV[2], 'LIMIT', 0, ARGV[3]), k)
)lua";
    case kCounts:  // P
      return head + R"lua(
local out = {}
for n = 0, 3 do table.insert(out, redis.call('ZCARD', P .. 'st:' .. n)) end
table.insert(out, tonumber(redis.call('GET', P .. 'bytes') or '0'))
return out
)lua";
    case kRemove:  // P id
      return head + kDropFn + "return drop(P, ARGV[2])\n";
    case kPurge:  // P now
      return head + kDropFn + R"lua(
local ids = redis.call('ZRANGEBYSCORE', P .. 'purge', '-inf', ARGV[2])
for _, id in ipairs(ids) do drop(P, id) end
return #ids
)lua";
    case kLock:  // P name owner now ttl
      return head + R"lua(
local k = P .. 'lock:' .. ARGV[2]
local h = redis.call('HMGET', k, 'o', 'e')
if h[1] and h[1] ~= ARGV[3] and tonumber(h[2]) > tonumber(ARGV[4]) then return 0 end
redis.call('HSET', k, 'o', ARGV[3], 'e', tonumber(ARGV[4]) + tonumber(ARGV[5]))
redis.call('EXPIRE', k, ARGV[5])
return 1
)lua";
    case kUnlock:  // P name owner
      return head + R"lua(
local k = P .. 'lock:' .. ARGV[2]
if redis.call('HGET', k, 'o') ~= ARGV[3] then return 0 end
redis.call('DEL', k)
return 1
)lua";
    default: break;  // kScriptCount; the outbound scripts are outbound_script()'s
  }
  return {};
}

constexpr std::size_t kMaxList = 1000000000;  // a "limit" Redis takes as an integer

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::uint32_t ms) {
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

bool parse_int(const redisReply* r, std::int64_t& out) {
  if (!r) return false;
  if (r->type == REDIS_REPLY_INTEGER) {
    out = r->integer;
    return true;
  }
  if (r->type != REDIS_REPLY_STRING) return false;
  auto [end, ec] = std::from_chars(r->str, r->str + r->len, out);
  return ec == std::errc() && end == r->str + r->len;
}

std::string str(const redisReply* r) {
  return r && r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

// hiredis writes with write(2): a server that went away would raise
// SIGPIPE and kill the daemon. The signal is blocked in this thread for the
// round trip and a pending one consumed, so it becomes the EPIPE error it
// also is (the process's own handling of SIGPIPE is left alone).
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    already_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    sigset_t pending;
    if (!already_ && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_, old_;
  bool already_ = false;
};

class RedisStore final : public StateStore, PendingStore, LockStore {
 public:
  explicit RedisStore(StateSettings s) : settings_(std::move(s)) {}
  ~RedisStore() override {
    if (ctx_) redisFree(ctx_);
  }

  // Reads the password file and makes the first connection; only a setting
  // that can never work is an error here.
  Status init() {
    const std::string& a = settings_.redis;
    if (a.starts_with("unix:")) {
      unix_path_ = a.substr(5);
    } else {
      auto colon = a.rfind(':');
      if (colon == std::string::npos) return {Code::invalid, "[state] redis: expected HOST:PORT or unix:/path"};
      host_ = a.substr(0, colon);
      if (host_.size() >= 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
      auto [end, ec] = std::from_chars(a.data() + colon + 1, a.data() + a.size(), port_);
      if (ec != std::errc() || end != a.data() + a.size() || port_ <= 0 || port_ > 65535)
        return {Code::invalid, "[state] redis: bad port in '" + a + "'"};
    }
    if (!settings_.redis_password_file.empty()) {
      std::ifstream f(settings_.redis_password_file, std::ios::binary);
      if (!f) return {Code::invalid, "cannot read [state] redis_password_file " + settings_.redis_password_file};
      std::getline(f, password_);
      if (!password_.empty() && password_.back() == '\r') password_.pop_back();
    }
    std::lock_guard lk(mu_);
    (void)connect();  // a Redis that is down now is retried by each call
    return {};
  }

  std::string_view backend() const override { return "redis"; }
  PendingStore& pending() override { return *this; }
  LockStore& locks() override { return *this; }
  OutboundLog& outbound_log() override { return outbound_; }
  IncidentStore& incidents() override { return incidents_; }
  FreezeStore& freezes() override { return freezes_; }

  Status flush() override { return {}; }  // every write is committed at once

  Status ping() override {
    std::lock_guard lk(mu_);
    Result<Reply> r = command({"PING"});
    return r.status();
  }

  Status put(const PendingRecord& r, std::string_view message, const PutBounds& b) override {
    if (Status s = check_record(r, message, b); !s.ok()) return s;
    std::lock_guard lk(mu_);
    const std::string rc = join_recipients(r.recipients);
    Result<std::int64_t> n = eval_int(kPut, {r.id, r.sender_key, rc, num(r.created_at), num(r.expires_at),
                                             num(r.purge_at), r.blob, message, num(r.created_at),
                                             num(b.max_per_sender), num(b.max_total), num(b.max_bytes_held)});
    if (!n.ok()) return n.status();
    switch (*n) {
      case 0: return {};
      case 1: return {Code::limit, "per-sender bound of " + std::to_string(b.max_per_sender) + " reached"};
      case 2: return {Code::limit, "total bound of " + std::to_string(b.max_total) + " reached"};
      case 3: return {Code::limit, "bytes-held bound of " + std::to_string(b.max_bytes_held) + " reached"};
      case 4: return {Code::exists, "record " + r.id + " exists"};
      default: return {Code::corrupt, "unexpected answer from the put script"};
    }
  }

  Result<std::vector<PendingRecord>> find(std::string_view sender_key, const std::vector<std::string>& recipients,
                                          std::int64_t now) override {
    std::lock_guard lk(mu_);
    Result<std::vector<PendingRecord>> all = eval_records(kFind, {sender_key, num(now)});
    if (!all.ok()) return all;
    std::vector<PendingRecord> out;
    for (PendingRecord& r : *all)
      if (shares_recipient(r.recipients, recipients)) out.push_back(std::move(r));
    std::sort(out.begin(), out.end(), [](const PendingRecord& a, const PendingRecord& b) {
      return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
    });
    return out;
  }

  Result<PendingRecord> get(std::string_view id) override {
    std::lock_guard lk(mu_);
    Result<std::vector<PendingRecord>> r = eval_records(kGet, {id});
    if (!r.ok()) return r.status();
    if (r->empty()) return Status{Code::not_found, "no record " + std::string(id)};
    return std::move(r->front());
  }

  Result<std::string> message(std::string_view id) override {
    std::lock_guard lk(mu_);
    Result<Reply> r = command({"GET", settings_.redis_prefix + "m:" + std::string(id)});
    if (!r.ok()) return r.status();
    if ((*r)->type == REDIS_REPLY_NIL) return Status{Code::not_found, "no held message for " + std::string(id)};
    if ((*r)->type != REDIS_REPLY_STRING) return Status{Code::corrupt, "held message is not a string"};
    return str(r->get());
  }

  Result<bool> claim(std::string_view id, std::string_view host, std::int64_t now, std::int64_t ttl_s) override {
    if (!valid_name(host) || ttl_s <= 0) return Status{Code::invalid, "bad host id or claim ttl"};
    std::lock_guard lk(mu_);
    return flag(id, eval_int(kClaim, {id, host, num(now), num(ttl_s)}));
  }

  Result<bool> unclaim(std::string_view id, std::string_view host) override {
    std::lock_guard lk(mu_);
    return flag(id, eval_int(kUnclaim, {id, host}));
  }

  Result<bool> transition(std::string_view id, const Transition& t) override {
    std::lock_guard lk(mu_);
    return flag(id, eval_int(kTransition, {id, num(static_cast<int>(t.from)), num(static_cast<int>(t.to)), num(t.now),
                                           t.match_queue_id, num(t.purge_at), t.drop_message ? "1" : "0"}));
  }

  Result<std::vector<PendingRecord>> list(PendingState state, std::size_t limit) override {
    if (limit == 0) return std::vector<PendingRecord>{};
    std::lock_guard lk(mu_);
    return eval_records(kList, {num(static_cast<int>(state)), num(std::min<std::size_t>(limit, kMaxList))});
  }

  Result<std::vector<PendingRecord>> expired(std::int64_t now, std::size_t limit) override {
    if (limit == 0) return std::vector<PendingRecord>{};
    std::lock_guard lk(mu_);
    return eval_records(kExpired, {num(now), num(std::min<std::size_t>(limit, kMaxList))});
  }

  Result<std::uint64_t> count_for_sender(std::string_view sender_key) override {
    std::lock_guard lk(mu_);
    Result<Reply> r = command({"ZCARD", settings_.redis_prefix + "s:" + std::string(sender_key)});
    if (!r.ok()) return r.status();
    std::int64_t n = 0;
    if (!parse_int(r->get(), n) || n < 0) return Status{Code::corrupt, "ZCARD answered no count"};
    return static_cast<std::uint64_t>(n);
  }

  Result<PendingCounts> counts() override {
    std::lock_guard lk(mu_);
    Result<Reply> r = eval(kCounts, {});
    if (!r.ok()) return r.status();
    const redisReply* a = r->get();
    std::int64_t v[5];
    if (a->type != REDIS_REPLY_ARRAY || a->elements != 5) return Status{Code::corrupt, "counts: bad answer"};
    for (std::size_t i = 0; i < 5; ++i)
      if (!parse_int(a->element[i], v[i]) || v[i] < 0) return Status{Code::corrupt, "counts: bad answer"};
    PendingCounts c;
    c.awaiting = static_cast<std::uint64_t>(v[0]);
    c.matched = static_cast<std::uint64_t>(v[1]);
    c.released = static_cast<std::uint64_t>(v[2]);
    c.timed_out = static_cast<std::uint64_t>(v[3]);
    c.bytes_held = static_cast<std::uint64_t>(v[4]);
    return c;
  }

  Result<bool> remove(std::string_view id) override {
    std::lock_guard lk(mu_);
    Result<std::int64_t> n = eval_int(kRemove, {id});
    if (!n.ok()) return n.status();
    return *n > 0;
  }

  Result<std::uint64_t> purge(std::int64_t now) override {
    std::lock_guard lk(mu_);
    Result<std::int64_t> n = eval_int(kPurge, {num(now)});
    if (!n.ok()) return n.status();
    return static_cast<std::uint64_t>(*n);
  }

  Result<bool> try_lock(std::string_view name, std::string_view owner, std::int64_t now, std::int64_t ttl_s) override {
    if (!valid_name(name) || !valid_name(owner) || ttl_s <= 0) return Status{Code::invalid, "bad lock name, owner or ttl"};
    std::lock_guard lk(mu_);
    Result<std::int64_t> n = eval_int(kLock, {name, owner, num(now), num(ttl_s)});
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  Result<bool> unlock(std::string_view name, std::string_view owner) override {
    std::lock_guard lk(mu_);
    Result<std::int64_t> n = eval_int(kUnlock, {name, owner});
    if (!n.ok()) return n.status();
    return *n == 1;
  }

  // For `emogate check`: connects now and answers whether it worked.
  Status connect_now() {
    std::lock_guard lk(mu_);
    return ctx_ ? Status{} : connect();
  }

 private:
  template <class T>
  static std::string num(T v) {
    return std::to_string(v);
  }

  std::string where() const { return "redis " + settings_.redis; }

  void disconnect() {
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
  }

  Status connect() {
    disconnect();
    timeval ct = to_timeval(settings_.connect_timeout_ms);
    redisContext* c = unix_path_.empty() ? redisConnectWithTimeout(host_.c_str(), port_, ct)
                                         : redisConnectUnixWithTimeout(unix_path_.c_str(), ct);
    if (!c) return {Code::unavailable, where() + ": cannot allocate a connection"};
    if (c->err) {
      Status s{Code::unavailable, where() + ": " + c->errstr};
      redisFree(c);
      return s;
    }
    if (redisSetTimeout(c, to_timeval(settings_.command_timeout_ms)) != REDIS_OK) {
      redisFree(c);
      return {Code::unavailable, where() + ": cannot set the command timeout"};
    }
    ctx_ = c;
    auto failed = [this](const Status& s) {
      disconnect();  // half set up: the next call starts again
      return s;
    };
    if (!password_.empty()) {
      Result<Reply> r = raw({"AUTH", password_});
      if (!r.ok()) return failed(r.status());
    }
    for (int i = 0; i < kScriptCount; ++i) {
      Result<Reply> r = raw({"SCRIPT", "LOAD", script_source(static_cast<Script>(i))});
      if (!r.ok()) return failed(r.status());
      sha_[i] = str(r->get());
    }
    return {};
  }

  // One round trip on the current connection. A transport failure drops
  // the connection; an error reply leaves it usable.
  Result<Reply> raw(const std::vector<std::string_view>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply r;
    {
      NoSigpipe guard;
      r.reset(static_cast<redisReply*>(
          redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    }
    if (!r) {
      Status s{Code::unavailable, where() + ": " + (ctx_->err ? ctx_->errstr : "no reply")};
      disconnect();
      return s;
    }
    if (r->type == REDIS_REPLY_ERROR) {
      std::string e(r->str, r->len);
      return Status{e.starts_with("NOSCRIPT") ? Code::not_found : Code::unavailable, where() + ": " + e};
    }
    return r;
  }

  Result<Reply> command(const std::vector<std::string_view>& args) {
    if (!ctx_)
      if (Status s = connect(); !s.ok()) return s;
    return raw(args);
  }

  Result<Reply> eval(Script s, const std::vector<std::string_view>& args) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!ctx_)
        if (Status st = connect(); !st.ok()) return st;
      std::vector<std::string_view> argv = {"EVALSHA", sha_[s], "0", settings_.redis_prefix};
      argv.insert(argv.end(), args.begin(), args.end());
      Result<Reply> r = raw(argv);
      // NOSCRIPT: the server lost its script cache (SCRIPT FLUSH, a failover
      // to a replica): load them again and retry once.
      if (r.ok() || r.status().code() != Code::not_found || attempt == 1) return r;
      if (Status st = connect(); !st.ok()) return st;
    }
    return Status{Code::unavailable, where() + ": script not loaded"};
  }

  Result<std::int64_t> eval_int(Script s, const std::vector<std::string_view>& args) {
    Result<Reply> r = eval(s, args);
    if (!r.ok()) return r.status();
    std::int64_t n = 0;
    if (!parse_int(r->get(), n)) return Status{Code::corrupt, where() + ": script answered no number"};
    return n;
  }

  static Result<bool> flag(std::string_view id, Result<std::int64_t> n) {
    if (!n.ok()) return n.status();
    if (*n < 0) return Status{Code::not_found, "no record " + std::string(id)};
    return *n == 1;
  }

  Result<std::vector<PendingRecord>> eval_records(Script s, const std::vector<std::string_view>& args) {
    Result<Reply> r = eval(s, args);
    if (!r.ok()) return r.status();
    const redisReply* a = r->get();
    if (a->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, where() + ": records: not an array"};
    std::vector<PendingRecord> out;
    for (std::size_t i = 0; i < a->elements; ++i) {
      Result<PendingRecord> rec = record(a->element[i]);
      if (!rec.ok()) return rec.status();
      out.push_back(std::move(*rec));
    }
    return out;
  }

  // id, then the fields in kFields order.
  Result<PendingRecord> record(const redisReply* e) const {
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 13) return Status{Code::corrupt, where() + ": bad record"};
    for (std::size_t i = 0; i < 13; ++i)
      if (e->element[i]->type != REDIS_REPLY_STRING)
        return Status{Code::corrupt, where() + ": record " + str(e->element[0]) + " lacks a field"};
    PendingRecord r;
    r.id = str(e->element[0]);
    r.sender_key = str(e->element[1]);
    r.recipients = split_recipients(str(e->element[2]));
    r.blob = str(e->element[6]);
    r.match_queue_id = str(e->element[9]);
    r.claimed_by = str(e->element[10]);
    std::int64_t state = -1, held = -1;
    bool ok = parse_int(e->element[3], r.created_at) && parse_int(e->element[4], r.expires_at) &&
              parse_int(e->element[5], r.purge_at) && parse_int(e->element[7], state) &&
              parse_int(e->element[8], r.state_at) && parse_int(e->element[11], r.claim_until) &&
              parse_int(e->element[12], held);
    if (!ok || state < 0 || state > static_cast<int>(PendingState::timed_out) || held < 0)
      return Status{Code::corrupt, where() + ": record " + r.id + " has a bad field"};
    r.state = static_cast<PendingState>(state);
    r.held_bytes = static_cast<std::uint64_t>(held);
    return r;
  }

  StateSettings settings_;
  std::string host_, unix_path_, password_;
  int port_ = 0;
  std::mutex mu_;
  redisContext* ctx_ = nullptr;
  std::string sha_[kScriptCount];
  // ---- the outbound sections (store.h): nested, since their purge/get/
  // list/find would clash with the pending section's in one class ----

  class Outbound final : public OutboundLog {
   public:
    explicit Outbound(RedisStore& s) : s_(s) {}

    Result<Recorded> record(const OutboundRecord& r, const OutboundSettings& set, Commit) override {
      if (Status st = check_outbound(r); !st.ok()) return st;
      const bool truncated = r.recipients.size() > set.max_log_recipients;
      const std::string kept = logged_recipients(r, set);
      std::lock_guard lk(s_.mu_);
      Result<Reply> rep = s_.eval(
          kLogRecord, {r.message_id, r.account, num(r.sent_at), kept, truncated ? "1" : "0",
                       join_recipients(r.attachment_hashes), r.queue_id,
                       num(std::min<std::uint64_t>(set.max_log_entries, kMaxList)),
                       num(std::uint64_t{set.retention_s} + 86400), join_recipients(r.recipients),
                       num(volume_recipient_cap(set)), num(std::min<std::uint64_t>(volume_hash_rows(set), kMaxList)),
                       num(volume_thread_stop(set))});
      if (!rep.ok()) return rep.status();
      std::int64_t v[4] = {};
      if (!numbers(rep->get(), v, 4)) return Status{Code::corrupt, s_.where() + ": record: bad answer"};
      return Recorded{static_cast<std::uint64_t>(v[0]), volume_of(v + 1)};
    }

    Result<Volume> volume(const OutboundRecord& r, const OutboundSettings& set) override {
      if (Status st = check_account(r.account); !st.ok()) return st;
      std::lock_guard lk(s_.mu_);
      Result<Reply> rep =
          s_.eval(kLogVolume, {r.account, num(r.sent_at), join_recipients(r.recipients),
                               join_recipients(r.attachment_hashes),
                               num(std::min<std::uint64_t>(volume_hash_rows(set), kMaxList)),
                               num(volume_thread_stop(set))});
      if (!rep.ok()) return rep.status();
      std::int64_t v[3] = {};
      if (!numbers(rep->get(), v, 3)) return Status{Code::corrupt, s_.where() + ": volume: bad answer"};
      return volume_of(v);
    }

    // The window's entries carry a TTL of two windows.
    Status prune_volume(std::int64_t) override { return {}; }

    Result<std::vector<OutboundRecord>> find(std::string_view message_id, std::size_t limit) override {
      if (limit == 0) return std::vector<OutboundRecord>{};
      std::lock_guard lk(s_.mu_);
      return records(s_.eval(kLogFind, {message_id, num(std::min(limit, kMaxList))}));
    }

    Result<std::vector<OutboundRecord>> by_account(std::string_view account, std::int64_t since,
                                                   std::size_t limit) override {
      if (limit == 0) return std::vector<OutboundRecord>{};
      std::lock_guard lk(s_.mu_);
      return records(s_.eval(kLogByAccount, {account, num(since), num(std::min(limit, kMaxList))}));
    }

    Result<std::uint64_t> purge(std::int64_t before) override {
      std::lock_guard lk(s_.mu_);
      Result<std::int64_t> n = s_.eval_int(kLogPurge, {num(before)});
      if (!n.ok()) return n.status();
      return static_cast<std::uint64_t>(*n);
    }

   private:
    // An array of `n` non-negative integers.
    static bool numbers(const redisReply* a, std::int64_t* v, std::size_t n) {
      if (a->type != REDIS_REPLY_ARRAY || a->elements != n) return false;
      for (std::size_t i = 0; i < n; ++i)
        if (!parse_int(a->element[i], v[i]) || v[i] < 0) return false;
      return true;
    }
    static Volume volume_of(const std::int64_t* v) {
      return Volume{static_cast<std::uint64_t>(v[0]), v[1] != 0, static_cast<std::uint64_t>(v[2])};
    }

    Result<std::vector<OutboundRecord>> records(Result<Reply> r) const {
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      if (a->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, s_.where() + ": log records: not an array"};
      std::vector<OutboundRecord> out;
      for (std::size_t i = 0; i < a->elements; ++i) {
        const redisReply* e = a->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 7)
          return Status{Code::corrupt, s_.where() + ": bad outbound log record"};
        OutboundRecord o;
        o.message_id = str(e->element[0]);
        o.account = str(e->element[1]);
        if (!parse_int(e->element[2], o.sent_at)) return Status{Code::corrupt, s_.where() + ": bad outbound log time"};
        o.recipients = split_recipients(str(e->element[3]));
        o.recipients_truncated = str(e->element[4]) == "1";
        o.attachment_hashes = split_recipients(str(e->element[5]));
        o.queue_id = str(e->element[6]);
        out.push_back(std::move(o));
      }
      return out;
    }

    RedisStore& s_;
  };

  class Incidents final : public IncidentStore {
   public:
    explicit Incidents(RedisStore& s) : s_(s) {}

    Result<FlagCounts> flag(const FlaggedMessage& m, const OutboundSettings& set, Commit) override {
      if (Status st = check_flagged(m); !st.ok()) return st;
      std::vector<std::string> domains;
      for (const std::string& r : m.recipients)
        if (std::string d = outbound::domain_of(r); !d.empty()) domains.push_back(std::move(d));
      std::lock_guard lk(s_.mu_);
      Result<Reply> r = s_.eval(
          kIncidentFlag, {m.account, num(m.at), m.malicious ? "1" : "0", m.queue_id, join_recipients(m.recipients),
                          join_recipients(domains), join_recipients(m.findings), join_recipients(m.attachment_hashes),
                          num(set.max_incidents), num(set.max_incident_recipients), num(set.max_incident_list),
                          num(set.freeze_window_s)});
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      std::int64_t mal = 0, sus = 0;
      if (a->type != REDIS_REPLY_ARRAY || a->elements != 2 || !parse_int(a->element[0], mal) ||
          !parse_int(a->element[1], sus))
        return Status{Code::corrupt, s_.where() + ": flag: bad answer"};
      if (mal < 0) return Status{Code::limit, "max_incidents of " + std::to_string(set.max_incidents) + " reached"};
      return FlagCounts{static_cast<std::uint64_t>(mal), static_cast<std::uint64_t>(sus)};
    }

    Result<Incident> get(std::string_view account) override {
      std::lock_guard lk(s_.mu_);
      Result<std::vector<Incident>> r = incidents(s_.eval(kIncidentGet, {account}));
      if (!r.ok()) return r.status();
      if (r->empty()) return Status{Code::not_found, "no incident for " + std::string(account)};
      return std::move(r->front());
    }

    Result<std::vector<Incident>> list(std::int64_t since, std::size_t limit) override {
      if (limit == 0) return std::vector<Incident>{};
      std::lock_guard lk(s_.mu_);
      return incidents(s_.eval(kIncidentList, {num(since), num(std::min(limit, kMaxList))}));
    }

    Status count(AddressEvent e, std::string_view address, std::int64_t at, const OutboundSettings& set) override {
      if (address.empty() || address.find('\n') != std::string_view::npos)
        return {Code::invalid, "empty address or a newline in it"};
      std::lock_guard lk(s_.mu_);
      return s_.eval_int(kAddressCount, {num(static_cast<int>(e)), address, "@" + outbound::domain_of(address),
                                         num(at), num(set.max_counter_addresses)})
          .status();
    }

    Result<std::vector<AddressCount>> counts(std::int64_t since, std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Result<Reply> r = s_.eval(kAddressCounts, {num(since)});
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      if (a->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, s_.where() + ": counts: not an array"};
      std::vector<AddressCount> out;
      for (std::size_t i = 0; i < a->elements; ++i) {
        const redisReply* e = a->element[i];
        std::int64_t ev = -1, n = -1;
        AddressCount c;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 5 || !parse_int(e->element[0], ev) || ev < 0 || ev > 1 ||
            !parse_int(e->element[2], n) || n < 0 || !parse_int(e->element[3], c.first_at) ||
            !parse_int(e->element[4], c.last_at))
          return Status{Code::corrupt, s_.where() + ": bad address count"};
        c.event = static_cast<AddressEvent>(ev);
        c.address = str(e->element[1]);
        c.count = static_cast<std::uint64_t>(n);
        out.push_back(std::move(c));
      }
      std::sort(out.begin(), out.end(), [](const AddressCount& x, const AddressCount& y) {
        return std::tuple(y.count, x.event, x.address) < std::tuple(x.count, y.event, y.address);
      });
      if (out.size() > limit) out.resize(limit);
      return out;
    }

    Result<std::uint64_t> purge(std::int64_t before) override {
      std::lock_guard lk(s_.mu_);
      Result<std::int64_t> n = s_.eval_int(kIncidentPurge, {num(before)});
      if (!n.ok()) return n.status();
      return static_cast<std::uint64_t>(*n);
    }

   private:
    // account, then fs ls n mal cap lst ss fa fw ua ub, SCARD recipients,
    // SCARD domains, findings, hashes, queue ids.
    Result<std::vector<Incident>> incidents(Result<Reply> r) const {
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      if (a->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, s_.where() + ": incidents: not an array"};
      std::vector<Incident> out;
      for (std::size_t i = 0; i < a->elements; ++i) {
        const redisReply* e = a->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 17) return Status{Code::corrupt, s_.where() + ": bad incident"};
        Incident in;
        in.account = str(e->element[0]);
        std::int64_t v[7] = {};
        bool ok = parse_int(e->element[1], in.first_seen) && parse_int(e->element[2], in.last_seen) &&
                  parse_int(e->element[3], v[0]) && parse_int(e->element[4], v[1]) && parse_int(e->element[5], v[2]) &&
                  parse_int(e->element[6], in.last_sent) && parse_int(e->element[7], v[3]) &&
                  parse_int(e->element[8], in.frozen_at) && parse_int(e->element[10], in.unfrozen_at) &&
                  parse_int(e->element[12], v[4]) && parse_int(e->element[13], v[5]);
        if (!ok || v[0] < 0 || v[1] < 0 || v[3] < 0 || v[4] < 0 || v[5] < 0)
          return Status{Code::corrupt, s_.where() + ": incident " + in.account + " has a bad field"};
        in.messages = static_cast<std::uint64_t>(v[0]);
        in.malicious = static_cast<std::uint64_t>(v[1]);
        in.recipients_capped = v[2] != 0;
        in.sent_since = static_cast<std::uint64_t>(v[3]);
        in.frozen_why = str(e->element[9]);
        in.unfrozen_by = str(e->element[11]);
        in.recipients = static_cast<std::uint64_t>(v[4]);
        in.domains = static_cast<std::uint64_t>(v[5]);
        for (auto [idx, list] : {std::pair{14, &in.findings}, std::pair{15, &in.attachment_hashes},
                                 std::pair{16, &in.queue_ids}}) {
          const redisReply* l = e->element[idx];
          if (l->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, s_.where() + ": bad incident list"};
          for (std::size_t j = 0; j < l->elements; ++j) list->push_back(str(l->element[j]));
          std::sort(list->begin(), list->end());
        }
        out.push_back(std::move(in));
      }
      return out;
    }

    RedisStore& s_;
  };

  class Freezes final : public FreezeStore {
   public:
    explicit Freezes(RedisStore& s) : s_(s) {}

    Result<bool> freeze(std::string_view account, std::string_view why, std::int64_t at) override {
      if (Status st = check_account(account); !st.ok()) return st;
      std::lock_guard lk(s_.mu_);
      Result<std::int64_t> n = s_.eval_int(kFreeze, {account, why, num(at)});
      if (!n.ok()) return n.status();
      return *n == 1;
    }

    Result<std::optional<FreezeRecord>> is_frozen(std::string_view account) override {
      std::lock_guard lk(s_.mu_);
      Result<Reply> r = s_.command({"HMGET", s_.settings_.redis_prefix + "fz:" + std::string(account), "w", "t"});
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      if (a->type != REDIS_REPLY_ARRAY || a->elements != 2) return Status{Code::corrupt, s_.where() + ": is_frozen: bad answer"};
      if (a->element[0]->type == REDIS_REPLY_NIL) return std::optional<FreezeRecord>();
      FreezeRecord f{std::string(account), str(a->element[0]), 0};
      if (!parse_int(a->element[1], f.at)) return Status{Code::corrupt, s_.where() + ": freeze of " + f.account + " has no time"};
      return std::optional<FreezeRecord>(std::move(f));
    }

    Result<bool> unfreeze(std::string_view account, std::string_view by, std::int64_t at) override {
      std::lock_guard lk(s_.mu_);
      Result<std::int64_t> n = s_.eval_int(kUnfreeze, {account, by, num(at)});
      if (!n.ok()) return n.status();
      return *n == 1;
    }

    Result<std::vector<FreezeRecord>> list_frozen(std::size_t limit) override {
      if (limit == 0) return std::vector<FreezeRecord>{};
      std::lock_guard lk(s_.mu_);
      Result<Reply> r = s_.eval(kListFrozen, {num(std::min(limit, kMaxList))});
      if (!r.ok()) return r.status();
      const redisReply* a = r->get();
      if (a->type != REDIS_REPLY_ARRAY) return Status{Code::corrupt, s_.where() + ": frozen: not an array"};
      std::vector<FreezeRecord> out;
      for (std::size_t i = 0; i < a->elements; ++i) {
        const redisReply* e = a->element[i];
        FreezeRecord f;
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 || !parse_int(e->element[2], f.at))
          return Status{Code::corrupt, s_.where() + ": bad freeze record"};
        f.account = str(e->element[0]);
        f.why = str(e->element[1]);
        out.push_back(std::move(f));
      }
      return out;
    }

   private:
    RedisStore& s_;
  };

  Outbound outbound_{*this};
  Incidents incidents_{*this};
  Freezes freezes_{*this};
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_redis_store(const StateSettings& settings) {
  auto store = std::make_unique<RedisStore>(settings);
  if (Status s = store->init(); !s.ok()) return s;
  return std::unique_ptr<StateStore>(std::move(store));
}

std::vector<std::string> check_redis_store(const StateSettings& settings) {
  RedisStore store(settings);
  if (Status s = store.init(); !s.ok()) return {s.message()};
  if (Status s = store.connect_now(); !s.ok()) return {s.message()};
  return {};
}

}  // namespace emogate::state

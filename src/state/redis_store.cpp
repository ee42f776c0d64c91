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
              kUnlock, kScriptCount };

std::string script_source(Script s) {
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
    case kScriptCount: break;
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

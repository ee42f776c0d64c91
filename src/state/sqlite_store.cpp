// The SQLite backend of the state store. One connection per StateStore,
// used under a mutex (statements are prepared once and shared), WAL mode so
// readers never wait for the writer and a killed process loses no committed
// write, synchronous=FULL because a held message exists nowhere else once
// the MTA has been told it was accepted (the outbound bookkeeping, log
// records and incident counts, commits at NORMAL, in batches while other
// messages are in progress: see Relaxed and Batched). Each section keeps its tables and
// its schema version in `sections`, so a section added later creates its
// own tables without touching these.
// Trusted input: the settings; every record value is a bound parameter.
#include "state/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include "outbound/direction.h"

namespace emogate::state {

namespace {

namespace fs = std::filesystem;

constexpr int kPendingVersion = 1;
constexpr int kLocksVersion = 1;
constexpr int kOutboundVersion = 1;

const char* const kSchema = R"sql(
CREATE TABLE IF NOT EXISTS sections(name TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pending(
  id TEXT PRIMARY KEY,
  sender_key BLOB NOT NULL,
  recipients BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  purge_at INTEGER NOT NULL,
  blob BLOB NOT NULL,
  state INTEGER NOT NULL,
  state_at INTEGER NOT NULL,
  match_queue_id TEXT NOT NULL DEFAULT '',
  claimed_by TEXT NOT NULL DEFAULT '',
  claim_until INTEGER NOT NULL DEFAULT 0,
  held_bytes INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS pending_by_sender ON pending(sender_key, state, expires_at);
CREATE INDEX IF NOT EXISTS pending_by_state ON pending(state, expires_at);
CREATE INDEX IF NOT EXISTS pending_by_purge ON pending(purge_at);
CREATE TABLE IF NOT EXISTS pending_message(
  id TEXT PRIMARY KEY REFERENCES pending(id) ON DELETE CASCADE,
  bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS locks(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL);
)sql";

// The outbound section: the outbound log (seq only grows, so the newest
// max_log_entries are the highest seqs; a plain rowid: rows go from the
// old end only, and AUTOINCREMENT would write sqlite_sequence on every
// insert), the volume window per account (kind 0: a recipient, its last
// time; kind 1: a message with an attachment, key HASH\nSEQ, its logged
// recipients; added to a version-1 file without a version change, since an
// older emogate ignores it; by_account reads the time index, as its caller
// asks for the last hour, so an index by account is not kept up on every
// message), incidents with their bounded
// item sets (kind 0 recipient, 1 domain, 2 finding, 3 hash, 4 queue id)
// and flagged events in the freeze window, freezes, and per-address
// backscatter / spoofed_sender counts (event 0 / 1).
const char* const kOutboundSchema = R"sql(
CREATE TABLE IF NOT EXISTS outbound_log(
  seq INTEGER PRIMARY KEY,
  message_id BLOB NOT NULL,
  account BLOB NOT NULL,
  sent_at INTEGER NOT NULL,
  recipients BLOB NOT NULL,
  truncated INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  queue_id BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS outbound_log_by_id ON outbound_log(message_id);
DROP INDEX IF EXISTS outbound_log_by_account;
CREATE INDEX IF NOT EXISTS outbound_log_by_time ON outbound_log(sent_at);
CREATE TABLE IF NOT EXISTS outbound_window(
  account BLOB NOT NULL, kind INTEGER NOT NULL, key BLOB NOT NULL, at INTEGER NOT NULL, recipients BLOB NOT NULL,
  PRIMARY KEY(account, kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incidents(
  account BLOB PRIMARY KEY,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  messages INTEGER NOT NULL DEFAULT 0,
  malicious INTEGER NOT NULL DEFAULT 0,
  capped INTEGER NOT NULL DEFAULT 0,
  last_sent INTEGER NOT NULL DEFAULT 0,
  sent_since INTEGER NOT NULL DEFAULT 0,
  frozen_at INTEGER NOT NULL DEFAULT 0,
  frozen_why BLOB NOT NULL DEFAULT '',
  unfrozen_at INTEGER NOT NULL DEFAULT 0,
  unfrozen_by BLOB NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS incidents_by_first ON incidents(first_seen);
CREATE TABLE IF NOT EXISTS incident_items(
  account BLOB NOT NULL, kind INTEGER NOT NULL, value BLOB NOT NULL,
  PRIMARY KEY(account, kind, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS incident_events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT, account BLOB NOT NULL, at INTEGER NOT NULL, malicious INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS incident_events_by_account ON incident_events(account, at);
CREATE TABLE IF NOT EXISTS frozen(account BLOB PRIMARY KEY, why BLOB NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS address_counts(
  event INTEGER NOT NULL, address BLOB NOT NULL, count INTEGER NOT NULL,
  first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
  PRIMARY KEY(event, address)) WITHOUT ROWID;
)sql";

constexpr const char* kColumns =
    "id, sender_key, recipients, created_at, expires_at, purge_at, blob, state, state_at, match_queue_id, "
    "claimed_by, claim_until, held_bytes";

Code code_of(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return Code::exists;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: return Code::corrupt;
    case SQLITE_TOOBIG: return Code::limit;
    default: return Code::unavailable;  // busy, locked, I/O, full, cannot open, ...
  }
}

// The parent directories of `path` that are missing, made 0700.
Status make_parents(const fs::path& path) {
  fs::path dir = path.parent_path();
  if (dir.empty()) return {};
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path d = dir; !d.empty() && !fs::exists(d, ec); d = d.parent_path()) {
    missing.push_back(d);
    if (d == d.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it)
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
      return {Code::unavailable, "cannot create " + it->string() + ": " + std::strerror(errno)};
  return {};
}

// Creates the database file 0600 (or makes an existing one 0600), refusing
// a symbolic link or anything but a regular file. An existing file is never
// opened and closed here: closing any descriptor of it drops every POSIX
// lock this process holds on it, among them the shared lock of a store
// already open in this process (the milter opens one per gate), and
// another process closing its connection could then checkpoint and delete
// the WAL under that store, losing its later writes.
Status prepare_file(const std::string& path) {
  if (Status s = make_parents(path); !s.ok()) return s;
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) return {Code::unavailable, "cannot stat " + path + ": " + std::strerror(errno)};
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::close(fd);  // new: nobody holds a lock on it yet
      return {};
    }
    if (errno != EEXIST) return {Code::unavailable, "cannot create " + path + ": " + std::strerror(errno)};
    if (::lstat(path.c_str(), &st) != 0)
      return {Code::unavailable, "cannot stat " + path + ": " + std::strerror(errno)};
  }
  if (!S_ISREG(st.st_mode)) return {Code::invalid, path + " is not a regular file"};
  // AT_SYMLINK_NOFOLLOW: a link swapped in meanwhile is refused, not followed.
  if ((st.st_mode & 0777) != 0600 && ::fchmodat(AT_FDCWD, path.c_str(), 0600, AT_SYMLINK_NOFOLLOW) != 0)
    return {Code::unavailable, "cannot make " + path + " 0600: " + std::strerror(errno)};
  return {};
}

class SqliteStore final : public StateStore, PendingStore, LockStore {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}
  ~SqliteStore() override {
    {
      // XXX a batch whose commit fails here is lost without a word: no
      // caller is left to tell.
      std::lock_guard lk(mu_);
      stopping_ = true;
      (void)commit_batch();
    }
    cv_.notify_all();
    if (flusher_.joinable()) flusher_.join();
    for (auto& [sql, st] : stmts_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  Status open(const StateSettings& s) {
    commit_ms_ = s.outbound_commit_ms;
    if (Status st = prepare_file(path_); !st.ok()) return st;
    int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return fail(rc, "open");
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(s.busy_timeout_ms));
    // journal_mode answers with the mode in force: anything but "wal" means
    // the file cannot be shared safely (a network file system, say).
    Result<std::string> mode = text_of("PRAGMA journal_mode=WAL");
    if (!mode.ok()) return mode.status();
    if (*mode != "wal") return {Code::unavailable, path_ + ": WAL mode refused (journal_mode is " + *mode + ")"};
    for (const char* sql : {"PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
      if (Status st = exec(sql); !st.ok()) return st;
    return create_sections();
  }

  std::string_view backend() const override { return "sqlite"; }
  PendingStore& pending() override { return *this; }
  LockStore& locks() override { return *this; }
  OutboundLog& outbound_log() override { return outbound_; }
  IncidentStore& incidents() override { return incidents_; }
  FreezeStore& freezes() override { return freezes_; }

  Status flush() override {
    std::lock_guard lk(mu_);
    return commit_batch();
  }

  Status ping() override {
    std::lock_guard lk(mu_);
    Stmt q(this, "SELECT count(*) FROM sections");
    if (!q.ok()) return q.status;
    return q.step() == SQLITE_ROW ? Status{} : q.error("ping");
  }

  // ---- pending ----

  Status put(const PendingRecord& r, std::string_view message, const PutBounds& b) override {
    if (Status s = check_record(r, message, b); !s.ok()) return s;
    Durable lk(*this);
    Tx tx(this);
    if (!tx.status.ok()) return tx.status;
    auto over = [&](const char* sql, std::string_view key, std::uint64_t add, std::uint64_t bound,
                    const char* what) -> Status {
      if (bound == 0) return {};
      Stmt q(this, sql);
      if (!q.ok()) return q.status;
      if (!key.empty()) q.bind_blob(1, key);
      if (q.step() != SQLITE_ROW) return q.error("count");
      std::uint64_t have = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 0));
      if (have + add > bound)
        return {Code::limit, std::string(what) + " bound of " + std::to_string(bound) + " reached (" +
                                 std::to_string(have) + " held)"};
      return {};
    };
    if (Status s = over("SELECT count(*) FROM pending WHERE sender_key=?1 AND state=0", r.sender_key, 1,
                        b.max_per_sender, "per-sender");
        !s.ok())
      return s;
    if (Status s = over("SELECT count(*) FROM pending WHERE state=0", {}, 1, b.max_total, "total"); !s.ok())
      return s;
    if (Status s = over("SELECT coalesce(sum(held_bytes),0) FROM pending", {}, message.size(), b.max_bytes_held,
                        "bytes-held");
        !s.ok())
      return s;
    {
      Stmt q(this, "INSERT INTO pending(id, sender_key, recipients, created_at, expires_at, purge_at, blob, state, "
                   "state_at, held_bytes) VALUES(?1,?2,?3,?4,?5,?6,?7,0,?4,?8)");
      if (!q.ok()) return q.status;
      q.bind_text(1, r.id);
      q.bind_blob(2, r.sender_key);
      q.bind_blob(3, join_recipients(r.recipients));
      q.bind_int(4, r.created_at);
      q.bind_int(5, r.expires_at);
      q.bind_int(6, r.purge_at);
      q.bind_blob(7, r.blob);
      q.bind_int(8, static_cast<std::int64_t>(message.size()));
      if (q.step() != SQLITE_DONE) return q.error("insert " + r.id);
    }
    {
      Stmt q(this, "INSERT INTO pending_message(id, bytes) VALUES(?1,?2)");
      if (!q.ok()) return q.status;
      q.bind_text(1, r.id);
      q.bind_blob(2, message);
      if (q.step() != SQLITE_DONE) return q.error("insert message " + r.id);
    }
    return tx.commit();
  }

  Result<std::vector<PendingRecord>> find(std::string_view sender_key, const std::vector<std::string>& recipients,
                                          std::int64_t now) override {
    std::lock_guard lk(mu_);
    Stmt q(this, select("WHERE sender_key=?1 AND state=0 AND expires_at>?2 ORDER BY created_at, id"));
    if (!q.ok()) return q.status;
    q.bind_blob(1, sender_key);
    q.bind_int(2, now);
    Result<std::vector<PendingRecord>> all = rows(q, 0);
    if (!all.ok()) return all;
    std::vector<PendingRecord> out;
    for (PendingRecord& r : *all)
      if (shares_recipient(r.recipients, recipients)) out.push_back(std::move(r));
    return out;
  }

  Result<PendingRecord> get(std::string_view id) override {
    std::lock_guard lk(mu_);
    Stmt q(this, select("WHERE id=?1"));
    if (!q.ok()) return q.status;
    q.bind_text(1, id);
    Result<std::vector<PendingRecord>> r = rows(q, 1);
    if (!r.ok()) return r.status();
    if (r->empty()) return Status{Code::not_found, "no record " + std::string(id)};
    return std::move(r->front());
  }

  Result<std::string> message(std::string_view id) override {
    std::lock_guard lk(mu_);
    Stmt q(this, "SELECT bytes FROM pending_message WHERE id=?1");
    if (!q.ok()) return q.status;
    q.bind_text(1, id);
    int rc = q.step();
    if (rc == SQLITE_DONE) return Status{Code::not_found, "no held message for " + std::string(id)};
    if (rc != SQLITE_ROW) return q.error("read message");
    return column_bytes(q.st, 0);
  }

  Result<bool> claim(std::string_view id, std::string_view host, std::int64_t now, std::int64_t ttl_s) override {
    if (!valid_name(host) || ttl_s <= 0) return Status{Code::invalid, "bad host id or claim ttl"};
    Durable lk(*this);
    if (Status s = take("UPDATE pending SET claimed_by=?2, claim_until=?3 WHERE id=?1 AND state IN (0,1) AND "
                        "(claimed_by='' OR claimed_by=?2 OR claim_until<=?4)",
                        id, host, now, ttl_s);
        !s.ok())
      return s;
    return changed_or_missing(id);
  }

  Result<bool> unclaim(std::string_view id, std::string_view host) override {
    Durable lk(*this);
    Stmt q(this, "UPDATE pending SET claimed_by='', claim_until=0 WHERE id=?1 AND claimed_by=?2");
    if (!q.ok()) return q.status;
    q.bind_text(1, id);
    q.bind_text(2, host);
    if (q.step() != SQLITE_DONE) return q.error("unclaim");
    return changed_or_missing(id);
  }

  Result<bool> transition(std::string_view id, const Transition& t) override {
    Durable lk(*this);
    Tx tx(this);
    if (!tx.status.ok()) return tx.status;
    {
      Stmt q(this, "UPDATE pending SET state=?3, state_at=?4, "
                   "match_queue_id=CASE WHEN ?5='' THEN match_queue_id ELSE ?5 END, "
                   "purge_at=CASE WHEN ?6=0 THEN purge_at ELSE ?6 END, "
                   "held_bytes=CASE WHEN ?7 THEN 0 ELSE held_bytes END WHERE id=?1 AND state=?2");
      if (!q.ok()) return q.status;
      q.bind_text(1, id);
      q.bind_int(2, static_cast<int>(t.from));
      q.bind_int(3, static_cast<int>(t.to));
      q.bind_int(4, t.now);
      q.bind_text(5, t.match_queue_id);
      q.bind_int(6, t.purge_at);
      q.bind_int(7, t.drop_message ? 1 : 0);
      if (q.step() != SQLITE_DONE) return q.error("transition");
    }
    Result<bool> changed = changed_or_missing(id);
    if (!changed.ok() || !*changed) return changed;
    if (t.drop_message) {
      Stmt q(this, "DELETE FROM pending_message WHERE id=?1");
      if (!q.ok()) return q.status;
      q.bind_text(1, id);
      if (q.step() != SQLITE_DONE) return q.error("drop message");
    }
    if (Status s = tx.commit(); !s.ok()) return s;
    return true;
  }

  Result<std::vector<PendingRecord>> list(PendingState state, std::size_t limit) override {
    std::lock_guard lk(mu_);
    Stmt q(this, select("WHERE state=?1 ORDER BY created_at, id LIMIT ?2"));
    if (!q.ok()) return q.status;
    q.bind_int(1, static_cast<int>(state));
    q.bind_int(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    return rows(q, 0);
  }

  Result<std::vector<PendingRecord>> expired(std::int64_t now, std::size_t limit) override {
    std::lock_guard lk(mu_);
    Stmt q(this, select("WHERE state=0 AND expires_at<=?1 ORDER BY expires_at, id LIMIT ?2"));
    if (!q.ok()) return q.status;
    q.bind_int(1, now);
    q.bind_int(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
    return rows(q, 0);
  }

  Result<std::uint64_t> count_for_sender(std::string_view sender_key) override {
    std::lock_guard lk(mu_);
    Stmt q(this, "SELECT count(*) FROM pending WHERE sender_key=?1 AND state=0");
    if (!q.ok()) return q.status;
    q.bind_blob(1, sender_key);
    if (q.step() != SQLITE_ROW) return q.error("count");
    return static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 0));
  }

  Result<PendingCounts> counts() override {
    std::lock_guard lk(mu_);
    Stmt q(this, "SELECT state, count(*), coalesce(sum(held_bytes),0) FROM pending GROUP BY state");
    if (!q.ok()) return q.status;
    PendingCounts c;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      std::uint64_t n = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 1));
      switch (sqlite3_column_int(q.st, 0)) {
        case 0: c.awaiting = n; break;
        case 1: c.matched = n; break;
        case 2: c.released = n; break;
        case 3: c.timed_out = n; break;
        default: return Status{Code::corrupt, "a record has an unknown state"};
      }
      c.bytes_held += static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 2));
    }
    if (rc != SQLITE_DONE) return q.error("counts");
    return c;
  }

  Result<bool> remove(std::string_view id) override {
    Durable lk(*this);
    Stmt q(this, "DELETE FROM pending WHERE id=?1");
    if (!q.ok()) return q.status;
    q.bind_text(1, id);
    if (q.step() != SQLITE_DONE) return q.error("remove");
    return sqlite3_changes(db_) > 0;
  }

  Result<std::uint64_t> purge(std::int64_t now) override {
    Durable lk(*this);
    Stmt q(this, "DELETE FROM pending WHERE purge_at<=?1");
    if (!q.ok()) return q.status;
    q.bind_int(1, now);
    if (q.step() != SQLITE_DONE) return q.error("purge");
    return static_cast<std::uint64_t>(sqlite3_changes(db_));
  }

  // ---- locks ----

  Result<bool> try_lock(std::string_view name, std::string_view owner, std::int64_t now, std::int64_t ttl_s) override {
    if (!valid_name(name) || !valid_name(owner) || ttl_s <= 0) return Status{Code::invalid, "bad lock name, owner or ttl"};
    Durable lk(*this);
    if (Status s = take("INSERT INTO locks(name, owner, expires_at) VALUES(?1,?2,?3) ON CONFLICT(name) DO UPDATE "
                        "SET owner=excluded.owner, expires_at=excluded.expires_at "
                        "WHERE owner=excluded.owner OR expires_at<=?4",
                        name, owner, now, ttl_s);
        !s.ok())
      return s;
    return sqlite3_changes(db_) > 0;
  }

  Result<bool> unlock(std::string_view name, std::string_view owner) override {
    Durable lk(*this);
    Stmt q(this, "DELETE FROM locks WHERE name=?1 AND owner=?2");
    if (!q.ok()) return q.status;
    q.bind_text(1, name);
    q.bind_text(2, owner);
    if (q.step() != SQLITE_DONE) return q.error("unlock");
    return sqlite3_changes(db_) > 0;
  }

 private:
  // A cached prepared statement, reset and unbound when it goes out of scope.
  struct Stmt {
    // `sql` is looked up as it is (no copy): most are literals.
    Stmt(SqliteStore* s, std::string_view sql) : store(s) {
      auto it = s->stmts_.find(sql);
      if (it == s->stmts_.end()) {
        int rc = sqlite3_prepare_v3(s->db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                    nullptr);
        if (rc != SQLITE_OK) {
          status = s->fail(rc, "prepare");
          st = nullptr;
          return;
        }
        s->stmts_.emplace(sql, st);
      } else {
        st = it->second;
      }
    }
    ~Stmt() {
      if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
      }
    }
    bool ok() const { return st != nullptr; }
    void bind_text(int i, std::string_view v) {
      sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_blob(int i, std::string_view v) {
      // A zero-length blob, not NULL, for "".
      sqlite3_bind_blob64(st, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT);
    }
    void bind_int(int i, std::int64_t v) { sqlite3_bind_int64(st, i, v); }
    int step() { return last = sqlite3_step(st); }
    Status error(const std::string& what) { return store->fail(last, what); }

    SqliteStore* store;
    sqlite3_stmt* st = nullptr;
    Status status;
    int last = SQLITE_OK;
  };

  // The lock for every write but the outbound log's: synchronous=FULL
  // again when record() left the connection at NORMAL (the first write of
  // another kind after log records pays the switch; reads do not switch).
  struct Durable {
    explicit Durable(SqliteStore& s) : lk(s.mu_) {
      // The open batch first: this write's own transaction must not carry
      // it, nor commit at NORMAL. A failed commit is the next bookkeeping
      // write's error.
      if (Status st = s.commit_batch(); !st.ok()) s.deferred_ = std::move(st);
      if (s.relaxed_ && s.exec("PRAGMA synchronous=FULL").ok()) s.relaxed_ = false;
    }
    std::lock_guard<std::mutex> lk;
  };

  // The lock for the outbound bookkeeping (log records, incident counts):
  // their commits do not wait for the disk (WAL with synchronous=NORMAL; a
  // power cut may lose the last of them, never corrupt the file, and a
  // killed process loses nothing committed). The connection stays so until
  // the next write of another kind (Durable); when the switch fails it
  // stays at FULL, which is only slower.
  struct Relaxed {
    explicit Relaxed(SqliteStore& s) : lk(s.mu_) {
      if (!s.relaxed_ && s.exec("PRAGMA synchronous=NORMAL").ok()) s.relaxed_ = true;
    }
    std::lock_guard<std::mutex> lk;
  };

  // One bookkeeping write (under Relaxed) in the batch: the write
  // transaction that stays open across messages while they come, so that
  // they share its commit (the WAL frames of the pages they all touch, the
  // locks) instead of paying one each. The write is a savepoint of its
  // own, rolled back alone when it fails or is abandoned; done() commits
  // the batch at once for Commit::now, without outbound_commit_ms (0), or
  // when the batch is that old. Otherwise the flusher thread commits it
  // when it is due; a write of another kind (Durable) and the store's end
  // commit it before theirs. Reads on this connection see the batch; other
  // processes see it once committed (their writes wait busy_timeout_ms,
  // which is far longer than outbound_commit_ms).
  struct Batched {
    Batched(SqliteStore* s, Commit c) : store(s), commit(c) { status = s->join_batch(&savepoint); }
    ~Batched() {
      if (status.ok() && !done_) (void)store->leave_batch(false, savepoint, Commit::now);
    }
    Status done() {
      done_ = true;
      return store->leave_batch(true, savepoint, commit);
    }
    SqliteStore* store;
    Commit commit;
    Status status;
    bool savepoint = false;  // the batch holds earlier writes: this one is a savepoint
    bool done_ = false;
  };

  Status join_batch(bool* savepoint) {
    if (!deferred_.ok()) return std::exchange(deferred_, Status{});
    if (!batch_open_) {
      if (Status st = run("BEGIN IMMEDIATE"); !st.ok()) return st;
      batch_open_ = true;
      batch_writes_ = 0;
      batch_due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(commit_ms_);
    }
    // The first write of a batch needs none: ROLLBACK undoes it alone.
    *savepoint = batch_writes_ > 0;
    if (*savepoint) {
      if (Status st = run("SAVEPOINT w"); !st.ok()) {
        forget_batch_if_gone();
        return st;
      }
    }
    return {};
  }

  Status leave_batch(bool keep, bool savepoint, Commit c) {
    Status st = keep && savepoint ? run("RELEASE w") : Status{};
    if (!keep || !st.ok()) {
      if (savepoint) {
        (void)run("ROLLBACK TO w");
        (void)run("RELEASE w");
      } else if (batch_open_) {
        batch_open_ = false;
        (void)run("ROLLBACK");
      }
    }
    if (forget_batch_if_gone() && st.ok() && keep)
      return Status{Code::unavailable, "state store " + path_ + ": the outbound batch was rolled back"};
    if (!keep || !st.ok()) return st;
    ++batch_writes_;
    if (c == Commit::now || commit_ms_ == 0 || std::chrono::steady_clock::now() >= batch_due_) return commit_batch();
    // The batch's first waiting write sets the flusher's clock (waking it
    // for every write would cost more than the commits it saves).
    if (batch_writes_ == 1 && !wake_flusher()) return commit_batch();
    return {};
  }

  // SQLite rolls a whole transaction back on some errors (I/O, a full
  // disk): the batch's earlier writes are gone, which the next
  // bookkeeping write reports. True when that happened.
  bool forget_batch_if_gone() {
    if (!batch_open_ || !sqlite3_get_autocommit(db_)) return false;
    batch_open_ = false;
    if (batch_writes_ > 0 && deferred_.ok())
      deferred_ = {Code::unavailable, "state store " + path_ + ": " + std::to_string(batch_writes_) +
                                 " outbound bookkeeping write(s) rolled back with a failed one"};
    return true;
  }

  // Under mu_.
  Status commit_batch() {
    if (!batch_open_) return {};
    batch_open_ = false;
    Status st = run("COMMIT");
    if (st.ok()) return st;
    (void)run("ROLLBACK");
    return {st.code(), st.message() + " (" + std::to_string(batch_writes_) + " outbound bookkeeping write(s) lost)"};
  }

  // Under mu_. False when no thread could be started: from then on every
  // write commits.
  bool wake_flusher() {
    if (!flusher_.joinable()) {
      try {
        flusher_ = std::thread([this] { flush_loop(); });
      } catch (const std::system_error&) {
        commit_ms_ = 0;
        return false;
      }
    }
    cv_.notify_one();
    return true;
  }

  void flush_loop() {
    std::unique_lock lk(mu_);
    while (!stopping_) {
      if (!batch_open_) {
        cv_.wait(lk);
      } else if (std::chrono::steady_clock::now() < batch_due_) {
        cv_.wait_until(lk, batch_due_);
      } else if (Status st = commit_batch(); !st.ok()) {
        deferred_ = std::move(st);
      }
    }
  }

  // BEGIN IMMEDIATE (the write lock now, so two writers never deadlock on
  // an upgrade); rolled back unless commit() succeeded.
  // The three statements are cached like any other (sqlite3_exec would
  // parse them on every message).
  struct Tx {
    explicit Tx(SqliteStore* s) : store(s) { status = s->run("BEGIN IMMEDIATE"); }
    ~Tx() {
      if (status.ok() && !done) (void)store->run("ROLLBACK");
    }
    Status commit() {
      done = true;
      Status s = store->run("COMMIT");
      if (!s.ok()) (void)store->run("ROLLBACK");
      return s;
    }
    SqliteStore* store;
    Status status;
    bool done = false;
  };

  Status fail(int rc, const std::string& what) const {
    const char* msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    return {code_of(rc), "state store " + path_ + ": " + what + ": " + msg};
  }

  Status exec(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return {};
    Status s{code_of(rc), "state store " + path_ + ": " + (err ? err : sqlite3_errstr(rc))};
    sqlite3_free(err);
    return s;
  }

  // One cached statement without parameters or rows.
  Status run(const char* sql) {
    Stmt q(this, sql);
    if (!q.ok()) return q.status;
    return q.step() == SQLITE_DONE ? Status{} : q.error(sql);
  }

  Result<std::string> text_of(const char* sql) {
    Stmt q(this, sql);
    if (!q.ok()) return q.status;
    if (q.step() != SQLITE_ROW) return q.error(sql);
    return column_bytes(q.st, 0);
  }

  Status create_sections() {
    Durable lk(*this);
    Tx tx(this);
    if (!tx.status.ok()) return tx.status;
    if (Status s = exec(kSchema); !s.ok()) return s;
    if (Status s = exec(kOutboundSchema); !s.ok()) return s;
    for (auto [name, version] : {std::pair{"pending", kPendingVersion}, std::pair{"locks", kLocksVersion},
                                 std::pair{"outbound", kOutboundVersion}}) {
      Stmt ins(this, "INSERT INTO sections(name, version) VALUES(?1,?2) ON CONFLICT(name) DO NOTHING");
      if (!ins.ok()) return ins.status;
      ins.bind_text(1, name);
      ins.bind_int(2, version);
      if (ins.step() != SQLITE_DONE) return ins.error("sections");
      Stmt q(this, "SELECT version FROM sections WHERE name=?1");
      if (!q.ok()) return q.status;
      q.bind_text(1, name);
      if (q.step() != SQLITE_ROW) return q.error("sections");
      if (sqlite3_column_int(q.st, 0) != version)
        return {Code::corrupt, path_ + ": section " + name + " has schema version " +
                                   std::to_string(sqlite3_column_int(q.st, 0)) + ", this emogate knows " +
                                   std::to_string(version)};
    }
    return tx.commit();
  }

  // A claim or a lock: ?1 what, ?2 who, ?3 until, ?4 now. One statement,
  // so one write transaction: of several connections racing, the first to
  // take the write lock changes the row and the others then see it taken.
  Status take(const char* sql, std::string_view what, std::string_view who, std::int64_t now, std::int64_t ttl_s) {
    Stmt q(this, sql);
    if (!q.ok()) return q.status;
    q.bind_text(1, what);
    q.bind_text(2, who);
    q.bind_int(3, now + ttl_s);
    q.bind_int(4, now);
    if (q.step() != SQLITE_DONE) return q.error("claim or lock");
    return {};
  }

  Result<bool> changed_or_missing(std::string_view id) {
    if (sqlite3_changes(db_) > 0) return true;
    Stmt q(this, "SELECT 1 FROM pending WHERE id=?1");
    if (!q.ok()) return q.status;
    q.bind_text(1, id);
    int rc = q.step();
    if (rc == SQLITE_ROW) return false;
    if (rc == SQLITE_DONE) return Status{Code::not_found, "no record " + std::string(id)};
    return q.error("lookup");
  }

  static std::string select(const char* where) {
    return std::string("SELECT ") + kColumns + " FROM pending " + where;
  }

  static std::string column_bytes(sqlite3_stmt* st, int i) {
    const void* p = sqlite3_column_blob(st, i);
    int n = sqlite3_column_bytes(st, i);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }

  Result<std::vector<PendingRecord>> rows(Stmt& q, std::size_t max) {
    std::vector<PendingRecord> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      sqlite3_stmt* st = q.st;
      PendingRecord r;
      r.id = column_bytes(st, 0);
      r.sender_key = column_bytes(st, 1);
      r.recipients = split_recipients(column_bytes(st, 2));
      r.created_at = sqlite3_column_int64(st, 3);
      r.expires_at = sqlite3_column_int64(st, 4);
      r.purge_at = sqlite3_column_int64(st, 5);
      r.blob = column_bytes(st, 6);
      int state = sqlite3_column_int(st, 7);
      if (state < 0 || state > static_cast<int>(PendingState::timed_out))
        return Status{Code::corrupt, "record " + r.id + " has an unknown state"};
      r.state = static_cast<PendingState>(state);
      r.state_at = sqlite3_column_int64(st, 8);
      r.match_queue_id = column_bytes(st, 9);
      r.claimed_by = column_bytes(st, 10);
      r.claim_until = sqlite3_column_int64(st, 11);
      r.held_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(st, 12));
      out.push_back(std::move(r));
      if (max && out.size() >= max) return out;
    }
    if (rc != SQLITE_DONE) return q.error("read");
    return out;
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mu_;
  bool relaxed_ = false;  // synchronous=NORMAL since the last outbound log record
  // The outbound bookkeeping's batch (Batched), all under mu_.
  std::uint32_t commit_ms_ = 0;
  bool batch_open_ = false;
  std::uint64_t batch_writes_ = 0;
  std::chrono::steady_clock::time_point batch_due_;
  Status deferred_;  // a batch's failure, answered to the next bookkeeping write
  bool stopping_ = false;
  std::condition_variable cv_;
  std::thread flusher_;
  std::map<std::string, sqlite3_stmt*, std::less<>> stmts_;

  // ---- the outbound sections (store.h): nested, since their purge/get/
  // list/find would clash with the pending section's in one class ----

  class Outbound final : public OutboundLog {
   public:
    explicit Outbound(SqliteStore& s) : s_(s) {}

    Result<Recorded> record(const OutboundRecord& r, const OutboundSettings& set, Commit commit) override {
      if (Status st = check_outbound(r); !st.ok()) return st;
      const bool truncated = r.recipients.size() > set.max_log_recipients;
      const std::string kept_rcpts = logged_recipients(r, set);
      // A log record is not a held message (Relaxed, Batched).
      Relaxed lk(s_);
      Batched tx(&s_, commit);
      if (!tx.status.ok()) return tx.status;
      const std::vector<std::string> rcpts = distinct(r.recipients);
      std::vector<bool> held;
      std::uint64_t kept = 0;
      Result<Volume> v = window(r, rcpts, set, &held, &kept);
      if (!v.ok()) return v.status();
      {
        Stmt q(&s_, "INSERT INTO outbound_log(message_id, account, sent_at, recipients, truncated, hashes, queue_id) "
                    "VALUES(?1,?2,?3,?4,?5,?6,?7)");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.message_id);
        q.bind_blob(2, r.account);
        q.bind_int(3, r.sent_at);
        q.bind_blob(4, kept_rcpts);
        q.bind_int(5, truncated ? 1 : 0);
        q.bind_blob(6, join_recipients(r.attachment_hashes));
        q.bind_blob(7, r.queue_id);
        if (q.step() != SQLITE_DONE) return q.error("log outbound");
      }
      // Sequence numbers only grow: rows older than the last max_log_entries go.
      const std::int64_t seq = sqlite3_last_insert_rowid(s_.db_);
      std::uint64_t dropped = 0;
      {
        Stmt q(&s_, "DELETE FROM outbound_log WHERE seq<=?1");
        if (!q.ok()) return q.status;
        q.bind_int(1, seq - static_cast<std::int64_t>(std::min<std::uint64_t>(set.max_log_entries, INT64_MAX / 2)));
        if (q.step() != SQLITE_DONE) return q.error("bound outbound log");
        dropped = static_cast<std::uint64_t>(sqlite3_changes(s_.db_));
      }
      {
        Stmt q(&s_, "UPDATE incidents SET last_sent=max(last_sent,?2), sent_since=sent_since+1 WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_int(2, r.sent_at);
        if (q.step() != SQLITE_DONE) return q.error("incident last sent");
      }
      // The window: its old entries go, the recipients are kept (new ones
      // while there is room), and each attachment hash with the recipients.
      {
        Stmt q(&s_, "DELETE FROM outbound_window WHERE account=?1 AND at<=?2");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_int(2, r.sent_at - kVolumeWindow);
        if (q.step() != SQLITE_DONE) return q.error("volume window");
      }
      const std::uint64_t cap = volume_recipient_cap(set);
      for (std::size_t i = 0; i < rcpts.size(); ++i) {
        if (!held[i] && kept >= cap) continue;
        kept += held[i] ? 0 : 1;
        Stmt q(&s_, "INSERT INTO outbound_window(account, kind, key, at, recipients) VALUES(?1,0,?2,?3,x'') "
                    "ON CONFLICT(account, kind, key) DO UPDATE SET at=max(at, excluded.at)");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_blob(2, rcpts[i]);
        q.bind_int(3, r.sent_at);
        if (q.step() != SQLITE_DONE) return q.error("volume recipients");
      }
      char seq_key[24];
      std::snprintf(seq_key, sizeof seq_key, "\n%020lld", static_cast<long long>(seq));
      for (const std::string& h : distinct(r.attachment_hashes)) {
        Stmt q(&s_, "INSERT OR REPLACE INTO outbound_window(account, kind, key, at, recipients) VALUES(?1,1,?2,?3,?4)");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_blob(2, h + seq_key);
        q.bind_int(3, r.sent_at);
        q.bind_blob(4, kept_rcpts);
        if (q.step() != SQLITE_DONE) return q.error("volume hashes");
      }
      if (Status st = tx.done(); !st.ok()) return st;
      return Recorded{dropped, *v};
    }

    Result<Volume> volume(const OutboundRecord& r, const OutboundSettings& set) override {
      if (Status st = check_account(r.account); !st.ok()) return st;
      std::lock_guard lk(s_.mu_);
      std::vector<bool> held;
      std::uint64_t kept = 0;
      return window(r, distinct(r.recipients), set, &held, &kept);
    }

    Status prune_volume(std::int64_t now) override {
      Durable lk(s_);
      Stmt q(&s_, "DELETE FROM outbound_window WHERE at<=?1");
      if (!q.ok()) return q.status;
      q.bind_int(1, now - kVolumeWindow);
      return q.step() == SQLITE_DONE ? Status{} : q.error("prune volume window");
    }

    Result<std::vector<OutboundRecord>> find(std::string_view message_id, std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, std::string(kLogSelect) + "WHERE message_id=?1 ORDER BY sent_at DESC, seq DESC LIMIT ?2");
      if (!q.ok()) return q.status;
      q.bind_blob(1, message_id);
      q.bind_int(2, limit_of(limit));
      return rows(q);
    }

    Result<std::vector<OutboundRecord>> by_account(std::string_view account, std::int64_t since,
                                                   std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, std::string(kLogSelect) + "WHERE account=?1 AND sent_at>=?2 ORDER BY sent_at DESC, seq DESC LIMIT ?3");
      if (!q.ok()) return q.status;
      q.bind_blob(1, account);
      q.bind_int(2, since);
      q.bind_int(3, limit_of(limit));
      return rows(q);
    }

    Result<std::uint64_t> purge(std::int64_t before) override {
      Durable lk(s_);
      Stmt q(&s_, "DELETE FROM outbound_log WHERE sent_at<?1");
      if (!q.ok()) return q.status;
      q.bind_int(1, before);
      if (q.step() != SQLITE_DONE) return q.error("purge outbound log");
      return static_cast<std::uint64_t>(sqlite3_changes(s_.db_));
    }

   private:
    static std::vector<std::string> distinct(std::vector<std::string> v) {
      std::sort(v.begin(), v.end());
      v.erase(std::unique(v.begin(), v.end()), v.end());
      return v;
    }

    // The account's window with this message (Volume), read under the
    // caller's lock: `held` says per recipient of `rcpts` whether the
    // window holds it, `kept` how many recipients it holds.
    Result<Volume> window(const OutboundRecord& r, const std::vector<std::string>& rcpts, const OutboundSettings& set,
                          std::vector<bool>* held, std::uint64_t* kept) {
      const std::int64_t edge = r.sent_at - kVolumeWindow;
      Volume v;
      {
        Stmt q(&s_, "SELECT count(*) FROM outbound_window WHERE account=?1 AND kind=0 AND at>?2");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_int(2, edge);
        if (q.step() != SQLITE_ROW) return q.error("volume window");
        *kept = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 0));
      }
      std::uint64_t fresh = 0;
      held->assign(rcpts.size(), false);
      for (std::size_t i = 0; i < rcpts.size(); ++i) {
        Stmt q(&s_, "SELECT 1 FROM outbound_window WHERE account=?1 AND kind=0 AND key=?2 AND at>?3");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_blob(2, rcpts[i]);
        q.bind_int(3, edge);
        const int rc = q.step();
        if (rc == SQLITE_ROW) (*held)[i] = true;
        else if (rc == SQLITE_DONE) ++fresh;
        else return q.error("volume recipients");
      }
      v.recipients = *kept + fresh;
      v.new_recipient = fresh > 0;
      for (const std::string& h : distinct(r.attachment_hashes)) {
        // HASH\n... up to HASH\v: this hash's messages, newest first.
        Stmt q(&s_, "SELECT recipients FROM outbound_window WHERE account=?1 AND kind=1 AND key>?2 AND key<?3 "
                    "AND at>?4 ORDER BY key DESC LIMIT ?5");
        if (!q.ok()) return q.status;
        q.bind_blob(1, r.account);
        q.bind_blob(2, h + '\n');
        q.bind_blob(3, h + '\v');
        q.bind_int(4, edge);
        q.bind_int(5, limit_of(volume_hash_rows(set)));
        UnrelatedThreads threads(r.recipients, volume_thread_stop(set));
        int rc = SQLITE_DONE;
        while (!threads.done() && (rc = q.step()) == SQLITE_ROW) threads.add(split_recipients(column_bytes(q.st, 0)));
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) return q.error("volume hashes");
        v.threads = std::max(v.threads, threads.threads());
      }
      return v;
    }

    static constexpr const char* kLogSelect =
        "SELECT message_id, account, sent_at, recipients, truncated, hashes, queue_id FROM outbound_log ";

    Result<std::vector<OutboundRecord>> rows(Stmt& q) {
      std::vector<OutboundRecord> out;
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        OutboundRecord r;
        r.message_id = column_bytes(q.st, 0);
        r.account = column_bytes(q.st, 1);
        r.sent_at = sqlite3_column_int64(q.st, 2);
        r.recipients = split_recipients(column_bytes(q.st, 3));
        r.recipients_truncated = sqlite3_column_int(q.st, 4) != 0;
        r.attachment_hashes = split_recipients(column_bytes(q.st, 5));
        r.queue_id = column_bytes(q.st, 6);
        out.push_back(std::move(r));
      }
      if (rc != SQLITE_DONE) return q.error("read outbound log");
      return out;
    }

    SqliteStore& s_;
  };

  class Incidents final : public IncidentStore {
   public:
    explicit Incidents(SqliteStore& s) : s_(s) {}

    Result<FlagCounts> flag(const FlaggedMessage& m, const OutboundSettings& set, Commit commit) override {
      if (Status st = check_flagged(m); !st.ok()) return st;
      // Counts for the report; the freeze they may lead to is Durable.
      Relaxed lk(s_);
      Batched tx(&s_, commit);
      if (!tx.status.ok()) return tx.status;
      Result<std::int64_t> have = s_.count_of("SELECT count(*) FROM incidents WHERE account=?1", m.account);
      if (!have.ok()) return have.status();
      if (*have == 0) {
        Result<std::int64_t> all = s_.count_of("SELECT count(*) FROM incidents", {});
        if (!all.ok()) return all.status();
        if (static_cast<std::uint64_t>(*all) >= set.max_incidents)
          return Status{Code::limit, "max_incidents of " + std::to_string(set.max_incidents) + " reached"};
        Stmt q(&s_, "INSERT INTO incidents(account, first_seen, last_seen) VALUES(?1,?2,?2)");
        if (!q.ok()) return q.status;
        q.bind_blob(1, m.account);
        q.bind_int(2, m.at);
        if (q.step() != SQLITE_DONE) return q.error("open incident");
      }
      {
        Stmt q(&s_, "UPDATE incidents SET first_seen=min(first_seen,?2), last_seen=max(last_seen,?2), "
                    "messages=messages+1, malicious=malicious+?3 WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, m.account);
        q.bind_int(2, m.at);
        q.bind_int(3, m.malicious ? 1 : 0);
        if (q.step() != SQLITE_DONE) return q.error("update incident");
      }
      std::vector<std::string> domains;
      for (const std::string& r : m.recipients)
        if (std::string d = outbound::domain_of(r); !d.empty()) domains.push_back(std::move(d));
      std::vector<std::string> queue_id;
      if (!m.queue_id.empty()) queue_id.push_back(m.queue_id);
      struct Items {
        Kind kind;
        const std::vector<std::string>* values;
        std::uint64_t bound;
      };
      bool capped = false;
      for (const Items& it : {Items{kRecipient, &m.recipients, set.max_incident_recipients},
                              Items{kDomain, &domains, set.max_incident_recipients},
                              Items{kFinding, &m.findings, set.max_incident_list},
                              Items{kHash, &m.attachment_hashes, set.max_incident_list},
                              Items{kQueueId, &queue_id, set.max_incident_list}}) {
        Result<bool> full = add_items(m.account, it.kind, *it.values, it.bound);
        if (!full.ok()) return full.status();
        if (*full && (it.kind == kRecipient || it.kind == kDomain)) capped = true;
      }
      if (capped) {
        Stmt q(&s_, "UPDATE incidents SET capped=1 WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, m.account);
        if (q.step() != SQLITE_DONE) return q.error("incident capped");
      }
      // The flagged events in the window: older ones go, at most max_incident_list stay.
      const std::int64_t edge = m.at - static_cast<std::int64_t>(set.freeze_window_s);
      for (const char* sql : {"DELETE FROM incident_events WHERE account=?1 AND at<=?2",
                              "INSERT INTO incident_events(account, at, malicious) VALUES(?1,?3,?4)",
                              "DELETE FROM incident_events WHERE account=?1 AND seq NOT IN "
                              "(SELECT seq FROM incident_events WHERE account=?1 ORDER BY at DESC, seq DESC LIMIT ?5)"}) {
        Stmt q(&s_, sql);
        if (!q.ok()) return q.status;
        q.bind_blob(1, m.account);
        if (sqlite3_bind_parameter_count(q.st) >= 2) q.bind_int(2, edge);
        if (sqlite3_bind_parameter_count(q.st) >= 3) {
          q.bind_int(3, m.at);
          q.bind_int(4, m.malicious ? 1 : 0);
        }
        if (sqlite3_bind_parameter_count(q.st) >= 5) q.bind_int(5, set.max_incident_list);
        if (q.step() != SQLITE_DONE) return q.error("incident events");
      }
      FlagCounts c;
      {
        Stmt q(&s_, "SELECT coalesce(sum(malicious),0), count(*) FROM incident_events WHERE account=?1 AND at>?2 AND at<=?3");
        if (!q.ok()) return q.status;
        q.bind_blob(1, m.account);
        q.bind_int(2, edge);
        q.bind_int(3, m.at);
        if (q.step() != SQLITE_ROW) return q.error("count events");
        c.malicious = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 0));
        c.suspicious = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 1)) - c.malicious;
      }
      if (Status st = tx.done(); !st.ok()) return st;
      return c;
    }

    Result<Incident> get(std::string_view account) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, std::string(kIncidentSelect) + "WHERE account=?1");
      if (!q.ok()) return q.status;
      q.bind_blob(1, account);
      Result<std::vector<Incident>> r = rows(q);
      if (!r.ok()) return r.status();
      if (r->empty()) return Status{Code::not_found, "no incident for " + std::string(account)};
      return std::move(r->front());
    }

    Result<std::vector<Incident>> list(std::int64_t since, std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, std::string(kIncidentSelect) +
                      "WHERE last_seen>=?1 OR last_sent>=?1 ORDER BY first_seen, account LIMIT ?2");
      if (!q.ok()) return q.status;
      q.bind_int(1, since);
      q.bind_int(2, limit_of(limit));
      return rows(q);
    }

    Status count(AddressEvent e, std::string_view address, std::int64_t at, const OutboundSettings& set) override {
      if (address.empty() || address.find('\n') != std::string_view::npos)
        return {Code::invalid, "empty address or a newline in it"};
      Durable lk(s_);
      Tx tx(&s_);
      if (!tx.status.ok()) return tx.status;
      std::string key(address);
      {
        Stmt q(&s_, "SELECT (SELECT count(*) FROM address_counts WHERE event=?1 AND address=?2), "
                    "(SELECT count(*) FROM address_counts WHERE event=?1)");
        if (!q.ok()) return q.status;
        q.bind_int(1, static_cast<int>(e));
        q.bind_blob(2, key);
        if (q.step() != SQLITE_ROW) return q.error("address counts");
        if (sqlite3_column_int64(q.st, 0) == 0 &&
            static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 1)) >= set.max_counter_addresses)
          key = "@" + outbound::domain_of(address);
      }
      Stmt q(&s_, "INSERT INTO address_counts(event, address, count, first_at, last_at) VALUES(?1,?2,1,?3,?3) "
                  "ON CONFLICT(event, address) DO UPDATE SET count=count+1, first_at=min(first_at,?3), "
                  "last_at=max(last_at,?3)");
      if (!q.ok()) return q.status;
      q.bind_int(1, static_cast<int>(e));
      q.bind_blob(2, key);
      q.bind_int(3, at);
      if (q.step() != SQLITE_DONE) return q.error("count address");
      return tx.commit();
    }

    Result<std::vector<AddressCount>> counts(std::int64_t since, std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, "SELECT event, address, count, first_at, last_at FROM address_counts WHERE last_at>=?1 "
                  "ORDER BY count DESC, event, address LIMIT ?2");
      if (!q.ok()) return q.status;
      q.bind_int(1, since);
      q.bind_int(2, limit_of(limit));
      std::vector<AddressCount> out;
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        int ev = sqlite3_column_int(q.st, 0);
        if (ev < 0 || ev > static_cast<int>(AddressEvent::spoofed_sender))
          return Status{Code::corrupt, "an address count has an unknown event"};
        out.push_back({static_cast<AddressEvent>(ev), column_bytes(q.st, 1),
                       static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 2)), sqlite3_column_int64(q.st, 3),
                       sqlite3_column_int64(q.st, 4)});
      }
      if (rc != SQLITE_DONE) return q.error("read address counts");
      return out;
    }

    Result<std::uint64_t> purge(std::int64_t before) override {
      Durable lk(s_);
      Tx tx(&s_);
      if (!tx.status.ok()) return tx.status;
      std::uint64_t n = 0;
      // Incidents and address counts (counted), then the items and events
      // of the incidents gone (?1 unused there).
      for (auto [sql, counted] : {std::pair{"DELETE FROM incidents WHERE last_seen<?1 AND last_sent<?1 AND account NOT "
                                            "IN (SELECT account FROM frozen)", true},
                                  std::pair{"DELETE FROM address_counts WHERE last_at<?1", true},
                                  std::pair{"DELETE FROM incident_items WHERE ?1 IS NOT NULL AND account NOT IN "
                                            "(SELECT account FROM incidents)", false},
                                  std::pair{"DELETE FROM incident_events WHERE ?1 IS NOT NULL AND account NOT IN "
                                            "(SELECT account FROM incidents)", false}}) {
        Stmt q(&s_, sql);
        if (!q.ok()) return q.status;
        q.bind_int(1, before);
        if (q.step() != SQLITE_DONE) return q.error("purge incidents");
        if (counted) n += static_cast<std::uint64_t>(sqlite3_changes(s_.db_));
      }
      if (Status st = tx.commit(); !st.ok()) return st;
      return n;
    }

   private:
    enum Kind { kRecipient, kDomain, kFinding, kHash, kQueueId };
    static constexpr const char* kIncidentSelect =
        "SELECT account, first_seen, last_seen, messages, malicious, capped, last_sent, sent_since, frozen_at, "
        "frozen_why, unfrozen_at, unfrozen_by FROM incidents ";

    // Adds the values not there yet while the kind holds fewer than
    // `bound`; true when a new value found it full.
    Result<bool> add_items(const std::string& account, Kind kind, const std::vector<std::string>& values,
                           std::uint64_t bound) {
      bool full = false;
      for (const std::string& v : values) {
        Stmt q(&s_, "INSERT INTO incident_items(account, kind, value) SELECT ?1,?2,?3 WHERE "
                    "(SELECT count(*) FROM incident_items WHERE account=?1 AND kind=?2) < ?4 "
                    "ON CONFLICT DO NOTHING");
        if (!q.ok()) return q.status;
        q.bind_blob(1, account);
        q.bind_int(2, kind);
        q.bind_blob(3, v);
        q.bind_int(4, static_cast<std::int64_t>(bound));
        if (q.step() != SQLITE_DONE) return q.error("incident item");
        if (sqlite3_changes(s_.db_) > 0) continue;
        Stmt e(&s_, "SELECT 1 FROM incident_items WHERE account=?1 AND kind=?2 AND value=?3");
        if (!e.ok()) return e.status;
        e.bind_blob(1, account);
        e.bind_int(2, kind);
        e.bind_blob(3, v);
        int rc = e.step();
        if (rc == SQLITE_DONE) full = true;
        else if (rc != SQLITE_ROW) return e.error("incident item");
      }
      return full;
    }

    Result<std::vector<Incident>> rows(Stmt& q) {
      std::vector<Incident> out;
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        Incident i;
        i.account = column_bytes(q.st, 0);
        i.first_seen = sqlite3_column_int64(q.st, 1);
        i.last_seen = sqlite3_column_int64(q.st, 2);
        i.messages = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 3));
        i.malicious = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 4));
        i.recipients_capped = sqlite3_column_int(q.st, 5) != 0;
        i.last_sent = sqlite3_column_int64(q.st, 6);
        i.sent_since = static_cast<std::uint64_t>(sqlite3_column_int64(q.st, 7));
        i.frozen_at = sqlite3_column_int64(q.st, 8);
        i.frozen_why = column_bytes(q.st, 9);
        i.unfrozen_at = sqlite3_column_int64(q.st, 10);
        i.unfrozen_by = column_bytes(q.st, 11);
        out.push_back(std::move(i));
      }
      if (rc != SQLITE_DONE) return q.error("read incidents");
      for (Incident& i : out) {
        Stmt items(&s_, "SELECT kind, value FROM incident_items WHERE account=?1 ORDER BY kind, value");
        if (!items.ok()) return items.status;
        items.bind_blob(1, i.account);
        while ((rc = items.step()) == SQLITE_ROW) {
          std::string v = column_bytes(items.st, 1);
          switch (sqlite3_column_int(items.st, 0)) {
            case kRecipient: ++i.recipients; break;
            case kDomain: ++i.domains; break;
            case kFinding: i.findings.push_back(std::move(v)); break;
            case kHash: i.attachment_hashes.push_back(std::move(v)); break;
            case kQueueId: i.queue_ids.push_back(std::move(v)); break;
            default: return Status{Code::corrupt, "an incident item has an unknown kind"};
          }
        }
        if (rc != SQLITE_DONE) return items.error("read incident items");
      }
      return out;
    }

    SqliteStore& s_;
  };

  class Freezes final : public FreezeStore {
   public:
    explicit Freezes(SqliteStore& s) : s_(s) {}

    Result<bool> freeze(std::string_view account, std::string_view why, std::int64_t at) override {
      if (Status st = check_account(account); !st.ok()) return st;
      Durable lk(s_);
      Tx tx(&s_);
      if (!tx.status.ok()) return tx.status;
      {
        Stmt q(&s_, "INSERT INTO frozen(account, why, at) VALUES(?1,?2,?3) ON CONFLICT(account) DO NOTHING");
        if (!q.ok()) return q.status;
        q.bind_blob(1, account);
        q.bind_blob(2, why);
        q.bind_int(3, at);
        if (q.step() != SQLITE_DONE) return q.error("freeze");
      }
      if (sqlite3_changes(s_.db_) == 0) return false;
      {
        Stmt q(&s_, "UPDATE incidents SET frozen_at=?2, frozen_why=?3, unfrozen_at=0, unfrozen_by='' WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, account);
        q.bind_int(2, at);
        q.bind_blob(3, why);
        if (q.step() != SQLITE_DONE) return q.error("freeze incident");
      }
      if (Status st = tx.commit(); !st.ok()) return st;
      return true;
    }

    Result<std::optional<FreezeRecord>> is_frozen(std::string_view account) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, "SELECT why, at FROM frozen WHERE account=?1");
      if (!q.ok()) return q.status;
      q.bind_blob(1, account);
      int rc = q.step();
      if (rc == SQLITE_DONE) return std::optional<FreezeRecord>();
      if (rc != SQLITE_ROW) return q.error("is frozen");
      return std::optional<FreezeRecord>(
          FreezeRecord{std::string(account), column_bytes(q.st, 0), sqlite3_column_int64(q.st, 1)});
    }

    Result<bool> unfreeze(std::string_view account, std::string_view by, std::int64_t at) override {
      Durable lk(s_);
      Tx tx(&s_);
      if (!tx.status.ok()) return tx.status;
      {
        Stmt q(&s_, "DELETE FROM frozen WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, account);
        if (q.step() != SQLITE_DONE) return q.error("unfreeze");
      }
      if (sqlite3_changes(s_.db_) == 0) return false;
      {
        Stmt q(&s_, "UPDATE incidents SET unfrozen_at=?2, unfrozen_by=?3 WHERE account=?1");
        if (!q.ok()) return q.status;
        q.bind_blob(1, account);
        q.bind_int(2, at);
        q.bind_blob(3, by);
        if (q.step() != SQLITE_DONE) return q.error("unfreeze incident");
      }
      if (Status st = tx.commit(); !st.ok()) return st;
      return true;
    }

    Result<std::vector<FreezeRecord>> list_frozen(std::size_t limit) override {
      std::lock_guard lk(s_.mu_);
      Stmt q(&s_, "SELECT account, why, at FROM frozen ORDER BY at, account LIMIT ?1");
      if (!q.ok()) return q.status;
      q.bind_int(1, limit_of(limit));
      std::vector<FreezeRecord> out;
      int rc;
      while ((rc = q.step()) == SQLITE_ROW)
        out.push_back({column_bytes(q.st, 0), column_bytes(q.st, 1), sqlite3_column_int64(q.st, 2)});
      if (rc != SQLITE_DONE) return q.error("list frozen");
      return out;
    }

   private:
    SqliteStore& s_;
  };

  static std::int64_t limit_of(std::size_t limit) {
    return static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
  }

  // One count(*) with the key bound as ?1 (none when empty).
  Result<std::int64_t> count_of(const char* sql, std::string_view key) {
    Stmt q(this, sql);
    if (!q.ok()) return q.status;
    if (!key.empty()) q.bind_blob(1, key);
    if (q.step() != SQLITE_ROW) return q.error("count");
    return sqlite3_column_int64(q.st, 0);
  }

  Outbound outbound_{*this};
  Incidents incidents_{*this};
  Freezes freezes_{*this};
};

}  // namespace

Result<std::unique_ptr<StateStore>> open_sqlite_store(const StateSettings& settings) {
  if (settings.path.empty()) return Status{Code::invalid, "[state] path is empty"};
  // No memory statistics: SQLite would otherwise take a global mutex on
  // every allocation of every statement. Only possible before SQLite
  // initialises (the first open); a later call fails and changes nothing.
  static std::once_flag no_memstatus;
  std::call_once(no_memstatus, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
  auto store = std::make_unique<SqliteStore>(settings.path);
  if (Status s = store->open(settings); !s.ok()) return s;
  return std::unique_ptr<StateStore>(std::move(store));
}

std::vector<std::string> check_sqlite_store(const StateSettings& settings) {
  const std::string& p = settings.path;
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0) {
    // The daemon creates it (and missing parents): the nearest existing
    // ancestor must let this user do so.
    std::error_code ec;
    fs::path up = fs::path(p).parent_path();
    while (!up.empty() && !fs::exists(up, ec) && up != up.parent_path()) up = up.parent_path();
    if (up.empty() || !fs::is_directory(up, ec))
      return {"'" + p + "' cannot be created ('" + up.string() + "' is not a directory)"};
    if (::access(up.c_str(), W_OK | X_OK) != 0)
      return {"'" + p + "' does not exist and this user cannot create it in '" + up.string() + "'"};
    return {};
  }
  if (S_ISLNK(st.st_mode)) return {"'" + p + "' is a symbolic link"};
  if (!S_ISREG(st.st_mode)) return {"'" + p + "' is not a regular file"};
  std::vector<std::string> out;
  if (st.st_mode & 077) out.push_back("'" + p + "' is readable by others (the daemon makes it 0600)");
  if (::access(p.c_str(), R_OK | W_OK) != 0) out.push_back("'" + p + "' is not readable and writable by this user");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(p.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    out.push_back("'" + p + "' does not open: " + (db ? sqlite3_errmsg(db) : "out of memory"));
  } else {
    sqlite3_busy_timeout(db, static_cast<int>(settings.busy_timeout_ms));
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT name, version FROM sections", -1, &q, nullptr) != SQLITE_OK)
      out.push_back("'" + p + "' is not an emogate state store: " + sqlite3_errmsg(db));
    else if (int rc = sqlite3_step(q); rc != SQLITE_ROW && rc != SQLITE_DONE)
      out.push_back("'" + p + "' does not read: " + sqlite3_errmsg(db));
    sqlite3_finalize(q);
  }
  sqlite3_close_v2(db);
  return out;
}

}  // namespace emogate::state

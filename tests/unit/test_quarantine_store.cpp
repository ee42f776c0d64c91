// Quarantine store: atomic entries, 0600 files, ID checks, and the
// `emogate quarantine` command (release through a fake sendmail).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/store.h"

using namespace emogate;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/emogate-qtest-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};

mode_t mode_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.' || (std::string(e->d_name) != "." && std::string(e->d_name) != "..")) out.push_back(e->d_name);
  closedir(d);
  return out;
}

QuarantineMeta sample_meta() {
  QuarantineMeta m;
  m.queue_id = "4Xk2Lq0abcz";
  m.sender = "alice@example.org";
  m.recipients = {"bob@example.com", "carol@example.com"};
  m.client = "192.0.2.7";
  m.verdict = "suspicious";
  m.action = "quarantine";
  m.findings = {"vba_macro@invoice.docm/word/vbaProject.bin"};
  m.size = 42;
  return m;
}

// A config whose store is a fresh, ready directory under `t`.
Config store_config(const TempDir& t) {
  Config cfg;
  cfg.quarantine.dir = t.path + "/q";
  QuarantineStore(cfg.quarantine.dir).ensure_dir();
  return cfg;
}

const char* kMsg = "From: alice@example.org\r\nSubject: invoice\r\n\r\nbody\r\n";

}  // namespace

TEST(QuarantineStore, PutWritesPrivateAtomicEntry) {
  TempDir t;
  QuarantineStore s(t.path + "/q");
  s.ensure_dir();
  EXPECT_EQ(mode_of(t.path + "/q"), 0700u);
  std::string id = s.put(kMsg, R"({"verdict":"suspicious"})", sample_meta());
  EXPECT_TRUE(QuarantineStore::valid_id(id)) << id;
  auto names = entries(t.path + "/q");
  ASSERT_EQ(names.size(), 1u) << "no temp directory is left behind";
  EXPECT_EQ(names[0], id);
  for (const char* f : {"message.eml", "report.json", "meta.json"}) EXPECT_EQ(mode_of(t.path + "/q/" + id + "/" + f), 0600u) << f;
  EXPECT_EQ(mode_of(t.path + "/q/" + id), 0700u);
  EXPECT_EQ(s.message(id), kMsg);
  EXPECT_EQ(s.report(id), R"({"verdict":"suspicious"})");
  auto m = s.meta(id);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->sender, "alice@example.org");
  EXPECT_EQ(m->recipients.size(), 2u);
  EXPECT_EQ(m->findings[0], "vba_macro@invoice.docm/word/vbaProject.bin");
  EXPECT_GT(m->time, 1700000000);
  auto all = s.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_TRUE(s.remove(id));
  EXPECT_TRUE(s.list().empty());
  EXPECT_FALSE(s.remove(id));
}

TEST(QuarantineStore, PutFailsCleanlyWhenStoreMissing) {
  TempDir t;
  QuarantineStore s(t.path + "/missing");
  EXPECT_THROW(s.put(kMsg, "{}", sample_meta()), std::runtime_error);
}

TEST(QuarantineStore, IdsAreValidatedBeforeTouchingPaths) {
  EXPECT_TRUE(QuarantineStore::valid_id("20261125-200102-0a1b2c3d"));
  EXPECT_FALSE(QuarantineStore::valid_id("../../etc/passwd"));
  EXPECT_FALSE(QuarantineStore::valid_id("20261125-200102-0a1b2c3D"));
  EXPECT_FALSE(QuarantineStore::valid_id("20261125-200102-0a1b2c3/"));
  EXPECT_FALSE(QuarantineStore::valid_id(""));
  TempDir t;
  QuarantineStore s(t.path);
  EXPECT_THROW(s.message("../x"), std::runtime_error);
  EXPECT_FALSE(s.meta("../../etc"));
}

TEST(QuarantineStore, ListSkipsBrokenEntries) {
  TempDir t;
  QuarantineStore s(t.path);
  std::string id = s.put(kMsg, "{}", sample_meta());
  ::mkdir((t.path + "/20260101-000000-deadbeef").c_str(), 0700);  // no meta.json
  std::ofstream(t.path + "/20260101-000001-deadbeef");              // not a dir
  auto all = s.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
}

TEST(QuarantineStore, ReleaseCopyNamesReleaser) {
  std::string c = release_copy(kMsg, "admin\r\nBcc: x", "20261125-200102-0a1b2c3d", 0);
  EXPECT_EQ(c.rfind("X-Emogate-Released: by admin__Bcc:_x at 1970-01-01T00:00:00Z from quarantine "
                    "20261125-200102-0a1b2c3d\r\nFrom: alice",
                    0),
            0u)
      << c;
}

TEST(QuarantineCommand, ListShowReleaseDelete) {
  TempDir t;
  Config cfg = store_config(t);
  QuarantineStore s(cfg.quarantine.dir);
  std::string id = s.put(kMsg, R"({"verdict":"suspicious","findings":[]})", sample_meta());
  // A stand-in for /usr/sbin/sendmail that records its arguments and input.
  std::string fake = t.path + "/sendmail";
  std::ofstream(fake) << "#!/bin/sh\nprintf '%s\\n' \"$@\" > " << t.path << "/args\ncat > " << t.path << "/stdin\n";
  ::chmod(fake.c_str(), 0755);
  cfg.quarantine.sendmail = fake;

  std::ostringstream out, err;
  EXPECT_EQ(quarantine_main(cfg, {"list"}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find(id), std::string::npos);
  EXPECT_NE(out.str().find("<alice@example.org>  bob@example.com,carol@example.com  suspicious  vba_macro@"), std::string::npos)
      << out.str();

  out.str("");
  EXPECT_EQ(quarantine_main(cfg, {"show", id}, out, err), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["report"]["verdict"], "suspicious");
  EXPECT_EQ(j["queue_id"], "4Xk2Lq0abcz");

  out.str("");
  EXPECT_EQ(quarantine_main(cfg, {"show", id, "--message"}, out, err), 0);
  EXPECT_EQ(out.str(), kMsg);

  EXPECT_EQ(quarantine_main(cfg, {"show", "../etc"}, out, err), 2);
  EXPECT_EQ(quarantine_main(cfg, {"show", "20261125-200102-0a1b2c3d"}, out, err), 1);

  out.str("");
  EXPECT_EQ(quarantine_main(cfg, {"release", id, "--by", "postmaster", "--keep"}, out, err), 0) << err.str();
  std::ifstream a(t.path + "/args");
  std::string args((std::istreambuf_iterator<char>(a)), {});
  EXPECT_EQ(args, "-i\n-f\nalice@example.org\n--\nbob@example.com\ncarol@example.com\n");
  std::ifstream in(t.path + "/stdin");
  std::string sent((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(sent.rfind("X-Emogate-Released: by postmaster at ", 0), 0u) << sent;
  EXPECT_NE(sent.find(kMsg), std::string::npos);
  ASSERT_TRUE(s.meta(id));
  EXPECT_EQ(s.meta(id)->released_by, "postmaster");

  // A failing sendmail keeps the entry.
  std::ofstream(fake) << "#!/bin/sh\ncat >/dev/null\nexit 75\n";
  EXPECT_EQ(quarantine_main(cfg, {"release", id}, out, err), 1);
  EXPECT_TRUE(s.meta(id));

  out.str("");
  EXPECT_EQ(quarantine_main(cfg, {"delete", id}, out, err), 0);
  EXPECT_FALSE(s.meta(id));
  EXPECT_EQ(quarantine_main(cfg, {}, out, err), 2);
  EXPECT_EQ(quarantine_main(cfg, {"frobnicate", id}, out, err), 1);
}

TEST(QuarantineStore, ExistingStoreIsMadePrivate) {
  TempDir t;
  std::string dir = t.path + "/q";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  ::chmod(dir.c_str(), 0755);
  QuarantineStore(dir).ensure_dir();
  EXPECT_EQ(mode_of(dir), 0700u);
  // A store that is a symbolic link is refused with a reason.
  std::string link = t.path + "/link";
  ASSERT_EQ(::symlink(dir.c_str(), link.c_str()), 0);
  try {
    QuarantineStore(link).ensure_dir();
    ADD_FAILURE() << "a symlinked store was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
}

TEST(QuarantineCommand, ListEscapesEnvelopeStrings) {
  TempDir t;
  Config cfg = store_config(t);
  QuarantineStore s(cfg.quarantine.dir);
  QuarantineMeta m = sample_meta();
  m.sender = "evil@example.org>\r\n20990101-000000-00000000  fake";
  m.recipients = {"bob@example.com\r\nX", "a,b@example.com"};
  s.put(kMsg, "{}", m);
  std::ostringstream out, err;
  ASSERT_EQ(quarantine_main(cfg, {"list"}, out, err), 0) << err.str();
  std::string text = out.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("<evil@example.org%3E%0D%0A20990101-000000-00000000%20%20fake>"), std::string::npos) << text;
  EXPECT_NE(text.find("bob@example.com%0D%0AX,a%2Cb@example.com"), std::string::npos) << text;
}

TEST(QuarantineCommand, NeverFollowsLinksAndReportsFailedRemoval) {
  TempDir t;
  Config cfg = store_config(t);
  QuarantineStore s(cfg.quarantine.dir);
  std::string fake = t.path + "/sendmail";
  std::ofstream(fake) << "#!/bin/sh\ncat > " << t.path << "/stdin\n";
  ::chmod(fake.c_str(), 0755);
  cfg.quarantine.sendmail = fake;

  // An entry that is a link to a directory elsewhere is not an entry.
  std::string id = s.put(kMsg, "{}", sample_meta());
  std::string outside = t.path + "/outside";
  ASSERT_EQ(::rename((cfg.quarantine.dir + "/" + id).c_str(), outside.c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (cfg.quarantine.dir + "/" + id).c_str()), 0);
  std::ostringstream out, err;
  EXPECT_EQ(quarantine_main(cfg, {"release", id}, out, err), 1);
  EXPECT_EQ(out.str().find("released"), std::string::npos) << out.str();
  EXPECT_NE(::access((t.path + "/stdin").c_str(), F_OK), 0) << "sendmail ran";
  EXPECT_EQ(quarantine_main(cfg, {"delete", id}, out, err), 1);
  EXPECT_EQ(::access((outside + "/message.eml").c_str(), F_OK), 0) << "the link target was emptied";
  // A file of an entry that is a link is not read either.
  std::string id2 = s.put(kMsg, "{}", sample_meta());
  std::string msg_path = cfg.quarantine.dir + "/" + id2 + "/message.eml";
  ::unlink(msg_path.c_str());
  ASSERT_EQ(::symlink("/etc/passwd", msg_path.c_str()), 0);
  EXPECT_THROW(s.message(id2), std::runtime_error);

  // Removal that fails after a release is reported, not called success.
  std::string id3 = s.put(kMsg, "{}", sample_meta());
  ASSERT_EQ(::mkdir((cfg.quarantine.dir + "/" + id3 + "/sub").c_str(), 0700), 0);
  std::ostringstream out3, err3;
  EXPECT_EQ(quarantine_main(cfg, {"release", id3}, out3, err3), 1);
  EXPECT_NE(err3.str().find("could not remove"), std::string::npos) << err3.str();
}

// A sendmail that exits without reading its input: the release fails with a
// message (EPIPE), and the command is not ended by SIGPIPE.
TEST(QuarantineRelease, SendmailThatStopsReadingGivesAnErrorNotSigpipe) {
  TempDir t;
  std::string fake = t.path + "/sendmail";
  std::ofstream(fake) << "#!/bin/sh\nexit 0\n";
  ::chmod(fake.c_str(), 0755);
  std::ostringstream err;
  const std::string big(4u << 20, 'x');  // far beyond a pipe's buffer
  EXPECT_EQ(run_sendmail(fake, sample_meta(), big, err), -1);
  EXPECT_NE(err.str().find("write sendmail pipe"), std::string::npos) << err.str();
}

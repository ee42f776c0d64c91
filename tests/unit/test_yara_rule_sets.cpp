// YARA rule sets as admins load them: the LOKI externals' exact values for
// each kind of object, score metas mapped to verdicts by thresholds, scope
// "files" versus "all", one namespace per set, the verdict cache (through
// the engine's counters), mime for text bodies, and the [[rules.set]]
// config errors with file:line.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "emogate/scanner.h"
#include "services/loki_externals.h"
#include "services/yara_sets.h"
#include "unit/findings.h"
#include "unit/mail_fixtures.h"
#include "unit/ole2_builder.h"
#include "unit/test_files.h"
#include "unit/zip_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::string kPe = std::string("MZ\x90\x00\x03\x00\x00\x00", 8) + std::string(120, 'p');

Config no_rules() {
  Config c;
  c.rules.paths.clear();
  c.limits.isolation = "inprocess";
  return c;
}

RuleSetSettings set_named(const std::string& name, const TempDir& d, const std::string& folder,
                          RuleScope scope = RuleScope::files) {
  RuleSetSettings s;
  s.name = name;
  s.paths = {(d.path / folder).string()};
  s.scope = scope;
  return s;
}

const RuleSetInfo& info(const Scanner& s, const std::string& name, std::vector<RuleSetInfo>& keep) {
  keep = s.rule_sets();
  auto it = std::find_if(keep.begin(), keep.end(), [&](const RuleSetInfo& i) { return i.name == name; });
  if (it == keep.end()) throw std::runtime_error("no rule set " + name);
  return *it;
}

std::vector<std::string> rules_at(const Report& r, const std::string& path) {
  std::vector<std::string> out;
  for (const Finding& f : r.findings)
    if (f.type == FindingType::yara && f.path == path) out.push_back(f.detail.substr(0, f.detail.find(' ')));
  std::sort(out.begin(), out.end());
  return out;
}

// The externals an object at `path` must see. Each becomes one rule that
// holds only for that object and that value, so a failure names the
// external that differs.
struct Expect {
  std::string path, filename, filepath, extension, filetype, type, parent_type;
  int depth = 0;
  bool from_encrypted = false;
};

std::string quoted(const std::string& v) { return "\"" + v + "\""; }

std::map<std::string, std::string> conditions(const Expect& e, const std::string& mime) {
  return {{"filename", "filename == " + quoted(e.filename)},
          {"filepath", "filepath == " + quoted(e.filepath)},
          {"extension", "extension == " + quoted(e.extension)},
          {"filetype", "filetype == " + quoted(e.filetype)},
          {"owner", "owner == \"\""},
          {"type", "type == " + quoted(e.type)},
          {"mime", "mime == " + quoted(mime)},
          {"depth", "depth == " + std::to_string(e.depth)},
          {"parent_type", "parent_type == " + quoted(e.parent_type)},
          {"from_encrypted", std::string(e.from_encrypted ? "" : "not ") + "from_encrypted"},
          {"truncated", "not truncated"}};
}

// Scans `input` (a message or one file) once to learn the object's MIME
// type from the report, then with one rule per external.
void expect_externals(const Expect& e, const std::string& input, bool message) {
  SCOPED_TRACE(e.path);
  TempDir d;
  Config c = no_rules();
  Report first = message ? Scanner(c).scan_message(input) : Scanner(c).scan_file(input, "input");
  const ObjectSummary* o = find_object(first, e.path);
  ASSERT_NE(o, nullptr) << dump(first);
  ASSERT_FALSE(o->mime.empty());
  std::string text;
  std::vector<std::string> want;
  for (const auto& [name, cond] : conditions(e, o->mime)) {
    text += "rule X_" + name + " { condition: path == " + quoted(e.path) + " and " + cond + " }\n";
    want.push_back("X_" + name);
  }
  d.write("rules/x.yar", text);
  c.rules.paths = {(d.path / "rules").string()};
  c.rules.strict = true;
  Scanner s(c);
  Report r = message ? s.scan_message(input) : s.scan_file(input, "input");
  std::sort(want.begin(), want.end());
  EXPECT_EQ(rules_at(r, e.path), want) << dump(r);
}

std::string mail_with(const std::string& name, const std::string& bytes, const std::string& subject = "s") {
  return make_mail(subject, {{"text/plain; charset=us-ascii", "see attached\r\n", ""},
                             {"application/octet-stream", bytes, name}});
}

TEST(YaraExternals, MimeAttachment) {
  expect_externals({.path = "Invoice.EXE", .filename = "Invoice.EXE", .filepath = "", .extension = ".exe",
                    .filetype = "EXE", .type = "pe", .parent_type = "email", .depth = 1},
                   mail_with("Invoice.EXE", kPe), true);
}

TEST(YaraExternals, ArchiveMemberInAFolder) {
  std::string zip = make_zip({{"dir/sub/x.exe", kPe, ZIP_EM_NONE, "", false}});
  expect_externals({.path = "a.zip/dir/sub/x.exe", .filename = "x.exe", .filepath = "dir/sub", .extension = ".exe",
                    .filetype = "EXE", .type = "pe", .parent_type = "zip", .depth = 2},
                   mail_with("a.zip", zip), true);
}

TEST(YaraExternals, DecryptedMember) {
  std::string doc = Ole2Builder().add("WordDocument", std::string(5000, 'w')).build();
  std::string zip = make_zip({{"docs/Report.Doc", doc, ZIP_EM_TRAD_PKWARE, "infected", false}});
  expect_externals({.path = "input/docs/Report.Doc", .filename = "Report.Doc", .filepath = "docs", .extension = ".doc",
                    .filetype = "OLE", .type = "ole2", .parent_type = "zip", .depth = 1, .from_encrypted = true},
                   zip, false);
}

TEST(YaraExternals, OleStream) {
  std::string doc = Ole2Builder().add("ObjectPool/_1/Contents", "MZ stream bytes " + std::string(5000, 'c')).build();
  expect_externals({.path = "input/ObjectPool/_1/Contents", .filename = "Contents", .filepath = "ObjectPool/_1",
                    .extension = "", .filetype = "EXE", .type = "pe", .parent_type = "ole2", .depth = 1},
                   doc, false);
}

TEST(YaraExternals, LokiValues) {
  EXPECT_EQ(loki_filetype(kPe), "EXE");
  EXPECT_EQ(loki_filetype("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), "OLE");
  EXPECT_EQ(loki_filetype("PK\x03\x04\x0A\x00"), "ZIP");
  EXPECT_EQ(loki_filetype(std::string("PK\x03\x04\x14\x00\x06\x00", 8)), "Office");
  EXPECT_EQ(loki_filetype("{\\rtf1\\ansi"), "RTF");
  EXPECT_EQ(loki_filetype("%PDF-1.7"), "PDF");
  EXPECT_EQ(loki_filetype("\x1F\x8B\x08\x00"), "GZIP");
  EXPECT_EQ(loki_filetype("Rar!\x1A\x07\x01"), "RAR");
  EXPECT_EQ(loki_filetype("\x7F" "ELF"), "ELF");
  EXPECT_EQ(loki_filetype("#!/bin/sh"), "UNIX SCRIPT");
  EXPECT_EQ(loki_filetype("#!perl"), "Script");
  EXPECT_EQ(loki_filetype("CWS\x0A"), "CWS");  // listed as SWF first, CWS last
  EXPECT_EQ(loki_filetype("hello"), "UNKNOWN");
  EXPECT_EQ(loki_filetype(""), "UNKNOWN");
  EXPECT_EQ(loki_extension("Invoice.EXE"), ".exe");
  EXPECT_EQ(loki_extension("a.tar.gz"), ".gz");
  EXPECT_EQ(loki_extension(".bashrc"), "");
  EXPECT_EQ(loki_extension("..x"), "");
  EXPECT_EQ(loki_extension("name."), ".");
  EXPECT_EQ(loki_extension("README"), "");
  EXPECT_EQ(folder_part("dir/sub/x.exe"), "dir/sub");
  EXPECT_EQ(folder_part("dir\\x.exe"), "dir");
  EXPECT_EQ(folder_part("x.exe"), "");
  // LOKI's default scan: a known type, or one of its extensions.
  EXPECT_TRUE(loki_scans("EXE", ".dat"));
  EXPECT_TRUE(loki_scans("PDF", ""));
  EXPECT_TRUE(loki_scans("UNKNOWN", ".txt"));
  EXPECT_TRUE(loki_scans("UNKNOWN", ".js"));
  EXPECT_FALSE(loki_scans("UNKNOWN", ".bin"));
  EXPECT_FALSE(loki_scans("UNKNOWN", ".csv"));
  EXPECT_FALSE(loki_scans("UNKNOWN", ""));
}

TEST(YaraExternals, LokiStyleRuleFiresAsInLoki) {
  TempDir d;
  d.write("sb/loki.yar",
          "rule Loki_Exe { meta: score = 100 condition: extension == \".exe\" and filetype == \"EXE\" }\n"
          "rule Loki_Not_Exe { meta: score = 100 condition: not filetype == \"EXE\" and uint16(0) == 0x5A4D }\n");
  Config c = no_rules();
  c.rules.sets.push_back(set_named("sb", d, "sb"));
  Scanner s(c);
  Report r = s.scan_message(mail_with("Invoice.EXE", kPe));
  EXPECT_EQ(rules_at(r, "Invoice.EXE"), std::vector<std::string>{"Loki_Exe"}) << dump(r);
  const Finding* f = find_finding(r, FindingType::yara, {.path = "Invoice.EXE"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->rule_set, "sb");
  EXPECT_EQ(f->score, 100);
  EXPECT_EQ(f->verdict, Verdict::malicious);
}

TEST(YaraExternals, TextBodiesHaveAMimeType) {
  Report r = Scanner(no_rules()).scan_message(mail_with("a.bin", "x"));
  const ObjectSummary* o = find_object(r, "body-1.txt");
  ASSERT_NE(o, nullptr) << dump(r);
  EXPECT_EQ(o->mime, "text/plain");
}

// ---- score metas -> verdicts ----

class Scores : public ::testing::Test {
 protected:
  void SetUp() override {
    d.write("scored/s.yar",
            "rule S40 { meta: score = 40 strings: $a = \"SCORE-A\" condition: $a }\n"
            "rule S30 { meta: score = \"30\" strings: $a = \"SCORE-B\" condition: $a }\n"
            "rule S50 { meta: score = 50 strings: $a = \"SCORE-C\" condition: $a }\n"
            "rule V { meta: score = 10 verdict = \"malicious\" strings: $a = \"SCORE-V\" condition: $a }\n"
            "rule Plain { strings: $a = \"PLAIN-HIT\" condition: $a }\n");
  }
  Report scan(const std::string& bytes, std::uint32_t suspicious = 60) {
    Config c = no_rules();
    RuleSetSettings s = set_named("scored", d, "scored");
    s.verdict = Verdict::suspicious;
    s.score_suspicious = suspicious;
    c.rules.sets.push_back(s);
    return Scanner(c).scan_file(bytes, "f.txt");
  }
  static Verdict verdict_of(const Report& r, std::string_view rule) {
    const Finding* f = find_finding(r, FindingType::yara, {.detail = rule});
    if (!f) throw std::runtime_error("no finding " + std::string(rule) + ": " + dump(r));
    return f->verdict;
  }
  TempDir d;
};

TEST_F(Scores, BelowTheSuspiciousThresholdIsClean) {
  Report r = scan("x SCORE-A x");
  EXPECT_EQ(verdict_of(r, "S40"), Verdict::clean);
  EXPECT_EQ(r.findings[0].score, 40);
  EXPECT_EQ(r.verdict, Verdict::clean);
}

TEST_F(Scores, SummedScoresReachSuspicious) {
  Report r = scan("SCORE-A SCORE-B");
  EXPECT_EQ(verdict_of(r, "S40"), Verdict::suspicious);
  EXPECT_EQ(verdict_of(r, "S30"), Verdict::suspicious);
  EXPECT_EQ(r.findings[0].score, 70);
  EXPECT_EQ(r.verdict, Verdict::suspicious);
}

TEST_F(Scores, SummedScoresReachMalicious) {
  Report r = scan("SCORE-A SCORE-B SCORE-C");
  EXPECT_EQ(r.verdict, Verdict::malicious);
  EXPECT_EQ(verdict_of(r, "S40"), Verdict::malicious);
  EXPECT_EQ(r.findings[0].score, 120);
}

TEST_F(Scores, VerdictMetaWinsAndUnscoredRulesTakeTheSetDefault) {
  Report r = scan("SCORE-V PLAIN-HIT");
  EXPECT_EQ(verdict_of(r, "V"), Verdict::malicious);
  EXPECT_EQ(verdict_of(r, "Plain"), Verdict::suspicious);
}

TEST_F(Scores, PerSetThreshold) {
  EXPECT_EQ(verdict_of(scan("SCORE-A", 30), "S40"), Verdict::suspicious);
}

// ---- scope ----

TEST(YaraScope, FilesSetSeesAttachmentsAndMembersNotLayers) {
  TempDir d;
  d.write("r/m.yar", "rule Marker { strings: $a = \"MARKER-XYZ\" condition: $a }\n");
  std::string doc = Ole2Builder().add("Data", "MARKER-XYZ " + std::string(5000, 'd')).build();
  std::string zip = make_zip({{"in/doc.doc", doc, ZIP_EM_NONE, "", false}});
  std::string mail = make_mail("s", {{"text/plain; charset=us-ascii", "body MARKER-XYZ\r\n", ""},
                                     {"application/zip", zip, "a.zip"}});
  Config c = no_rules();
  c.rules.sets.push_back(set_named("files", d, "r", RuleScope::files));
  c.rules.sets.push_back(set_named("every", d, "r", RuleScope::all));
  Report r = Scanner(c).scan_message(mail);
  auto sets_at = [&](const std::string& path) {
    std::vector<std::string> out;
    for (const Finding& f : r.findings)
      if (f.type == FindingType::yara && f.path == path) out.push_back(f.rule_set);
    std::sort(out.begin(), out.end());
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(sets_at("a.zip/in/doc.doc"), (V{"every", "files"})) << dump(r);
  EXPECT_EQ(sets_at("a.zip/in/doc.doc/Data"), V{"every"});
  EXPECT_EQ(sets_at("body-1.txt"), V{"every"});
}

// A "loki" set sees what LOKI's default scan would read: of the files, those
// of a known LOKI type or with one of its extensions; never a layer. The
// objects it skips are still scanned by the default set (merged into the
// loki set's pass for the others).
TEST(YaraScope, LokiSetSeesTheFilesLokisDefaultScanReads) {
  TempDir d;
  d.write("r/m.yar", "rule Marker { strings: $a = \"MARKER-XYZ\" condition: $a }\n");
  d.write("own/o.yar", "rule Own_Marker { strings: $a = \"MARKER-XYZ\" condition: $a }\n");
  const std::string plain = "data MARKER-XYZ data\r\n";
  const std::string pe = kPe + "MARKER-XYZ";
  std::string zip = make_zip({{"in/run.js", "var a = 'MARKER-XYZ';", ZIP_EM_NONE, "", false},
                              {"in/rows.csv", "a,MARKER-XYZ,b", ZIP_EM_NONE, "", false}});
  std::string mail = make_mail("s", {{"text/plain; charset=us-ascii", "body MARKER-XYZ\r\n", ""},
                                     {"application/octet-stream", plain, "export.bin"},
                                     {"application/octet-stream", plain, "notes.txt"},
                                     {"application/octet-stream", pe, "tool.dat"},
                                     {"application/zip", zip, "a.zip"}});
  Config c = no_rules();
  c.rules.paths = {(d.path / "own").string()};
  c.rules.sets.push_back(set_named("loki", d, "r", RuleScope::loki));
  Report r = Scanner(c).scan_message(mail);
  std::map<std::string, std::vector<std::string>> sets_at;
  for (const Finding& f : r.findings)
    if (f.type == FindingType::yara) sets_at[f.path].push_back(f.rule_set);
  for (auto& [path, sets] : sets_at) std::sort(sets.begin(), sets.end());
  using V = std::vector<std::string>;
  const std::map<std::string, V> want = {
      {"body-1.txt", V{"default"}},          {"export.bin", V{"default"}},
      {"notes.txt", V{"default", "loki"}},   {"tool.dat", V{"default", "loki"}},
      {"a.zip/in/run.js", V{"default", "loki"}}, {"a.zip/in/rows.csv", V{"default"}}};
  EXPECT_EQ(sets_at, want) << dump(r);
}

// The default set's rules are compiled into the "files" set's last group:
// an attachment costs one pass for both, yet each set reports its own hits
// (with its own verdict) and counts and caches its own scan; other objects
// are scanned by the default set alone.
TEST(YaraScope, DefaultRulesInAFilesSetsPassKeepTheirOwnSet) {
  TempDir d;
  d.write("own/o.yar", "rule Own_Hit { strings: $a = \"OWN-MARK\" condition: $a }\n");
  d.write("tp/t.yar", "rule Tp_Hit { strings: $a = \"TP-MARK\" condition: $a }\n");
  Config c = no_rules();
  c.rules.paths = {(d.path / "own").string()};
  RuleSetSettings tp = set_named("tp", d, "tp");
  tp.verdict = Verdict::suspicious;
  c.rules.sets.push_back(tp);
  Scanner s(c);
  const std::string att = "x OWN-MARK y TP-MARK z";
  Report r = s.scan_message(make_mail("one", {{"text/plain; charset=us-ascii", "body OWN-MARK TP-MARK\r\n", ""},
                                              {"application/octet-stream", att, "a.bin"}}));
  std::map<std::string, std::string> set_of;
  for (const Finding& f : r.findings)
    if (f.type == FindingType::yara) set_of[f.path + " " + f.detail.substr(0, f.detail.find(' '))] = f.rule_set;
  using M = std::map<std::string, std::string>;
  EXPECT_EQ(set_of, (M{{"a.bin Own_Hit", "default"}, {"a.bin Tp_Hit", "tp"}, {"body-1.txt Own_Hit", "default"}}))
      << dump(r);
  EXPECT_EQ(find_finding(r, FindingType::yara, {.detail = "Tp_Hit"})->verdict, Verdict::suspicious);
  std::vector<RuleSetInfo> keep;
  EXPECT_EQ(info(s, "tp", keep).scans, 1u);
  const std::uint64_t own_scans = info(s, "default", keep).scans;
  // The same attachment again: both sets answer from their caches.
  Report r2 = s.scan_message(make_mail("two", {{"application/octet-stream", att, "b.bin"}}));
  EXPECT_EQ(rules_at(r2, "b.bin"), (std::vector<std::string>{"Own_Hit", "Tp_Hit"})) << dump(r2);
  EXPECT_EQ(info(s, "tp", keep).scans, 1u);
  EXPECT_EQ(info(s, "default", keep).scans, own_scans + 1);  // the new message's header block only
}

// ---- namespace ----

TEST(YaraNamespace, SetNamespaceLetsAFileUseAnotherFilesPrivateRule) {
  TempDir d;
  d.write("idx/a_base.yar", "private rule Base_P { strings: $a = \"PRIVATE-MARK\" condition: $a }\n");
  d.write("idx/b_uses.yar", "rule Uses_P { condition: Base_P }\n");
  Config c = no_rules();
  c.rules.sets.push_back(set_named("perfile", d, "idx"));
  {
    Scanner s(c);
    std::vector<RuleSetInfo> keep;
    const RuleSetInfo& i = info(s, "perfile", keep);
    EXPECT_EQ(i.rules, 1u);  // b_uses.yar does not compile alone
    ASSERT_EQ(i.skipped.size(), 1u);
    EXPECT_NE(i.skipped[0].find("b_uses.yar:1:"), std::string::npos) << i.skipped[0];
  }
  c.rules.sets[0].one_namespace = true;
  Scanner s(c);
  std::vector<RuleSetInfo> keep;
  EXPECT_TRUE(info(s, "perfile", keep).skipped.empty());
  Report r = s.scan_file("x PRIVATE-MARK x", "f.bin");
  EXPECT_EQ(rules_at(r, "f.bin"), std::vector<std::string>{"Uses_P"}) << dump(r);
}

// ---- verdict cache ----

// A scanner with one "files" set "sb" made of `files` (name -> rule text).
struct OneSet {
  explicit OneSet(const std::map<std::string, std::string>& files) {
    for (const auto& [name, text] : files) d.write("sb/" + name, text);
    Config c = no_rules();
    c.rules.sets.push_back(set_named("sb", d, "sb"));
    scanner = std::make_unique<Scanner>(c);
  }
  const RuleSetInfo& sb() { return info(*scanner, "sb", keep); }
  std::vector<std::string> hits(const std::string& name, const std::string& subject) {
    return rules_at(scanner->scan_message(mail_with(name, kPe, subject)), name);
  }
  TempDir d;
  std::unique_ptr<Scanner> scanner;
  std::vector<RuleSetInfo> keep;
};

const std::string kMzRule = "rule Mz { strings: $a = \"ppp\" condition: uint16(0) == 0x5A4D and $a }\n";
const std::string kNamedRule = "rule Named { condition: filename == \"a.exe\" and uint16(0) == 0x5A4D }\n";
using Rules = std::vector<std::string>;

TEST(YaraCache, SecondCopyOfAnAttachmentCostsNoScan) {
  OneSet t({{"r.yar", kMzRule}});
  EXPECT_EQ(t.hits("a.exe", "first"), Rules{"Mz"});
  EXPECT_EQ(t.sb().scans, 1u);
  EXPECT_EQ(t.sb().cache_misses, 1u);
  // Another message, another name: the rules read no externals, so the
  // bytes alone decide.
  EXPECT_EQ(t.hits("b.exe", "second"), Rules{"Mz"});
  EXPECT_EQ(t.sb().scans, 1u);
  EXPECT_EQ(t.sb().cache_hits, 1u);
  // Two copies in one message: one more hit each, no scan.
  std::string two = make_mail("third", {{"application/octet-stream", kPe, "c.exe"},
                                        {"application/octet-stream", kPe, "d.exe"}});
  Report r3 = t.scanner->scan_message(two);
  EXPECT_EQ(rules_at(r3, "c.exe"), Rules{"Mz"});
  EXPECT_EQ(rules_at(r3, "d.exe"), Rules{"Mz"});
  EXPECT_EQ(t.sb().scans, 1u);
  EXPECT_EQ(t.sb().cache_hits, 3u);
}

TEST(YaraCache, EachReportSaysWhatTheSetDid) {
  OneSet t({{"r.yar", kMzRule}});
  Report first = t.scanner->scan_message(mail_with("a.exe", kPe, "first"));
  ASSERT_EQ(first.rule_sets.size(), 1u) << to_json(first);
  const RuleSetUse& u = first.rule_sets[0];
  EXPECT_EQ(u.name, "sb");
  EXPECT_EQ(u.objects, 1u);  // the attachment: a "files" set skips the message and its body
  EXPECT_EQ(u.cache_hits, 0u);
  EXPECT_EQ(u.passes, 1u);
  EXPECT_EQ(u.bytes, kPe.size());
  EXPECT_GE(u.cpu_ms, 0.0);
  const auto j = nlohmann::json::parse(to_json(first));
  ASSERT_EQ(j["rule_sets"].size(), 1u) << j.dump();
  EXPECT_EQ(j["rule_sets"][0]["name"], "sb");
  EXPECT_EQ(j["rule_sets"][0]["objects"], 1);
  EXPECT_EQ(j["rule_sets"][0]["passes"], 1);
  EXPECT_EQ(j["rule_sets"][0]["bytes"], kPe.size());
  // The same bytes again, twice in one message: answered by the cache.
  std::string two = make_mail("again", {{"application/octet-stream", kPe, "c.exe"},
                                        {"application/octet-stream", kPe, "d.exe"}});
  Report again = t.scanner->scan_message(two);
  ASSERT_EQ(again.rule_sets.size(), 1u);
  EXPECT_EQ(again.rule_sets[0].objects, 2u);
  EXPECT_EQ(again.rule_sets[0].cache_hits, 2u);
  EXPECT_EQ(again.rule_sets[0].passes, 0u);
  EXPECT_EQ(again.rule_sets[0].bytes, 0u);
  // A message with no file for the set: no entry.
  EXPECT_TRUE(t.scanner->scan_message(make_mail("text", {})).rule_sets.empty());
}

TEST(YaraCache, RulesReadingFilenameAreKeyedByIt) {
  // One file reads `filename`, one does not: one pass of the whole set for
  // new bytes, two kinds of cache entry.
  OneSet t({{"named.yar", kNamedRule}, {"pure.yar", kMzRule}});
  EXPECT_EQ(t.hits("a.exe", "1"), (Rules{"Mz", "Named"}));
  EXPECT_EQ(t.sb().scans, 1u);
  EXPECT_EQ(t.sb().cache_misses, 2u);
  // Same bytes, another name: only the rules reading filename scan again,
  // and the rule does not fire.
  EXPECT_EQ(t.hits("b.exe", "2"), Rules{"Mz"});
  EXPECT_EQ(t.sb().scans, 2u);
  EXPECT_EQ(t.sb().cache_hits, 1u);
  // Same bytes, same name: both from the cache, same result.
  EXPECT_EQ(t.hits("a.exe", "3"), (Rules{"Mz", "Named"}));
  EXPECT_EQ(t.sb().scans, 2u);
  EXPECT_EQ(t.sb().cache_hits, 3u);
  // The other name again: from the cache too.
  EXPECT_EQ(t.hits("b.exe", "4"), Rules{"Mz"});
  EXPECT_EQ(t.sb().scans, 2u);
}

TEST(YaraCache, OnlyNamedFilesAreKeyedByTheirExternals) {
  // Every file reads `filename`: one kind of entry, keyed by it.
  OneSet t({{"named.yar", kNamedRule}});
  EXPECT_EQ(t.hits("a.exe", "1"), Rules{"Named"});
  EXPECT_EQ(t.hits("b.exe", "2"), Rules{});
  EXPECT_EQ(t.sb().scans, 2u);
  EXPECT_EQ(t.hits("a.exe", "3"), Rules{"Named"});
  EXPECT_EQ(t.sb().scans, 2u);
  EXPECT_EQ(t.sb().cache_hits, 1u);
}

TEST(YaraCache, StaysWithinItsBound) {
  VerdictCache cache(4096);
  for (int i = 0; i < 200; ++i) cache.put("key-" + std::to_string(i), {YaraMatch{"R", "ns", {}, {{"score", "1"}}}});
  EXPECT_LE(cache.bytes(), 4096u);
  EXPECT_GT(cache.entries(), 0u);
  EXPECT_FALSE(cache.find("key-0"));   // the oldest went first
  EXPECT_TRUE(cache.find("key-199"));
  VerdictCache off(0);
  EXPECT_FALSE(off.enabled());
}

TEST(YaraCache, ExternalsNamedAreFoundAsWords) {
  auto bit = [](std::string_view n) {
    for (std::size_t i = 0; i < std::size(kYaraExternals); ++i)
      if (kYaraExternals[i] == n) return 1u << i;
    return 0u;
  };
  EXPECT_EQ(externals_named("rule a { condition: filename matches /x\"y/ and extension == \".exe\" }"),
            bit("filename") | bit("extension"));
  EXPECT_EQ(externals_named("rule a { strings: $f = \"filetype_x\" condition: $f }"), 0u);
  EXPECT_EQ(externals_named("include \"other.yar\"\n"), (1u << std::size(kYaraExternals)) - 1);
  EXPECT_EQ(externals_named("rule a { meta: d = \"we include it\" condition: true }"), 0u);
}

// ---- config ----

int error_line(const std::string& toml) {
  try {
    parse_config(toml, "c.toml");
  } catch (const ConfigError& e) {
    return e.line;
  }
  return -1;
}

TEST(RuleSetConfig, ReadsEverySetKey) {
  Config c = parse_config(
      "[rules]\npaths = []\nscore_suspicious = 50\ncache_bytes = \"1M\"\n"
      "[[rules.set]]\nname = \"sb\"\npaths = [\"/r/sb\"]\nscope = \"all\"\nverdict = \"suspicious\"\n"
      "max_action = \"tag\"\nnamespace = \"set\"\nscore_malicious = 200\n"
      "[[rules.set]]\nname = \"yr\"\npaths = [\"/r/yr\"]\n",
      "c.toml");
  ASSERT_EQ(c.rules.sets.size(), 2u);
  const RuleSetSettings& a = c.rules.sets[0];
  EXPECT_EQ(a.scope, RuleScope::all);
  EXPECT_EQ(a.verdict, Verdict::suspicious);
  EXPECT_EQ(a.max_action, Action::tag);
  EXPECT_TRUE(a.one_namespace);
  EXPECT_EQ(a.score_suspicious, 50u);
  EXPECT_EQ(a.score_malicious, 200u);
  const RuleSetSettings& b = c.rules.sets[1];
  EXPECT_EQ(b.scope, RuleScope::files);  // third-party sets default to files
  EXPECT_EQ(parse_config("[[rules.set]]\nname = \"l\"\npaths = [\"/r\"]\nscope = \"loki\"\n", "c.toml")
                .rules.sets.at(0)
                .scope,
            RuleScope::loki);
  EXPECT_FALSE(b.max_action);
  EXPECT_FALSE(b.one_namespace);
  EXPECT_EQ(c.rules.cache_bytes, 1u << 20);
  EXPECT_EQ(c.actions.rule_set_caps.at("sb"), Action::tag);
  EXPECT_EQ(c.rules.all_sets().size(), 2u);  // paths = []: no default set
  Config d = parse_config("", "c.toml");
  ASSERT_EQ(d.rules.all_sets().size(), 1u);
  EXPECT_EQ(d.rules.all_sets()[0].name, "default");
  EXPECT_EQ(d.rules.all_sets()[0].scope, RuleScope::all);
}

TEST(RuleSetConfig, ErrorsNameTheLine) {
  const std::string head = "[rules]\npaths = []\n[[rules.set]]\nname = \"sb\"\npaths = [\"/r\"]\n";
  EXPECT_EQ(error_line(head + "scope = \"some\"\n"), 6);
  EXPECT_EQ(error_line(head + "max_action = \"drop\"\n"), 6);
  EXPECT_EQ(error_line(head + "namespace = \"global\"\n"), 6);
  EXPECT_EQ(error_line(head + "verdict = \"bad\"\n"), 6);
  EXPECT_EQ(error_line(head + "scpoe = \"all\"\n"), 6);
  EXPECT_EQ(error_line(head + "score_suspicious = 0\n"), 6);
  EXPECT_EQ(error_line(head + "[[rules.set]]\nname = \"sb\"\npaths = [\"/x\"]\n"), 6);
  EXPECT_EQ(error_line("[rules]\n[[rules.set]]\npaths = [\"/r\"]\n"), 2);
  EXPECT_EQ(error_line("[rules]\n[[rules.set]]\nname = \"default\"\npaths = [\"/r\"]\n"), 3);
  EXPECT_EQ(error_line("[rules]\n[[rules.set]]\nname = \"x\"\n"), 2);
  EXPECT_EQ(error_line("[rules]\nscore_malicious = 10\n"), 2);
}

}  // namespace

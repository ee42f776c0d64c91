// The TNEF reader of src/formats/tnef on its own: attachments, names,
// bodies and the problems it reports, without the engine.
#include <gtest/gtest.h>

#include <string>

#include "formats/tnef/parse.h"
#include "unit/tnef_fixtures.h"

using namespace emogate;
using test::msg_props_binary;
using test::put16;
using test::put32;
using test::tnef_attr;
using test::tnef_with;

namespace {

// attAttachment holding PR_ATTACH_LONG_FILENAME as PT_UNICODE.
std::string long_name_props(const std::u16string& name) {
  std::string v;
  for (char16_t c : name) {
    v += static_cast<char>(c & 0xFF);
    v += static_cast<char>(c >> 8);
  }
  std::string p;
  put32(p, 1);
  put16(p, 0x001F);
  put16(p, 0x3707);
  put32(p, 1);
  put32(p, static_cast<std::uint32_t>(v.size()));
  p += v;
  p.append((4 - v.size() % 4) % 4, '\0');
  return p;
}

}  // namespace

TEST(TnefParse, ReadsAttachmentNameAndData) {
  const std::string bytes = tnef_with("invoice.pdf", "payload");  // the result points into it
  const tnef::Message m = tnef::parse(bytes);
  ASSERT_TRUE(m.signature);
  EXPECT_EQ(m.problem, "");
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].name, "invoice.pdf");
  EXPECT_EQ(m.attachments[0].data, "payload");
  EXPECT_FALSE(m.rtf_compressed);
  EXPECT_FALSE(m.html);
}

TEST(TnefParse, NotTnefSaysSo) {
  const tnef::Message m = tnef::parse("PK\x03\x04 not tnef");
  EXPECT_FALSE(m.signature);
  EXPECT_TRUE(m.attachments.empty());
  EXPECT_FALSE(tnef::parse("").signature);
}

TEST(TnefParse, LongFilenameWinsAndStopsAtNul) {
  std::string s = tnef_with("SHORT~1.DOC", "x");
  tnef_attr(s, 2, 0x00069005, long_name_props(std::u16string(u"Long name.docm") + u'\0' + u"junk"));
  const tnef::Message m = tnef::parse(s);
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].name, "Long name.docm");
}

TEST(TnefParse, TruncationAndChecksumAreProblems) {
  const std::string s = tnef_with("a.txt", "hello");
  const std::string truncated = s.substr(0, s.size() - 3);
  const tnef::Message cut = tnef::parse(truncated);
  EXPECT_NE(cut.problem.find("runs past the end"), std::string::npos) << cut.problem;
  ASSERT_EQ(cut.attachments.size(), 1u);  // what came before is kept
  EXPECT_EQ(cut.attachments[0].name, "a.txt");

  std::string bad = s;
  bad[bad.size() - 1] ^= 0x01;  // checksum of attAttachData
  const tnef::Message m = tnef::parse(bad);
  EXPECT_NE(m.problem.find("fails its checksum"), std::string::npos) << m.problem;
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].data, "hello");
}

TEST(TnefParse, DataBeforeRendDataStillBelongsToAnAttachment) {
  std::string s;
  put32(s, 0x223E9F78);
  put16(s, 1);
  tnef_attr(s, 2, 0x0006800F, "orphan");
  const tnef::Message m = tnef::parse(s);
  EXPECT_NE(m.problem.find("before any attAttachRendData"), std::string::npos) << m.problem;
  ASSERT_EQ(m.attachments.size(), 1u);
  EXPECT_EQ(m.attachments[0].data, "orphan");
  EXPECT_EQ(m.attachments[0].name, "");
}

TEST(TnefParse, BodiesAndStoredRtf) {
  const std::string rtf_text = "{\\rtf1 stored}";
  std::string mela;
  put32(mela, static_cast<std::uint32_t>(rtf_text.size() + 12));
  put32(mela, static_cast<std::uint32_t>(rtf_text.size()));
  put32(mela, 0x414C454D);  // "MELA"
  put32(mela, 0);
  mela += rtf_text;
  std::string s;
  put32(s, 0x223E9F78);
  put16(s, 1);
  tnef_attr(s, 1, 0x00069003, msg_props_binary(0x1009, mela));
  const tnef::Message m = tnef::parse(s);
  ASSERT_TRUE(m.rtf_compressed);
  std::string out;
  ASSERT_TRUE(tnef::decompress_rtf(*m.rtf_compressed, 1 << 20, out));
  EXPECT_EQ(out, rtf_text);
  out.clear();
  ASSERT_TRUE(tnef::decompress_rtf(*m.rtf_compressed, 5, out));  // the cap holds
  EXPECT_EQ(out, "{\\rtf");
  out.clear();
  EXPECT_FALSE(tnef::decompress_rtf(mela.substr(0, 15), 1 << 20, out));  // header cut
  std::string other = mela;
  other[8] = 'X';
  EXPECT_FALSE(tnef::decompress_rtf(other, 1 << 20, out));  // neither MELA nor LZFu
}

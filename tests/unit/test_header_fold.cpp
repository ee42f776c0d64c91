// Header folding and subject prefixing for the milter's header edits.
#include <gtest/gtest.h>

#include <sstream>

#include "milter/policy.h"

using emogate::policy::fold_header;
using emogate::policy::prefixed_subject;

namespace {

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string l;
  while (std::getline(ss, l, '\n')) out.push_back(l);
  return out;
}

std::string unfold(std::string s) {
  std::string out;
  for (char c : s)
    if (c != '\n') out += c;
  return out;
}

}  // namespace

TEST(HeaderFold, ShortValueUnchanged) {
  EXPECT_EQ(fold_header("X-Emogate-Verdict", "clean"), "clean");
  EXPECT_EQ(fold_header("X", ""), "");
}

TEST(HeaderFold, LongListFoldsAtSpacesWithinWidth) {
  std::string v;
  for (int i = 0; i < 40; ++i) v += (i ? ", " : "") + std::string("vba_macro@attachment") + std::to_string(i) + ".docm";
  std::string f = fold_header("X-Emogate-Findings", v);
  auto ls = lines(f);
  ASSERT_GT(ls.size(), 5u);
  EXPECT_LE(ls[0].size() + std::string("X-Emogate-Findings: ").size(), 78u);
  for (std::size_t i = 1; i < ls.size(); ++i) {
    EXPECT_LE(ls[i].size(), 78u);
    EXPECT_EQ(ls[i][0], ' ') << "continuation lines start with white space";
  }
  EXPECT_EQ(unfold(f), v) << "unfolding restores the exact value";
}

TEST(HeaderFold, OverlongWordIsCutBelowHardLimit) {
  std::string v = "a " + std::string(3000, 'x');
  std::string f = fold_header("X-Emogate-Findings", v);
  for (const auto& l : lines(f)) EXPECT_LE(l.size(), 998u);
  EXPECT_GE(lines(f).size(), 4u);
}

TEST(HeaderFold, CustomWidth) {
  std::string f = fold_header("N", "aaaa bbbb cccc dddd eeee ffff gggg", 20);
  for (const auto& l : lines(f)) EXPECT_LE(l.size() + 3, 23u);
  EXPECT_EQ(unfold(f), "aaaa bbbb cccc dddd eeee ffff gggg");
}

TEST(SubjectPrefix, AddsOnceAndKeepsLeadingSpace) {
  EXPECT_EQ(prefixed_subject("Invoice 42", "[SUSPICIOUS]"), "[SUSPICIOUS] Invoice 42");
  EXPECT_EQ(prefixed_subject(" Invoice 42", "[SUSPICIOUS]"), " [SUSPICIOUS] Invoice 42");
  EXPECT_EQ(prefixed_subject("[SUSPICIOUS] Invoice", "[SUSPICIOUS]"), "[SUSPICIOUS] Invoice");
  EXPECT_EQ(prefixed_subject("", "[SUSPICIOUS]"), "[SUSPICIOUS]");
  EXPECT_EQ(prefixed_subject("x", ""), "x");
}

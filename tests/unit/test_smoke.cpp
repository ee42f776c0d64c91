// Minimal end-to-end check that the engine runs a message to a verdict.
#include <gtest/gtest.h>

#include "emogate/scanner.h"

TEST(Smoke, PlainMessageIsClean) {
  emogate::Scanner s(emogate::Config{});
  auto r = s.scan_message("Subject: hi\r\n\r\nhello\r\n");
  EXPECT_EQ(r.verdict, emogate::Verdict::clean);
  ASSERT_GE(r.objects.size(), 2u);
  EXPECT_EQ(r.objects[1].path, "body-1.txt");
}

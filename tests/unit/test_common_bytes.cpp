// Pins the shared byte reader and checked little-endian reads of
// src/common/bytes.h.
#include <gtest/gtest.h>

#include <string>

#include "common/bytes.h"

using namespace emogate;

TEST(CommonBytes, LittleEndianReadsAtOffsets) {
  const std::string d("\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
  EXPECT_EQ(le16(d, 0), 0x0201u);
  EXPECT_EQ(le16(d, 7), 0x0908u);
  EXPECT_EQ(le32(d, 1), 0x05040302u);
  EXPECT_EQ(le64(d, 0), 0x0807060504030201ull);
  EXPECT_EQ(le64(d, 1), 0x0908070605040302ull);
  EXPECT_EQ(le32(std::string("\xFF\xFF\xFF\xFF", 4), 0), 0xFFFFFFFFu);
}

TEST(CommonBytes, LittleEndianReadsPastTheEndAreZero) {
  const std::string d("\x01\x02\x03", 3);
  EXPECT_EQ(le16(d, 2), 0u);
  EXPECT_EQ(le16(d, 3), 0u);
  EXPECT_EQ(le32(d, 0), 0u);
  EXPECT_EQ(le64(d, 0), 0u);
  EXPECT_EQ(le32(d, ~std::uint64_t{0}), 0u);  // no wrap-around
  EXPECT_EQ(le16("", 0), 0u);
  EXPECT_TRUE(in_bounds(d, 1, 2));
  EXPECT_FALSE(in_bounds(d, 2, 2));
  EXPECT_FALSE(in_bounds(d, 4, 0));
  EXPECT_TRUE(in_bounds(d, 3, 0));
}

TEST(CommonBytes, Le32BytesRoundTrips) {
  EXPECT_EQ(le32_bytes(0x04030201), std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(le32(le32_bytes(0xDEADBEEF), 0), 0xDEADBEEFu);
}

TEST(CommonBytes, ReaderReadsInOrder) {
  ByteReader r(std::string_view("\x01\x02\x03\x04\x05\x06\x07" "abc", 10));
  EXPECT_EQ(r.u8(), 1u);
  EXPECT_EQ(r.u16(), 0x0302u);
  EXPECT_EQ(r.u32(), 0x07060504u);
  EXPECT_TRUE(r.has(3));
  EXPECT_FALSE(r.has(4));
  EXPECT_EQ(r.bytes(3), "abc");
  EXPECT_EQ(r.left(), 0u);
  EXPECT_EQ(r.pos(), 10u);
  EXPECT_TRUE(r.ok());
}

TEST(CommonBytes, ReaderStaysFailedAfterTheFirstBadRead) {
  const std::string d("\x01\x02\x03\x04", 4);
  ByteReader r(d);
  EXPECT_EQ(r.u16(), 0x0201u);
  EXPECT_EQ(r.u32(), 0u);  // only two bytes left
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.left(), 0u);
  EXPECT_EQ(r.u8(), 0u);
  EXPECT_EQ(r.bytes(0), "");
  EXPECT_FALSE(r.ok());  // a later read that fits does not clear it
  EXPECT_FALSE(r.has(0));

  ByteReader s(d);
  EXPECT_EQ(s.bytes(5), "");
  EXPECT_FALSE(s.ok());
  ByteReader t(d, 5);  // start past the end
  EXPECT_FALSE(t.ok());
  EXPECT_EQ(t.pos(), 4u);
  ByteReader u(d, 2);
  u.skip(2);
  EXPECT_TRUE(u.ok());
  u.skip(1);
  EXPECT_FALSE(u.ok());
}

// Password miner on real-looking mail text (already decoded to UTF-8 by
// the MIME stage; whole-message tests with ISO-2022-JP/Shift_JIS mails are
// in test_encrypted_zip_scan.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "formats/passwords/miner.h"

using namespace emogate;

namespace {

std::vector<PasswordCandidate> mine(const std::string& body, std::string subject = "ご確認ください",
                                    std::size_t max = 100) {
  return mine_passwords({{"Subject", subject, false}, {"text/plain part 1", body, false}}, {"infected"}, max);
}

const PasswordCandidate* find(const std::vector<PasswordCandidate>& c, const std::string& pw) {
  auto it = std::find_if(c.begin(), c.end(), [&](const auto& x) { return x.password == pw; });
  return it == c.end() ? nullptr : &*it;
}

std::size_t index_of(const std::vector<PasswordCandidate>& c, const std::string& pw) {
  for (std::size_t i = 0; i < c.size(); ++i)
    if (c[i].password == pw) return i;
  return c.size();
}

}  // namespace

TEST(PasswordMiner, WidthFolding) {
  EXPECT_EQ(fold_width("ＰＷ：ａｂｃ１２３"), "PW:abc123");
  EXPECT_EQ(fold_width("パス\u3000ワード"), "パス ワード");
  EXPECT_EQ(fold_width("ﾊﾟｽﾜｰﾄﾞ"), "パスワード");
  EXPECT_EQ(fold_width("a\u200Bb"), "ab");
}

TEST(PasswordMiner, JapaneseHaDesuForm) {
  auto c = mine("お世話になっております。\n請求書を添付いたします。\n\n解凍パスワードは Ab3dEf9 です\n");
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c[0].password, "Ab3dEf9");
  EXPECT_EQ(c[0].rank, 0);
  EXPECT_EQ(c[0].source, "text/plain part 1, line 4, after \"解凍パスワード\"");
}

TEST(PasswordMiner, GluedJapaneseAndFullWidth) {
  auto c = mine("パスワードはZz9yy8です。\r\nＰＷ：ａｂｃ１２３\r\n暗証番号「７７８８ab」\r\n");
  EXPECT_EQ(index_of(c, "Zz9yy8"), 0u);
  ASSERT_TRUE(find(c, "abc123"));
  EXPECT_EQ(find(c, "abc123")->source, "text/plain part 1, line 2, after \"PW\"");
  ASSERT_TRUE(find(c, "7788ab"));
  EXPECT_EQ(find(c, "7788ab")->rank, 0);
}

TEST(PasswordMiner, ValueOnTheNextLine) {
  auto c = mine("ZIPファイルのパスワードは下記の通りです。\n\n   Xy7!pq\n");
  ASSERT_TRUE(find(c, "Xy7!pq"));
  EXPECT_EQ(find(c, "Xy7!pq")->rank, 0);
  EXPECT_NE(find(c, "Xy7!pq")->source.find("line 3, line after \"パスワード\""), std::string::npos);
}

TEST(PasswordMiner, OtherLanguages) {
  auto c = mine(
      "Password: en1pass\nDas Passwort lautet: de2pass\nMot de passe : fr3pass\n"
      "La contraseña es: es4pass\nParola d'ordine: it5pass\nSenha: pt6pass\n"
      "解压密码：zh7pass\n密碼: tw8pass\n비밀번호는 ko9pass 입니다\npwd=x0pass\n");
  for (const char* pw : {"en1pass", "de2pass", "fr3pass", "es4pass", "it5pass", "pt6pass", "zh7pass",
                         "tw8pass", "ko9pass", "x0pass"}) {
    ASSERT_TRUE(find(c, pw)) << pw;
    EXPECT_EQ(find(c, pw)->rank, 0) << pw;
  }
}

TEST(PasswordMiner, KeywordsInsideWordsDoNotCount) {
  auto c = mine("We bypass the compass at the passport office.\n");
  for (const auto& x : c) EXPECT_NE(x.rank, 0) << x.password;
}

TEST(PasswordMiner, RanksAndCap) {
  std::string body = "添付ファイルをご確認ください 「Qq1234」\n";
  for (int i = 0; i < 200; ++i) body += "token" + std::to_string(i) + " ";
  auto c = mine(body, "件名", 50);
  EXPECT_EQ(c.size(), 50u);
  EXPECT_EQ(c[0].password, "Qq1234");
  EXPECT_EQ(c[0].rank, 1);
  for (std::size_t i = 1; i < c.size(); ++i) EXPECT_GE(c[i].rank, c[i - 1].rank);
  auto all = mine("nothing here\n");
  ASSERT_TRUE(find(all, "infected"));
  EXPECT_EQ(find(all, "infected")->rank, 3);
  EXPECT_EQ(find(all, "nothing")->rank, 2);
}

TEST(PasswordMiner, SubjectIsMined) {
  auto c = mine("本文\n", "請求書 PW:sub9ject");
  ASSERT_TRUE(find(c, "sub9ject"));
  EXPECT_EQ(find(c, "sub9ject")->source, "Subject, line 1, after \"PW\"");
}

TEST(PasswordMiner, EncodingsAndMask) {
  EXPECT_EQ(password_encodings("abc").size(), 1u);
  auto e = password_encodings("パス12");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0], "パス12");
  EXPECT_EQ(e[1], "\x83\x70\x83\x58" "12");  // CP932
  EXPECT_EQ(mask_password("Ab3dEf9"), "Ab*****");
  EXPECT_EQ(mask_password("パスワード12"), "パス*****");
  EXPECT_EQ(mask_password("ab"), "**");
}

TEST(PasswordMiner, HostileTextStaysBounded) {
  std::string junk;
  for (int i = 0; i < 20000; ++i) junk += "パスワード:\xff\xfe「『\n";
  auto c = mine(junk + std::string(100000, 'a'), std::string(5000, '\x80'), 100);
  EXPECT_LE(c.size(), 100u);
}

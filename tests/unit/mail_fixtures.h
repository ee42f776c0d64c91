// Test fixtures: RFC 5322 messages built in code, with bodies in the
// charsets Japanese mail really uses (ISO-2022-JP, Shift_JIS).
#pragma once

#include <iconv.h>
#include <openssl/evp.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace emogate::test {

inline std::string convert(std::string_view utf8, const char* to) {
  iconv_t cd = iconv_open(to, "UTF-8");
  if (cd == reinterpret_cast<iconv_t>(-1)) throw std::runtime_error("iconv_open");
  std::string in(utf8), out(in.size() * 4 + 16, '\0');
  char* ip = in.data();
  char* op = out.data();
  size_t il = in.size(), ol = out.size();
  if (iconv(cd, &ip, &il, &op, &ol) == static_cast<size_t>(-1)) throw std::runtime_error("iconv");
  iconv(cd, nullptr, nullptr, &op, &ol);  // ISO-2022-JP: shift back to ASCII
  iconv_close(cd);
  out.resize(out.size() - ol);
  return out;
}

inline std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  std::string wrapped;
  for (size_t i = 0; i < out.size(); i += 76) wrapped += out.substr(i, 76) + "\r\n";
  return wrapped;
}

struct MailPart {
  std::string content_type;  // full value, e.g. "text/plain; charset=ISO-2022-JP"
  std::string body;          // already in the declared charset
  std::string filename;      // attachment name (UTF-8, RFC 2231-encoded here); empty = inline text
};

inline std::string make_mail(const std::string& subject_header, const std::vector<MailPart>& parts) {
  std::string m = "From: sender@example.co.jp\r\nTo: user@example.jp\r\nSubject: " + subject_header +
                  "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n";
  for (const auto& p : parts) {
    m += "--b1\r\nContent-Type: " + p.content_type + "\r\nContent-Transfer-Encoding: base64\r\n";
    if (!p.filename.empty()) {
      std::string enc;
      for (unsigned char c : p.filename) {
        static const char* hex = "0123456789ABCDEF";
        if (isalnum(c) || c == '.') enc += static_cast<char>(c);
        else { enc += '%'; enc += hex[c >> 4]; enc += hex[c & 15]; }
      }
      m += "Content-Disposition: attachment; filename*=UTF-8''" + enc + "\r\n";
    }
    m += "\r\n" + base64(p.body);
  }
  return m + "--b1--\r\n";
}

}  // namespace emogate::test

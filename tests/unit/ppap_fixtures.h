// Test fixtures for PPAP: hand-written ZipCrypto archives (with and without
// a data descriptor, which libzip does not let a caller choose), a .docm
// whose VBA runs a shell on open, and the two mails of a PPAP pair.
#pragma once

#include <zlib.h>

#include <string>

#include "formats/zip/password.h"
#include "unit/mail_fixtures.h"
#include "unit/ovba_builder.h"
#include "unit/zip_fixtures.h"

namespace emogate::test {

// One stored ZipCrypto member. With `descriptor`, general-purpose bit 3 is
// set, the local header's CRC and sizes are zero, a data descriptor follows
// the data and the header's check byte is the DOS time's high byte;
// without, the check byte is the CRC's high byte.
inline std::string zipcrypto_stored_zip(const std::string& name, const std::string& data, const std::string& password,
                                        bool descriptor) {
  const std::uint32_t crc =
      static_cast<std::uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  const std::uint16_t dos_time = 0x7A3C, dos_date = 0x5A21;
  const std::uint16_t flags = descriptor ? 9 : 1;
  std::string plain = "0123456789A";  // 11 header bytes, then the check byte
  plain += static_cast<char>(descriptor ? dos_time >> 8 : crc >> 24);
  plain += data;
  emogate::zip::ZipCryptoKeys keys(password);
  std::string enc;
  for (char c : plain) enc += static_cast<char>(keys.encrypt(static_cast<std::uint8_t>(c)));
  const auto size = static_cast<std::uint32_t>(enc.size());
  std::string out;
  put32(out, 0x04034b50); put16(out, 20); put16(out, flags); put16(out, 0); put16(out, dos_time); put16(out, dos_date);
  put32(out, descriptor ? 0 : crc); put32(out, descriptor ? 0 : size);
  put32(out, descriptor ? 0 : static_cast<std::uint32_t>(data.size()));
  put16(out, static_cast<std::uint32_t>(name.size())); put16(out, 0);
  out += name + enc;
  if (descriptor) {
    put32(out, 0x08074b50); put32(out, crc); put32(out, size); put32(out, static_cast<std::uint32_t>(data.size()));
  }
  std::string cd;
  put32(cd, 0x02014b50); put16(cd, 20); put16(cd, 20); put16(cd, flags); put16(cd, 0); put16(cd, dos_time);
  put16(cd, dos_date); put32(cd, crc); put32(cd, size); put32(cd, static_cast<std::uint32_t>(data.size()));
  put16(cd, static_cast<std::uint32_t>(name.size())); put16(cd, 0); put16(cd, 0); put16(cd, 0); put16(cd, 0);
  put32(cd, 0); put32(cd, 0);
  cd += name;
  const auto cd_off = static_cast<std::uint32_t>(out.size());
  out += cd;
  put32(out, 0x06054b50); put16(out, 0); put16(out, 0); put16(out, 1); put16(out, 1);
  put32(out, static_cast<std::uint32_t>(cd.size())); put32(out, cd_off); put16(out, 0);
  return out;
}

// A .docm (macro-enabled Word package) whose VBA runs a hidden PowerShell
// when the document opens; without `macro`, a plain .docx.
inline std::string word_package(bool macro) {
  const std::string types =
      std::string("<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
                  "<Default Extension=\"xml\" ContentType=\"application/xml\"/>") +
      (macro ? "<Override PartName=\"/word/document.xml\" "
               "ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
               "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
             : "<Override PartName=\"/word/document.xml\" "
               "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>") +
      "</Types>";
  const std::string doc =
      "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
      "<w:body><w:p><w:r><w:t>見積書</w:t></w:r></w:p></w:body></w:document>";
  std::vector<ZipMember> parts = {{"[Content_Types].xml", types, ZIP_EM_NONE, ""}, {"word/document.xml", doc, ZIP_EM_NONE, ""}};
  if (macro)
    parts.push_back({"word/vbaProject.bin",
                     vba_project_bin("NewMacros", "Sub AutoOpen()\r\n  Shell \"powershell -w hidden -c iex\"\r\nEnd Sub\r\n"),
                     ZIP_EM_NONE, ""});
  return make_zip(parts);
}

// A Subject as an RFC 2047 UTF-8 encoded word.
inline std::string utf8_subject(const std::string& utf8) {
  const std::string b = base64(utf8);
  return "=?UTF-8?B?" + b.substr(0, b.size() - 2) + "?=";
}

// Mail 1 of a pair: an encrypted archive, no password in the text.
inline std::string ppap_archive_mail(const std::string& zip, const std::string& zip_name = "mitsumori.zip") {
  return make_mail(utf8_subject("お見積書の送付"),
                   {{"text/plain; charset=ISO-2022-JP",
                     convert("お見積書を送付いたします。\nパスワードは別途お送りします。\n", "ISO-2022-JP"), ""},
                    {"application/zip", zip, zip_name}});
}

// Mail 2 of a pair: a password notice, its body in ISO-2022-JP.
inline std::string ppap_password_mail(const std::string& body_utf8,
                                      const std::string& subject = "【パスワード通知】お見積書の送付") {
  return make_mail(utf8_subject(subject), {{"text/plain; charset=ISO-2022-JP", convert(body_utf8, "ISO-2022-JP"), ""}});
}

}  // namespace emogate::test

// Test fixtures built in code: messages and ZIP archives (report lookups
// are in findings.h).
#pragma once

#include <zip.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "emogate/config.h"
#include "emogate/report.h"
#include "emogate/scanner.h"
#include "unit/findings.h"

namespace emogate::test {

inline std::string base64(std::string_view in, bool wrap = true) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t line = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<unsigned char>(in[i + 2]);
    out += a[(v >> 18) & 63];
    out += a[(v >> 12) & 63];
    out += i + 1 < in.size() ? a[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? a[v & 63] : '=';
    if (wrap && (line += 4) >= 76) out += "\r\n", line = 0;
  }
  return out;
}

// A ZIP archive in memory. level: deflate level (0 = stored).
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& members,
                            const char* password = nullptr, zip_uint16_t em = ZIP_EM_NONE) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
  zip_source_keep(src);
  zip_t* z = zip_open_from_source(src, ZIP_TRUNCATE, &err);
  for (const auto& [name, data] : members) {
    zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
    zip_int64_t idx = zip_file_add(z, name.c_str(), s, ZIP_FL_ENC_UTF_8);
    if (password) zip_file_set_encryption(z, static_cast<zip_uint64_t>(idx), em, password);
  }
  zip_close(z);
  zip_source_open(src);
  zip_source_seek(src, 0, SEEK_END);
  zip_int64_t size = zip_source_tell(src);
  zip_source_seek(src, 0, SEEK_SET);
  std::string out(static_cast<size_t>(size), '\0');
  zip_source_read(src, out.data(), static_cast<zip_uint64_t>(size));
  zip_source_close(src);
  zip_source_free(src);
  return out;
}

// A harmless PE-looking file: DOS header pointing at a PE signature.
inline std::string fake_pe() {
  std::string pe(512, '\0');
  pe[0] = 'M', pe[1] = 'Z';
  pe[0x3c] = static_cast<char>(0x80);
  pe.replace(0x80, 4, std::string("PE\0\0", 4));
  return pe;
}

struct Part {
  std::string headers;  // without trailing blank line
  std::string body;
};

inline std::string multipart(const std::string& top_headers, const std::vector<Part>& parts,
                             const std::string& boundary = "=_b_") {
  std::string m = top_headers + "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" +
                  boundary + "\"\r\n\r\n";
  for (const Part& p : parts) m += "--" + boundary + "\r\n" + p.headers + "\r\n\r\n" + p.body + "\r\n";
  m += "--" + boundary + "--\r\n";
  return m;
}

inline Part attachment(const std::string& filename_header_value, const std::string& data,
                       const std::string& type = "application/octet-stream") {
  return Part{"Content-Type: " + type + "\r\nContent-Disposition: attachment; filename" +
                  filename_header_value + "\r\nContent-Transfer-Encoding: base64",
              base64(data)};
}

}  // namespace emogate::test

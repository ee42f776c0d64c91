// PowerPoint storages, zlib inflation and ZIP packages inside OLE2 streams;
// see stream_content.h.
// Trusted input: none.
#include "formats/ole2/stream_content.h"

#include <zlib.h>

#include <algorithm>

#include "common/bytes.h"
#include "common/text.h"
#include "formats/xls/biff.h"
#include "formats/zip/directory.h"

namespace emogate::ole2 {


// Top-level records: 8-byte header (version/instance, type, length).
std::vector<PptStorage> ppt_storages(std::string_view s) {
  std::vector<PptStorage> out;
  for (std::size_t pos = 0; pos + 8 <= s.size();) {
    const unsigned ver_inst = le16(s, pos);
    const unsigned type = le16(s, pos + 2);
    const std::uint32_t len = le32(s, pos + 4);
    if (len > s.size() - pos - 8) break;
    const std::string_view body = s.substr(pos + 8, len);
    pos += 8 + static_cast<std::size_t>(len);
    if (type != 0x1011) continue;
    PptStorage st;
    st.compressed = (ver_inst >> 4) == 1;  // instance 0: stored uncompressed
    if (!st.compressed) {
      st.data = body;
    } else if (body.size() < 4) {
      st.truncated = true;
    } else {
      st.declared_size = le32(body, 0);
      st.data = body.substr(4);
    }
    out.push_back(st);
  }
  return out;
}

bool inflate_zlib(std::string_view in, std::uint64_t expected, const std::function<bool(std::string_view)>& sink) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 0x7FFFFFFF));
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    const std::size_t got = sizeof buf - z.avail_out;
    if (got && !sink(std::string_view(buf, got))) break;
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END || rc == Z_OK || z.total_out >= expected;
}

StreamPackages stream_packages(std::string_view stream_path, std::string_view stream, std::uint64_t max_entries) {
  StreamPackages out;
  const std::string lower = ascii_lower(stream_path);
  if (lower == "workbook" || lower == "book") {
    out.theme = xlm::theme_package(stream);
    if (!out.theme.empty()) return out;
  }
  std::string_view rest = stream;
  for (int n = 1; n <= kMaxStreamPackages && !rest.empty(); ++n) {
    const zip::Directory dir = zip::read_directory(rest, max_entries);
    if (!dir.found || !dir.problems.empty() || dir.prefix >= rest.size()) break;
    const std::string_view zip = rest.substr(dir.prefix, rest.size() - dir.prefix - dir.trailing);
    if (!zip.starts_with("PK\x03\x04")) break;
    out.trailing.push_back(zip);
    rest = rest.substr(0, dir.prefix);
  }
  return out;
}

std::optional<NativePackage> ole10native(std::string_view stream) {
  if (stream.size() < 4) return std::nullopt;
  NativePackage n;
  n.package = rtf::parse_package(stream.substr(4));
  if (!n.package.ok) return std::nullopt;
  n.source = n.package.source_path.empty() ? n.package.temp_path : n.package.source_path;
  const std::string& from = n.source.empty() ? n.package.label : n.source;
  const std::size_t slash = from.find_last_of("\\/");
  n.file = slash == std::string::npos ? from : from.substr(slash + 1);
  return n;
}

}  // namespace emogate::ole2

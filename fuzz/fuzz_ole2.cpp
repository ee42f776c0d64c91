// libFuzzer target: the OLE2 reader, every stream, VBA project discovery and
// reading (dir stream, module sources, p-code comparison), the
// EncryptionInfo parser and PowerPoint's encryption records, the content
// of streams (PowerPoint storages, ZIP packages, OLE1 packages), then the OLE2
// and encrypted-document extractors through a scan context, on arbitrary
// bytes.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/office_crypto/office_crypto.h"
#include "formats/ole2/reader.h"
#include "formats/ole2/stream_content.h"
#include "formats/vba/ovba.h"
#include "extractor_harness.h"

namespace emogate {
std::unique_ptr<Module> make_ole2_module();
std::unique_ptr<Module> make_ole2_encrypted_module();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace emogate;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ole2::Ole2File f = ole2::Ole2File::open(bytes);
  for (const auto& e : f.entries()) {
    std::string problem;
    f.read_stream(e, 1 << 20, &problem);
    f.children(&e);
  }
  for (const auto& where : ovba::find_projects(f)) ovba::read_project(f, where, 1 << 20);
  if (const auto* ppt = f.find("PowerPoint Document")) {
    const auto* user = f.find("Current User");
    office_crypto::ppt_encryption(user ? f.read_stream(*user, 4096) : std::string(), f.read_stream(*ppt, 1 << 20));
  }
  // The same records straight from the input (a Current User atom first).
  office_crypto::ppt_encryption(bytes.substr(0, std::min<std::size_t>(bytes.size(), 64)), bytes);
  if (const auto* info = f.find("EncryptionInfo")) {
    const auto parsed = office_crypto::parse_encryption_info(f.read_stream(*info, 1 << 16));
    office_crypto::describe(parsed);
  }
  // What streams carry, straight from the input: PowerPoint storages (each
  // inflated up to 4 MiB), ZIP packages and an Ole10Native package.
  for (const auto& st : ole2::ppt_storages(bytes)) {
    std::size_t total = 0;
    ole2::inflate_zlib(st.data, st.declared_size, [&total](std::string_view piece) {
      total += piece.size();
      return total < (4u << 20);
    });
  }
  ole2::stream_packages("Workbook", bytes, 100);
  ole2::stream_packages("PowerPoint Document", bytes, 100);
  ole2::ole10native(bytes);
  // The extractors end to end: streams as children, OLE1 packages, ZIP
  // packages inside streams, PowerPoint storages, encryption checks.
  static const auto ole2 = make_ole2_module();
  static const auto encrypted = make_ole2_encrypted_module();
  fuzz::run_module(*ole2, bytes, emogate::tag::ole2);
  fuzz::run_module(*encrypted, bytes, emogate::tag::ole2);
  return 0;
}

// RTF embedded-object extraction (modules/rtf.cpp): \objdata hex payloads
// with the obfuscations RTF readers accept, decoded into OLE1 objects
// ([MS-OLEDS] 2.2 ObjectHeader / EmbeddedObject) and OLE1 Package contents.
// Pure functions here so that the fuzzer and the tests reach them without an
// engine.
// Trusted input: none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace emogate::rtf {

// The decoded bytes of every \objdata destination, in document order. Hex
// digits are collected at any nesting depth inside the destination; control
// words (and their numeric parameters) and \'hh escapes are skipped; \binN
// contributes N raw bytes; whitespace is ignored; an odd final nibble is
// dropped. At most `max_objects` objects and `max_bytes` bytes in total.
std::vector<std::string> objdata(std::string_view doc, std::size_t max_objects = 256,
                                 std::size_t max_bytes = std::size_t(1) << 30);

struct Ole1Object {
  bool ok = false;        // an OLE1 ObjectHeader was recognised
  std::uint32_t format = 0;  // 1 linked, 2 embedded, 5 static
  std::string class_name, topic, item;
  std::string_view native;  // NativeData (view into the objdata bytes)
  bool native_truncated = false;  // its size field is larger than what follows
};
Ole1Object parse_ole1(std::string_view data);

struct Package {
  bool ok = false;
  std::string label, source_path, temp_path;
  std::string_view data;           // what the native data holds, at most declared_size
  std::uint32_t declared_size = 0;  // the data-size field
  bool truncated = false;           // declared_size is larger than what follows
};
// OLE1 "Package" native data: a file carried inside the document. Shared by
// RTF \objdata objects and OLE2 \x01Ole10Native streams (whose 4-byte size
// prefix the caller strips). A data size larger than the bytes present is
// reported through `truncated`; `data` then holds what there is.
Package parse_package(std::string_view native);

// URLs of HYPERLINK and INCLUDEPICTURE field instructions.
std::vector<std::string> field_urls(std::string_view doc, std::size_t max_urls = 1000);

}  // namespace emogate::rtf

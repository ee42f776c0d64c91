// What the libarchive module decides about single entries, as plain data:
// the name a bare compressed stream's content gets, whether a link leaves
// the archive's tree, how a link target and an odd entry type are shown,
// and the encrypted-entries summary. The module turns these into children
// and findings.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate {

// "report.doc.gz" -> "report.doc", "x.tgz" -> "x.tar", no extension ->
// "data": the name a decompressor would give the content.
std::string stream_name(std::string_view object_name);

// A link target that leaves the archive's tree (absolute, drive letter,
// or a ".." component).
bool link_escapes(std::string_view target);

// A link target as stored (UTF-8 or CP932 read as such), not sanitized,
// cut at 255 bytes: "../../etc/passwd" is the evidence.
std::string link_target_text(std::string_view raw);

// "FIFO", "character device", "block device", "socket", "directory" for
// libarchive's file type bits; nullptr for any other type.
const char* odd_type_name(unsigned filetype);

// "a FIFO (mode 010644)" or "of an unknown type (mode 170000)".
std::string odd_type_text(unsigned filetype, unsigned mode);

// "N encrypted <type> entr(y|ies) not opened: a, b, ..." (20 listed).
std::string locked_summary(std::string_view type, const std::vector<std::string>& locked);

}  // namespace emogate

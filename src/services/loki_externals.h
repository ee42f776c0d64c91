// The values the LOKI scanner gives its YARA externals (filename, filepath,
// extension, filetype), computed for an object of a message instead of a
// file on disk, so that rule sets written for LOKI (Neo23x0's
// signature-base) see what they were written against.
// Trusted input: none (names and bytes come from the message).
#pragma once

#include <string>
#include <string_view>

namespace emogate {

// LOKI's file type name for bytes starting with `head`: the first entry of
// its magic table (signature-base misc/file-type-signatures.txt, in file
// order) that is a prefix of `head`, e.g. "EXE", "OLE", "ZIP", "RTF";
// "UNKNOWN" when none is.
std::string_view loki_filetype(std::string_view head);

// Whether LOKI's default (not "intense") scan hands a file to YARA: yes
// unless its type is "UNKNOWN" and its extension (as loki_extension) is not
// one of LOKI's extensions of interest. LOKI also skips files over its size limit
// (-s, 5,000 KB by default); that limit is not applied here.
bool loki_scans(std::string_view filetype, std::string_view extension);

// LOKI's `extension` for a base name: Python's os.path.splitext()[1]
// lower-cased, so with the dot (".exe"); "" when the name has no dot after
// its leading dots (".bashrc" -> "", "a.tar.gz" -> ".gz", "a." -> ".").
std::string loki_extension(std::string_view base);

// The folder part of a name inside its container ("dir/sub/x.exe" ->
// "dir/sub"; "x.exe" -> ""); both '/' and '\' separate.
std::string folder_part(std::string_view name);

}  // namespace emogate

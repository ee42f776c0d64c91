// OneNote section files ([MS-ONESTORE]): the embedded files of a section are
// FileDataStoreObject structures (2.6.13): header GUID, 64-bit length,
// reserved fields, the file's bytes, footer GUID. Pure functions for the
// module (modules/onenote.cpp), tests and the fuzzer.
// Trusted input: none.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace emogate::onenote {

// Each FileDataStoreObject's data, in file order, at most `max` of them.
// A length running past the end of the file is cut to what is there.
std::vector<std::string_view> file_blobs(std::string_view file, std::size_t max = 4096);

// File names of embedded files: EmbeddedFileName values are stored as a
// 32-bit byte count followed by UTF-16LE text. Candidates are strings of that
// shape that look like "name.ext"; used as evidence (child names), never to
// decide a type.
std::vector<std::string> file_names(std::string_view file, std::size_t max = 4096);

// Pairs blobs with names: picture blobs (recognised by signature) carry no
// name, the remaining blobs are matched in order when the counts agree.
// Returns one name per blob ("" when unknown).
std::vector<std::string> pair_names(const std::vector<std::string_view>& blobs,
                                    const std::vector<std::string>& names);

// PNG, JPEG, GIF, BMP, EMF or WMF by signature: inserted pictures.
bool is_picture(std::string_view blob);

}  // namespace emogate::onenote

// Containers read through libarchive (gzip, bzip2, xz, tar, 7z, RAR 4/5,
// CAB, LZH/LHA, ISO 9660; UDF images through their ISO 9660 bridge) and
// Outlook TNEF (winmail.dat) through libytnef. Entries become children;
// encrypted 7z/RAR entries give encrypted_archive with their names and sizes.
// Trusted input: none; sizes in headers are never used to allocate.
#pragma once

#include "engine/module.h"

namespace emogate {

class LibarchiveExtractor : public Extractor {
 public:
  std::string_view name() const override { return "libarchive"; }
  std::vector<std::string> types() const override {
    return {"gzip", "bzip2", "xz", "tar", "7z", "rar", "cab", "lzh", "iso", "udf"};
  }
  void extract(const Object& obj, ScanContext& ctx) const override;
};

class TnefExtractor : public Extractor {
 public:
  std::string_view name() const override { return "tnef"; }
  std::vector<std::string> types() const override { return {"tnef"}; }
  void extract(const Object& obj, ScanContext& ctx) const override;
};

}  // namespace emogate

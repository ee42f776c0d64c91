// Detector for Excel 4.0 macros and FILEPASS encryption in the Workbook (or
// BIFF5 Book) stream of an OLE2 file. Input trusted: none.
#pragma once

#include <memory>

#include "engine/module.h"

namespace emogate {

class XlmBiffDetector : public Detector {
 public:
  std::string_view name() const override { return "xlm_biff"; }
  std::vector<std::string> types() const override { return {"*"}; }
  // The stream child of an OLE2 object named Workbook or Book.
  bool accepts(const Object& obj) const override;
  void detect(const Object& obj, ScanContext& ctx) const override;
};

}  // namespace emogate

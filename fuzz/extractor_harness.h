// Shared by the archive and OLE2 fuzz targets: runs one module on one object in a
// fresh ScanContext with small limits, then drops the children.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "engine/context.h"
#include "engine/module.h"

namespace emogate::fuzz {

inline void run_module(const Module& ex, std::string_view bytes, const std::string& type,
                          std::string_view mail_text = {}) {
  static const Config cfg = [] {
    Config c;
    c.limits.max_object_size = 4u << 20;
    c.limits.max_extracted_bytes = 16u << 20;
    c.limits.max_object_memory = 1u << 20;
    c.limits.max_objects = 200;
    c.limits.max_kdf_rounds = 20000;  // a few password tries, so runs stay fast
    return c;
  }();
  static const ServiceSet services;
  static const Envelope env;
  Report report;
  ScanContext ctx(cfg, services, env, report, std::chrono::steady_clock::now() + std::chrono::seconds(5));
  if (!mail_text.empty()) ctx.add_text(TextPart{"text/plain part 1", std::string(mail_text), false});
  Object obj;
  obj.path = obj.name = "fuzz." + type;
  obj.type = type;
  obj.data = Blob::borrow(bytes);
  obj.sha256 = "0";
  ctx.count_root();
  ex.run(obj, ctx);
  for (auto& child : ctx.pending()) (void)child->bytes().size();
}

}  // namespace emogate::fuzz

// The module interface (engine/module.h): on each object the engine runs
// every inspect-phase module before any expand-phase one, whatever the
// registry order, and each phase in registry order.
#include <gtest/gtest.h>

#include "engine/context.h"
#include "engine/engine.h"

using namespace emogate;

namespace {

class Marker : public Module {
 public:
  Marker(Phase phase, std::string label) : phase_(phase), label_(std::move(label)) {}
  Phase phase() const override { return phase_; }
  std::string_view name() const override { return label_; }
  std::vector<std::string> types() const override { return {"*"}; }
  void run(const Object& obj, ScanContext& ctx) const override {
    ctx.add_finding(FindingType::embedded_file, obj, label_, Verdict::suspicious);
  }

 private:
  Phase phase_;
  std::string label_;
};

}  // namespace

TEST(ModulePhase, InspectRunsBeforeExpandInRegistryOrder) {
  Registry reg;
  reg.modules.push_back(std::make_unique<Marker>(Phase::expand, "expand-1"));
  reg.modules.push_back(std::make_unique<Marker>(Phase::inspect, "inspect-1"));
  reg.modules.push_back(std::make_unique<Marker>(Phase::expand, "expand-2"));
  reg.modules.push_back(std::make_unique<Marker>(Phase::inspect, "inspect-2"));
  ScannerState st;
  st.registry = &reg;
  auto root = std::make_unique<Object>();
  root->name = root->path = "file.bin";
  const std::string bytes = "plain text";
  root->data = Blob::borrow(bytes);
  const Report r = run_scan(st, std::move(root), {}, "file.bin");
  std::vector<std::string> order;
  for (const auto& f : r.findings) order.push_back(f.detail);
  EXPECT_EQ(order, (std::vector<std::string>{"inspect-1", "inspect-2", "expand-1", "expand-2"}));
}

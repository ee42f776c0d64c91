// dangerous_type: executables, scripts, shortcuts and disk images. The true
// type decides for formats with a signature (the type table's `dangerous`
// column: PE, ELF, Mach-O, ISO, UDF, VHD); scripts have no signature, so for
// them the declared name is the evidence, and the detail says which one it
// was. Shortcuts (.lnk) are left to the LNK detector, which can also read
// their command line.
// Trusted input: none.
#include <algorithm>
#include <array>
#include <span>

#include "engine/context.h"
#include "engine/module.h"

namespace emogate {

namespace {

struct Kind {
  std::string_view key;
  std::string_view what;
};

constexpr Kind kByExtension[] = {
    {"exe", "executable"}, {"dll", "library"},       {"scr", "screen saver executable"},
    {"com", "DOS executable"}, {"pif", "program information file"}, {"cpl", "control panel item"},
    {"msi", "Windows installer"}, {"msc", "management console file"}, {"jar", "Java archive"},
    {"js", "JScript"}, {"jse", "encoded JScript"}, {"vbs", "VBScript"}, {"vbe", "encoded VBScript"},
    {"wsf", "Windows Script File"}, {"wsh", "Windows Script Host settings"},
    {"hta", "HTML application"}, {"ps1", "PowerShell script"}, {"bat", "batch file"},
    {"cmd", "command script"}, {"lnk", "shortcut"}, {"iso", "disk image"},
    {"img", "disk image"}, {"vhd", "virtual disk"}, {"vhdx", "virtual disk"},
    {"chm", "compiled HTML help"}, {"xll", "Excel add-in DLL"},
};

const Kind* find(std::span<const Kind> kinds, std::string_view key) {
  for (const Kind& k : kinds)
    if (k.key == key) return &k;
  return nullptr;
}

class TypeDetector : public Module {
 public:
  Phase phase() const override { return Phase::inspect; }
  std::string_view name() const override { return "dangerous_type"; }
  std::vector<std::string> types() const override { return {tag::any}; }
  bool accepts(const Object& obj) const override {
    // Our own derived text carries names we made up; a shortcut is the LNK
    // detector's.
    return !obj.derived && obj.type != tag::lnk && obj.type != tag::email;
  }

  void run(const Object& obj, ScanContext& ctx) const override {
    std::string ext = obj.extension();
    if (const TypeSpec* t = find_type(obj.type); t && !t->dangerous.empty()) {
      std::string detail = std::string(t->dangerous) + " by content";
      if (!obj.magic.empty()) detail += " (" + obj.magic.substr(0, 120) + ")";
      if (!ext.empty() && !find(kByExtension, ext)) detail += ", disguised as ." + ext;
      ctx.add_finding(FindingType::dangerous_type, obj, detail);
      return;
    }
    if (ext.empty()) return;
    if (const Kind* k = find(kByExtension, ext)) {
      // A container the engine opens (zip, OLE2, ...) named .exe is still
      // worth a finding: nobody mails a real document with that name.
      ctx.add_finding(FindingType::dangerous_type, obj,
                      std::string(k->what) + " by name (." + ext + "; content: " + obj.type + ")");
    }
  }
};

}  // namespace

std::unique_ptr<Module> make_type_module() { return std::make_unique<TypeDetector>(); }

}  // namespace emogate

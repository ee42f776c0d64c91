// See mta_check.h.
// Trusted input: admin files, as text.
#include "config/mta_check.h"

#include <filesystem>
#include <fstream>

#include "common/text.h"

namespace emogate::mta {

std::string normal_host(std::string_view h) {
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::string s = ascii_lower(h);
  if (s == "localhost" || s == "::1" || s == "127.0.0.1") return "loopback";
  if (s == "0.0.0.0" || s == "::" || s == "*") return "";
  return s;
}

MilterSocket parse_libmilter_socket(std::string_view spec) {
  MilterSocket e;
  spec = trim(spec, " \t");
  const std::size_t colon = spec.find(':');
  const std::string_view proto = colon == std::string_view::npos ? "unix" : spec.substr(0, colon);
  const std::string_view rest = colon == std::string_view::npos ? spec : spec.substr(colon + 1);
  if (proto == "unix" || proto == "local") {
    e.unix_socket = true;
    e.path.assign(rest);
    return e;
  }
  const std::size_t at = rest.find('@');
  e.port.assign(rest.substr(0, at));
  if (at != std::string_view::npos) e.host = normal_host(rest.substr(at + 1));
  return e;
}

bool reaches(const MilterSocket& address, const MilterSocket& listener) {
  if (address.unix_socket != listener.unix_socket) return false;
  if (listener.unix_socket)
    return !address.path.empty() && std::filesystem::path(address.path).lexically_normal() ==
                                        std::filesystem::path(listener.path).lexically_normal();
  return !address.port.empty() && address.port == listener.port &&
         (listener.host.empty() || address.host == listener.host);
}

std::string read_config_text(const std::string& path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = static_cast<bool>(in);
  std::string text;
  if (!ok) return text;
  text.resize(kMaxFileBytes);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  ok = !in.bad();
  return text;
}

void for_each_logical_line(std::string_view text, bool indented_comments,
                           const std::function<void(std::string_view, std::size_t)>& fn) {
  std::string cur;
  std::size_t cur_line = 0, lineno = 0, pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    const std::string_view body = trim(line, " \t\r");
    if (body.empty() || line.front() == '#' || (indented_comments && body.front() == '#')) continue;
    if ((line.front() == ' ' || line.front() == '\t') && cur_line) {
      cur += ' ';
      cur += body;
      continue;
    }
    if (cur_line) fn(cur, cur_line);
    cur.assign(body);
    cur_line = lineno;
  }
  if (cur_line) fn(cur, cur_line);
}

std::optional<std::uint64_t> parse_bytes(std::string_view value) {
  value = trim(value, " \t");
  if (value.empty() || value.size() > 19 || value.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t n = 0;
  for (char c : value) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  return n;
}

void Report::warn(std::string file, std::size_t line, std::string text) {
  for (const Finding& f : warnings)
    if (f.file == file && f.line == line && f.text == text) return;
  warnings.push_back(Finding{std::move(file), line, std::move(text)});
}

}  // namespace emogate::mta

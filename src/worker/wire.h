// The daemon <-> scan worker protocol: length-prefixed frames over a
// stream socketpair, the message's descriptor passed with SCM_RIGHTS, and a
// compact binary form of the scan request and of the Report.
// A worker may be compromised by what it parsed, so the daemon decodes its
// answers with every length and enum checked.
// Trusted input: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "emogate/report.h"
#include "emogate/scanner.h"

namespace emogate::wire {

// Frame types (first payload byte).
constexpr char kReady = 'R';    // worker -> daemon: sandbox entered, waiting
constexpr char kFailed = 'E';   // worker -> daemon: could not start (text)
constexpr char kRequest = 'Q';  // daemon -> worker: scan this (+ fd)
constexpr char kAnswer = 'A';   // worker -> daemon: the Report

// Largest frame either side accepts (a report lists at most max_objects).
constexpr std::uint32_t kMaxFrame = 256u << 20;

struct Request {
  bool message = true;  // false: one file scanned as an attachment named `name`
  std::uint64_t bytes = 0;  // the input: this many bytes from the passed descriptor's start
  std::string name;
  Envelope env;
  ScanOptions opts;
};

std::string encode(const Request& r);
bool decode(std::string_view in, Request& r);
std::string encode(const Report& r);
bool decode(std::string_view in, Report& r);

// Sends one frame (type byte + body), with `fd` attached when >= 0.
// Blocking; false on any error (errno set).
bool send_frame(int sock, char type, std::string_view body, int fd = -1);

enum class Recv { ok, eof, error, timeout };
// Reads one frame. `fd` (may be null) receives a passed descriptor or -1;
// without a deadline it blocks. `type` gets the type byte, `body` the rest.
Recv recv_frame(int sock, char& type, std::string& body, int* fd,
                std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

}  // namespace emogate::wire

// The scan worker's sandbox: resource limits, a privilege drop when the
// process is root, PR_SET_NO_NEW_PRIVS and a seccomp-bpf allow-list.
// README "Worker processes" lists what the allow-list lets through and why.
// It never sees message content.
// Trusted input: the settings from the configuration.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace emogate {

struct SandboxSettings {
  // Growth of the address space past what the worker already maps when it
  // enters the sandbox (RLIMIT_AS = current size + this). 0 = no limit.
  std::uint64_t memory = 0;
  unsigned max_files = 64;  // RLIMIT_NOFILE
  // Used only when the process runs as root: the identity to take.
  uid_t uid = 0;
  gid_t gid = 0;
};

// Enters the sandbox for the rest of the process's life. Returns an empty
// string, or what failed (the caller must then exit: it is not sandboxed).
std::string enter_sandbox(const SandboxSettings& s);

// Exit status a worker uses when an allocation failed (operator new).
constexpr int kExitOutOfMemory = 86;

}  // namespace emogate

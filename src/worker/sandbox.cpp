// Worker sandbox; see sandbox.h.
// Trusted input: the settings.
#include "worker/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace emogate {

namespace {

std::string errno_text(const char* what, int e) { return std::string(what) + ": " + std::strerror(e); }

// Bytes of address space mapped now (first field of /proc/self/statm).
std::uint64_t mapped_bytes() {
  FILE* f = std::fopen("/proc/self/statm", "re");
  if (!f) return 0;
  unsigned long long pages = 0;
  if (std::fscanf(f, "%llu", &pages) != 1) pages = 0;
  std::fclose(f);
  return pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

// The allow-list. Anything not named here fails with EPERM; the calls that
// only an attacker would make end the process at once (SIGSYS).
std::string load_filter() {
  scmp_filter_ctx f = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (!f) return "seccomp_init failed";
  int rc = 0;
  auto allow = [&](int nr) {
    if (nr < 0) return;  // not on this architecture
    if (int e = seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0); e != 0 && rc == 0) rc = e;
  };
  auto kill = [&](int nr) {
    if (nr < 0) return;
    if (int e = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, nr, 0); e != 0 && rc == 0) rc = e;
  };
  // Memory, time, reading and writing descriptors it already holds.
  for (int nr : {SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
                 SCMP_SYS(pwrite64), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(ftruncate),
                 SCMP_SYS(fallocate), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(munmap), SCMP_SYS(mremap),
                 SCMP_SYS(madvise), SCMP_SYS(brk), SCMP_SYS(futex), SCMP_SYS(rt_sigaction),
                 SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack), SCMP_SYS(exit),
                 SCMP_SYS(exit_group), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
                 SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
                 SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(getrandom), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(getrusage),
                 SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(sysinfo), SCMP_SYS(uname),
                 SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getrlimit), SCMP_SYS(restart_syscall),
                 // A pipe to itself reaches nothing; the sanitizers' runtime
                 // uses one to test whether memory is readable.
                 SCMP_SYS(pipe), SCMP_SYS(pipe2)})
    allow(nr);
  // fstat() is newfstatat(fd, "", AT_EMPTY_PATH) in glibc: no path lookup.
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
                          SCMP_A3(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(statx), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH));
  // Mappings, never executable ones: nothing the worker reads becomes code.
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
  // Files: only O_TMPFILE, an unnamed file that no other process can open
  // (large objects spill to one). Opening any existing path fails.
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, O_TMPFILE, O_TMPFILE));
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
                          SCMP_A2(SCMP_CMP_MASKED_EQ, O_TMPFILE, 0));
  if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
  // Threads (clone with CLONE_THREAD) but no new processes; clone3 gets
  // ENOSYS so glibc falls back to clone, whose flags the filter can read.
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_KILL_PROCESS, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
  if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  // Signals only to itself (abort() raises SIGABRT with tgkill). An
  // equality's second datum is unused; given, so that every field is set.
  const pid_t self = ::getpid();
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(self), 0));
  // prlimit64(0, ..., new = NULL, ...): reading its own limits only.
  if (rc == 0)
    rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 2, SCMP_A0(SCMP_CMP_EQ, 0, 0),
                          SCMP_A2(SCMP_CMP_EQ, 0, 0));
  // Network, programs, other processes, kernel attack surface: fatal.
  for (int nr : {SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind), SCMP_SYS(listen),
                 SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(sendto), SCMP_SYS(execve), SCMP_SYS(execveat),
                 SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
                 SCMP_SYS(process_vm_writev), SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(pidfd_open),
                 SCMP_SYS(pidfd_getfd), SCMP_SYS(pidfd_send_signal), SCMP_SYS(setuid), SCMP_SYS(setgid),
                 SCMP_SYS(setreuid), SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
                 SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(mount), SCMP_SYS(bpf), SCMP_SYS(perf_event_open),
                 SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(userfaultfd),
                 SCMP_SYS(io_uring_setup), SCMP_SYS(name_to_handle_at), SCMP_SYS(open_by_handle_at),
                 SCMP_SYS(linkat), SCMP_SYS(link)})
    kill(nr);
  if (rc == 0) rc = seccomp_load(f);
  seccomp_release(f);
  return rc == 0 ? std::string() : errno_text("seccomp", -rc);
}

}  // namespace

std::string enter_sandbox(const SandboxSettings& s) {
  if (::geteuid() == 0 || ::getuid() == 0) {
    if (s.uid == 0) return "refusing to scan as root: no unprivileged user to run as";
    if (::setgroups(0, nullptr) != 0) return errno_text("setgroups", errno);
    if (::setresgid(s.gid, s.gid, s.gid) != 0) return errno_text("setresgid", errno);
    if (::setresuid(s.uid, s.uid, s.uid) != 0) return errno_text("setresuid", errno);
    if (::setuid(0) == 0) return "privilege drop did not stick";
  }
  // A core dump of a worker would write message content to disk.
  rlimit zero{0, 0};
  if (::setrlimit(RLIMIT_CORE, &zero) != 0) return errno_text("RLIMIT_CORE", errno);
  rlimit files{s.max_files, s.max_files};
  if (::setrlimit(RLIMIT_NOFILE, &files) != 0) return errno_text("RLIMIT_NOFILE", errno);
  // ASan reserves terabytes of shadow memory: the address-space cap cannot
  // apply there (the daemon's RSS check still does).
  if (s.memory && !sanitized()) {
    std::uint64_t cap = mapped_bytes() + s.memory;
    rlimit as{cap, cap};
    if (::setrlimit(RLIMIT_AS, &as) != 0) return errno_text("RLIMIT_AS", errno);
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return errno_text("PR_SET_DUMPABLE", errno);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno_text("PR_SET_NO_NEW_PRIVS", errno);
  return load_filter();
}

}  // namespace emogate

// yara_load_repro: a small libyara program (no emogate code) that shows why
// loading a folder of rule files with one broken file used to cost many times
// the load of the same folder without it, and that the fix removes the cost.
//
// Input: none from outside. It writes N generated rule files (random tokens,
// text and hex strings, every third file imports pe) plus one broken file
// into a fresh folder under $TMPDIR, compiles them five ways, three rounds
// each, and prints medians with the minor page faults each way caused:
//   good         the N good files in one compiler, rules built (the baseline);
//   per-file     one compiler until the broken file stops it, then every file
//                in a compiler of its own to find the broken ones, then the
//                good files together (what emogate did before);
//   drop-rounds  one compiler until the broken file stops it, drop that file
//                (the compiler names it), compile the rest together (the fix);
//   per-file, no trim  the same with glibc told to keep freed memory;
//   compilers    N empty compilers that each add one tiny rule: the fixed
//                cost of a compiler alone.
// Usage: build/yara_load_repro [N=200] [RULES_PER_FILE=8] [KIND=module]
// KIND is what breaks the broken file: module (imports a module libyara does
// not have), syntax, duplicate (a rule name twice) or identifier (an
// undefined identifier in a condition).
//
// The cause, in libyara 4.2.3 (Debian 12): a compiler's arena keeps one buffer
// per section, and the first write to a section allocates that buffer at
// 1 MiB and zero-fills it. Every yr_compiler_create therefore costs several
// megabytes of fresh, zeroed memory before it has parsed anything, whatever
// the size of the file. When the compiler is destroyed, glibc gives that
// memory back to the kernel (a 1 MiB block is mapped on its own and unmapped
// when freed, or, once glibc has raised its mapping threshold, trimmed off
// the top of the heap), so the next compiler page-faults all of it in again,
// and page faults are dear in a virtual machine. Compiling each file in a
// compiler of its own multiplies this fixed cost by the number of files, and
// it dwarfs the parsing itself: the "compilers" row (tiny rules, nothing to
// parse) costs most of what the "per-file" pass costs. The "per-file, no trim" row
// is the same pass with glibc told to keep freed memory (mallopt: no separate
// mappings, no trim): the page faults and most of the time go. Whether glibc
// maps, trims or reuses depends on the heap's layout after the failed compile,
// so the size of the slowdown varies with the set (try N=200 and N=400).
// The fix uses as few compilers as possible: libyara reports which add_file
// call failed, so that file is dropped and the rest compiled together again.
#include <yara.h>

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Cost {
  double seconds = 0;
  long faults = 0;
};

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

void quiet(int, const char*, int, const YR_RULE*, const char*, void*) {}

// Adds `files` to a fresh compiler, stopping at the first failure (libyara
// takes no more input after one). Returns the failed file's index or -1;
// with `build`, also builds (and frees) the rules when nothing failed.
int compile(const std::vector<std::string>& files, bool build) {
  YR_COMPILER* c = nullptr;
  if (yr_compiler_create(&c) != ERROR_SUCCESS) std::abort();
  yr_compiler_set_callback(c, quiet, nullptr);
  int failed = -1;
  for (std::size_t i = 0; i < files.size() && failed < 0; ++i) {
    FILE* fp = std::fopen(files[i].c_str(), "rb");
    if (!fp) std::abort();
    if (yr_compiler_add_file(c, fp, files[i].c_str(), files[i].c_str()) > 0) failed = static_cast<int>(i);
    std::fclose(fp);
  }
  if (failed < 0 && build) {
    YR_RULES* rules = nullptr;
    if (yr_compiler_get_rules(c, &rules) != ERROR_SUCCESS) std::abort();
    yr_rules_destroy(rules);
  }
  yr_compiler_destroy(c);
  return failed;
}

std::string token(std::mt19937& rng) {
  static const char alnum[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789";
  std::string t;
  for (int i = 0, n = 7 + static_cast<int>(rng() % 8); i < n; ++i) t += alnum[rng() % (sizeof alnum - 1)];
  return t;
}

std::vector<std::string> write_set(const fs::path& dir, int n, int per_file, const std::string& kind,
                                   std::string& broken) {
  std::mt19937 rng(20261204);
  std::vector<std::string> files;
  for (int f = 0; f < n; ++f) {
    char name[32];
    std::snprintf(name, sizeof name, "set_%04d.yar", f);
    files.push_back((dir / name).string());
    std::ofstream out(files.back());
    bool pe = f % 3 == 0;
    if (pe) out << "import \"pe\"\n";
    for (int r = 0; r < per_file; ++r) {
      out << "rule R" << f << "_" << r << " {\n  meta:\n    score = 60\n  strings:\n";
      for (int s = 0; s < 4; ++s) {
        out << "    $t" << s << " = \"" << token(rng) << "\" ascii wide\n    $h" << s << " = {";
        for (int b = 0; b < 6; ++b) out << ' ' << "0123456789ABCDEF"[rng() % 16] << "0123456789ABCDEF"[rng() % 16];
        out << " [2-6] " << "0123456789ABCDEF"[rng() % 16] << "F }\n";
      }
      out << "  condition:\n    uint16(0) == 0x5a4d and filesize < 2MB and 2 of them"
          << (pe ? " and pe.number_of_sections > 2" : "") << "\n}\n";
    }
  }
  broken = (dir / "set_broken.yar").string();  // the caller puts it mid-way in the list
  std::ofstream out(broken);
  if (kind == "module")
    out << "import \"no_such_module\"\nrule Broken { condition: true }\n";
  else if (kind == "syntax")
    out << "rule Broken {\n  condition:\n    true and and\n}\n";
  else if (kind == "duplicate")
    out << "rule Broken { condition: true }\nrule Broken { condition: false }\n";
  else
    out << "rule Broken {\n  strings:\n    $a = \"" << token(rng) << "\"\n  condition:\n    $a and no_such_identifier\n}\n";
  return files;
}

// Runs `fn` in a forked child, so every way starts from the same small heap,
// as a daemon or `emogate check` does at start-up.
Cost measure(const std::function<void()>& fn) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    close(fds[0]);
    long f0 = minor_faults();
    auto t0 = std::chrono::steady_clock::now();
    fn();
    Cost c;
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    c.faults = minor_faults() - f0;
    _exit(write(fds[1], &c, sizeof c) == static_cast<ssize_t>(sizeof c) ? 0 : 1);
  }
  close(fds[1]);
  Cost c;
  bool ok = read(fds[0], &c, sizeof c) == static_cast<ssize_t>(sizeof c);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0) std::abort();
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 200;
  int per_file = argc > 2 ? std::atoi(argv[2]) : 8;
  std::string kind = argc > 3 ? argv[3] : "module";
  if (n < 2 || per_file < 1 || (kind != "module" && kind != "syntax" && kind != "duplicate" && kind != "identifier")) {
    std::fprintf(stderr, "usage: %s [N>=2] [RULES_PER_FILE>=1] [module|syntax|duplicate|identifier]\n", argv[0]);
    return 2;
  }
  if (yr_initialize() != ERROR_SUCCESS) return 1;
  std::string tmpl = (fs::temp_directory_path() / "yara-load-repro.XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return 1;
  fs::path dir = tmpl;
  std::string broken;
  auto good = write_set(dir, n, per_file, kind, broken);
  auto with_broken = good;
  with_broken.insert(with_broken.begin() + n / 2, broken);
  fs::path tiny = dir / "tiny.yar";
  std::ofstream(tiny) << "rule T { condition: false }\n";

  auto per_file_pass = [&] {
    compile(with_broken, false);
    std::vector<std::string> ok;
    for (const auto& f : with_broken)
      if (compile({f}, false) < 0) ok.push_back(f);
    compile(ok, true);
  };
  struct Way {
    const char* name;
    std::function<void()> run;
  };
  std::vector<Way> ways = {
      {"good", [&] { compile(good, true); }},
      {"per-file", per_file_pass},
      {"per-file, no trim",
       [&] {
         mallopt(M_MMAP_THRESHOLD, 64 << 20);  // in the forked child only
         mallopt(M_TRIM_THRESHOLD, 256 << 20);
         per_file_pass();
       }},
      {"drop-rounds",
       [&] {
         auto files = with_broken;
         for (int round = 0; round < 4; ++round) {
           int failed = compile(files, true);
           if (failed < 0) break;
           files.erase(files.begin() + failed);
         }
       }},
      {"compilers",
       [&] {
         for (int i = 0; i < n; ++i) compile({tiny.string()}, false);
       }},
  };
  std::vector<std::vector<Cost>> costs(ways.size());
  for (int round = 0; round < 3; ++round)  // side by side, alternating
    for (std::size_t w = 0; w < ways.size(); ++w) costs[w].push_back(measure(ways[w].run));

  std::printf("%d files x %d rules, one broken file (%s) mid-way; medians of 3 rounds\n", n, per_file,
              kind.c_str());
  std::printf("%-18s %10s %12s %10s\n", "way", "seconds", "page faults", "x good");
  auto median = [](std::vector<Cost> v) {
    std::sort(v.begin(), v.end(), [](const Cost& a, const Cost& b) { return a.seconds < b.seconds; });
    return v[v.size() / 2];
  };
  double base = median(costs[0]).seconds;
  for (std::size_t w = 0; w < ways.size(); ++w) {
    Cost m = median(costs[w]);
    std::printf("%-18s %10.3f %12ld %10.2f\n", ways[w].name, m.seconds, m.faults, m.seconds / base);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}

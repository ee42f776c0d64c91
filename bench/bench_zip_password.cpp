// Cost of one password candidate against an encrypted ZIP member: our fast
// checks (ZipCrypto header + CRC, AES verifier block) against libzip's own
// path (zip_fopen_index_encrypted derives the whole key).
// Run: build/bench_zip_password
#include <benchmark/benchmark.h>

#include <string>

#include "formats/zip/directory.h"
#include "formats/zip/password.h"
#include "unit/zip_fixtures.h"

namespace {

struct Fixture {
  std::string zip;
  emogate::zip::Entry entry;
  std::string_view data() const { return std::string_view(zip).substr(entry.data_offset, entry.compressed_size); }
};

Fixture make(std::uint16_t method) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "line " + std::to_string(i) + " of an invoice\n";
  Fixture f;
  f.zip = emogate::test::make_zip({{"invoice.doc", text, method, "Ab3dEf9"}});
  f.entry = emogate::zip::read_directory(f.zip, 10).entries.at(0);
  return f;
}

void fast_check(benchmark::State& state, std::uint16_t method) {
  Fixture f = make(method);
  int i = 0;
  for (auto _ : state) {
    std::string pw = "cand" + std::to_string(i++);
    benchmark::DoNotOptimize(emogate::zip::password_ok(f.entry, f.data(), pw));
  }
}

void libzip_open(benchmark::State& state, std::uint16_t method) {
  Fixture f = make(method);
  zip_error_t err;
  zip_source_t* src = zip_source_buffer_create(f.zip.data(), f.zip.size(), 0, &err);
  zip_t* za = zip_open_from_source(src, ZIP_RDONLY, &err);
  int i = 0;
  for (auto _ : state) {
    std::string pw = "cand" + std::to_string(i++);
    zip_file_t* zf = zip_fopen_index_encrypted(za, 0, 0, pw.c_str());
    if (zf) zip_fclose(zf);
    benchmark::DoNotOptimize(zf);
  }
  zip_discard(za);
}

}  // namespace

BENCHMARK_CAPTURE(fast_check, zipcrypto, ZIP_EM_TRAD_PKWARE);
BENCHMARK_CAPTURE(fast_check, aes128, ZIP_EM_AES_128);
BENCHMARK_CAPTURE(fast_check, aes256, ZIP_EM_AES_256);
BENCHMARK_CAPTURE(libzip_open, zipcrypto, ZIP_EM_TRAD_PKWARE);
BENCHMARK_CAPTURE(libzip_open, aes256, ZIP_EM_AES_256);
BENCHMARK_MAIN();

// Cost of password key derivation per message, worst cases against the
// [limits] max_kdf_rounds budget: a small message of encrypted OOXML stubs
// (agile, SHA-512) with spinCount 1,000,000 (the attack: refused outright,
// above max_spin_count), the same stubs at spinCount = max_spin_count (every
// try runs; the budget stops them), one ordinary document at Office's
// 100,000, a ZIP of WinZip-AES members no candidate opens, and, for scale,
// the 1,000,000 stubs with the budget and the spinCount bound lifted (what
// the message cost before). Each stub's verifier is garbage, so every try
// runs the whole derivation and fails. The label gives the message size.
// Run: build/bench_kdf --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <string>
#include <vector>

#include "emogate/scanner.h"
#include "unit/mail_fixtures.h"
#include "unit/ole2_builder.h"
#include "unit/zip_fixtures.h"

namespace {

std::string b64(const std::string& s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  out.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                             reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size())));
  return out;
}

// An encrypted OOXML stub: agile EncryptionInfo (SHA-512, AES-256) with the
// given spinCount and well-formed but wrong verifier values, and a tiny
// EncryptedPackage.
std::string agile_stub(std::uint32_t spin, int salt) {
  const std::string s16(16, static_cast<char>(salt));
  const std::string xml =
      "<?xml version=\"1.0\"?><encryption xmlns=\"http://schemas.microsoft.com/office/2006/encryption\" "
      "xmlns:p=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><keyData saltSize=\"16\" "
      "blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" "
      "hashAlgorithm=\"SHA512\" saltValue=\"" + b64(s16) + "\"/><keyEncryptors><keyEncryptor "
      "uri=\"http://schemas.microsoft.com/office/2006/keyEncryptor/password\"><p:encryptedKey spinCount=\"" +
      std::to_string(spin) + "\" saltSize=\"16\" blockSize=\"16\" keyBits=\"256\" hashSize=\"64\" "
      "cipherAlgorithm=\"AES\" cipherChaining=\"ChainingModeCBC\" hashAlgorithm=\"SHA512\" saltValue=\"" + b64(s16) +
      "\" encryptedVerifierHashInput=\"" + b64(std::string(16, 'i')) + "\" encryptedVerifierHashValue=\"" +
      b64(std::string(64, 'v')) + "\" encryptedKeyValue=\"" + b64(std::string(32, 'k')) +
      "\"/></keyEncryptor></keyEncryptors></encryption>";
  std::string pkg(8, '\0');
  pkg[0] = 16;
  pkg += std::string(16, 'p');
  emogate::test::Ole2Builder b(3);
  b.add("EncryptionInfo", std::string("\x04\x00\x04\x00\x40\x00\x00\x00", 8) + xml).add("EncryptedPackage", pkg);
  return b.build();
}

// The text names passwords, so the miner has candidates to try on top of
// Excel's default and the static list.
const char* kText = "Password: Kx7-pq2w\nパスワード：Zr4-mm8t\nPW: Tq9-aa1b\n";

std::string stub_message(std::uint32_t spin, int stubs) {
  std::vector<emogate::test::MailPart> parts = {{"text/plain; charset=UTF-8", kText, ""}};
  for (int i = 0; i < stubs; ++i)
    parts.push_back({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", agile_stub(spin, i + 1),
                     "invoice" + std::to_string(i) + ".xlsx"});
  return emogate::test::make_mail("invoices", parts);
}

std::string aes_zip_message(int members) {
  std::vector<emogate::test::ZipMember> m;
  for (int i = 0; i < members; ++i)
    m.push_back({"doc" + std::to_string(i) + ".js", "WScript.Echo(" + std::to_string(i) + ")", ZIP_EM_AES_256,
                 "unguessable-" + std::to_string(i)});
  return emogate::test::make_mail("zip", {{"text/plain; charset=UTF-8", kText, ""},
                                          {"application/zip", emogate::test::make_zip(m), "a.zip"}});
}

void scan(benchmark::State& state, const std::string& mail, const emogate::Config& cfg) {
  emogate::Scanner scanner{cfg};
  int limits = 0;
  for (auto _ : state) {
    emogate::Report r = scanner.scan_message(mail);
    limits = 0;
    for (const auto& f : r.findings) limits += f.type == emogate::FindingType::limit_exceeded;
    benchmark::DoNotOptimize(r);
  }
  state.SetLabel(std::to_string(mail.size() / 1024) + " KB, " + std::to_string(limits) + " limit_exceeded");
}

void stubs_spin1M(benchmark::State& state) { scan(state, stub_message(1000000, 4), emogate::Config{}); }
void stubs_at_max_spin(benchmark::State& state) {
  emogate::Config c;
  scan(state, stub_message(c.limits.max_spin_count, 4), c);
}
void one_office_document(benchmark::State& state) { scan(state, stub_message(100000, 1), emogate::Config{}); }
void aes_zip_50_members(benchmark::State& state) { scan(state, aes_zip_message(50), emogate::Config{}); }
void stubs_spin1M_unbounded(benchmark::State& state) {
  emogate::Config c;
  c.limits.max_kdf_rounds = 1000000000;
  c.limits.max_spin_count = 10000000;
  scan(state, stub_message(1000000, 4), c);
}

}  // namespace

BENCHMARK(stubs_spin1M)->Unit(benchmark::kMillisecond);
BENCHMARK(stubs_at_max_spin)->Unit(benchmark::kMillisecond);
BENCHMARK(one_office_document)->Unit(benchmark::kMillisecond);
BENCHMARK(aes_zip_50_members)->Unit(benchmark::kMillisecond);
BENCHMARK(stubs_spin1M_unbounded)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();

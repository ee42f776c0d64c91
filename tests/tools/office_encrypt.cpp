// Test tool for the integration tests: writes an encrypted Office document
// (a compound file with EncryptionInfo and EncryptedPackage, ECMA-376 agile
// encryption: SHA-512, AES-256-CBC, spinCount 100,000 as Office writes it,
// or standard encryption) around a given OOXML package, with the fixture
// code the unit tests use (tests/unit/office_crypto_fixtures.h).
//   emogate_office_encrypt agile|standard PASSWORD IN.xlsx OUT.xlsx
// Trusted input: its arguments (a test's own files). Never installed.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "unit/office_crypto_fixtures.h"

int main(int argc, char** argv) {
  using namespace emogate::test;
  if (argc != 5 || (std::string(argv[1]) != "agile" && std::string(argv[1]) != "standard")) {
    std::cerr << "usage: emogate_office_encrypt agile|standard PASSWORD IN OUT\n";
    return 2;
  }
  std::ifstream in(argv[3], std::ios::binary);
  const std::string plain((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    std::cerr << "cannot read " << argv[3] << "\n";
    return 1;
  }
  const std::string doc = container(std::string(argv[1]) == "agile" ? agile_encrypt(plain, argv[2], 100000)
                                                                    : standard_encrypt(plain, argv[2]));
  std::ofstream out(argv[4], std::ios::binary);
  out << doc;
  return out.good() ? 0 : 1;
}

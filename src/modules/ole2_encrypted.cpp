// Encrypted Office documents at the compound-file level (type "ole2"):
//  - EncryptionInfo + EncryptedPackage (encrypted OOXML: .docx/.xlsm/...):
//    `encrypted_document` naming the scheme; when the package opens with
//    Excel's built-in password "VelvetSweatshop", a password printed in the
//    mail (the best [passwords] max_document_candidates mined ones) or a
//    configured static password, the decrypted package goes back to the
//    engine as a child, so its macros are analysed like any other. Opened
//    with the default password, the finding is clean (informational);
//    opened with another password, it is archive_decrypted (at the verdict
//    of an archive opened with a password): either way the document's
//    content decides. Not opened: its password-check data goes into
//    Report::ppap.locked, so that a password mail can open it later (PPAP).
//  - Word binary documents whose FIB says encrypted (RC4 or XOR
//    obfuscation) and PowerPoint documents whose CurrentUserAtom,
//    UserEditAtom or CryptSession10Container say encrypted, or which carry
//    an EncryptedSummary stream: `encrypted_document`.
// BIFF8 FILEPASS (Excel binary) is handled by the BIFF8 module.
// Trusted input: none. Parsing and decryption are bounded (office_crypto).
#include <algorithm>
#include <string>

#include "common/bytes.h"
#include "engine/context.h"
#include "engine/module.h"
#include "formats/office_crypto/office_crypto.h"
#include "formats/ole2/reader.h"
#include "formats/passwords/lock_check.h"
#include "engine/passwords.h"

namespace emogate {

namespace {

class Ole2EncryptedExtractor : public Module {
 public:
  Phase phase() const override { return Phase::expand; }
  std::string_view name() const override { return "ole2_encrypted"; }
  std::vector<std::string> types() const override { return {tag::ole2}; }

  void run(const Object& obj, ScanContext& ctx) const override {
    const ole2::Ole2File file = ole2::Ole2File::open(obj.bytes());
    if (!file.ok()) return;
    const ole2::Entry* info_e = file.find("EncryptionInfo");
    const ole2::Entry* pkg_e = file.find("EncryptedPackage");
    if (info_e && pkg_e) {
      package(obj, file, *info_e, *pkg_e, ctx);
      return;
    }
    if (const ole2::Entry* wd = file.find("WordDocument")) word(obj, file, *wd, ctx);
    if (const ole2::Entry* ppt = file.find("PowerPoint Document")) powerpoint(obj, file, *ppt, ctx);
  }

 private:
  void package(const Object& obj, const ole2::Ole2File& file, const ole2::Entry& info_e,
               const ole2::Entry& pkg_e, ScanContext& ctx) const {
    using namespace office_crypto;
    const EncryptionInfo info = parse_encryption_info(file.read_stream(info_e, 1u << 20));
    std::string detail = "encrypted OOXML package, " + describe(info);
    // Whether a password arriving later (PPAP) could still be checked.
    bool checkable = false;
    if (!info.problem.empty()) detail += " (" + info.problem + ")";
    const bool tryable = info.problem.empty() && (info.scheme == Scheme::standard || info.scheme == Scheme::agile);
    if (tryable && info.spin_count > ctx.limits().max_spin_count) {
      detail += "; spinCount " + std::to_string(info.spin_count) + " too high to try passwords";
      ctx.limit_hit(obj, "max_spin_count",
                    "agile spinCount " + std::to_string(info.spin_count) + " (Office writes 100000); no password tried");
    } else if (tryable) {
      checkable = true;
      const std::string pkg = file.read_stream(pkg_e, ctx.limits().max_object_size + 8);
      const std::uint64_t rounds = kdf_rounds(info);
      for (const auto& [pw, how] : candidates(ctx)) {
        if (ctx.expired()) break;
        // Each try is charged to the message's key-derivation budget first.
        if (!ctx.kdf_budget().take(rounds)) {
          detail += "; key-derivation budget spent, remaining passwords not tried";
          ctx.limit_hit(obj, "max_kdf_rounds",
                        "password tries need " + std::to_string(rounds) + " hash rounds each; " +
                            std::to_string(ctx.kdf_budget().used()) + " of " +
                            std::to_string(ctx.kdf_budget().max()) + " spent in this message");
          break;
        }
        std::string plain;
        const DecryptResult r = decrypt_package(info, pkg, pw, ctx.limits().max_object_size, plain);
        if (r == DecryptResult::wrong_password) continue;
        if (r != DecryptResult::ok) {
          detail += "; package cannot be decrypted (malformed or unsupported parameters)";
          checkable = false;
          break;
        }
        detail += "; decrypted with " + how;
        ChildSpec spec;
        spec.name = "decrypted" + (obj.extension().empty() ? std::string(".bin") : "." + obj.extension());
        spec.provenance = "EncryptedPackage decrypted with " + how;
        spec.from_encrypted = true;
        if (ctx.can_add_child(obj)) ctx.add_child(obj, spec, plain);
        if (pw == kExcelDefaultPassword) {
          // Excel opens it without asking: informational, what is inside decides.
          ctx.add_finding(FindingType::encrypted_document, obj, detail, Verdict::clean);
        } else {
          // Opened with a password the sender gave (in this mail, a
          // password mail, or the static list): judged by its content, as
          // an archive opened with a password is.
          ctx.add_finding(FindingType::archive_decrypted, obj, detail,
                          std::max(ctx.config().passwords.opened_archive_verdict,
                                   ctx.config().baseline(FindingType::archive_decrypted)));
        }
        return;
      }
    }
    // Still locked: its check data lets a password mail open it later
    // (Report::ppap.locked); none when no password could be tried here.
    std::optional<ppap::LockCheck> lock = checkable ? ppap::office_lock(info) : std::nullopt;
    ctx.report().ppap.locked.push_back(
        {obj.path.empty() ? "(message)" : obj.path, "EncryptedPackage", lock ? ppap::encode_lock(*lock) : std::string()});
    ctx.add_finding(FindingType::encrypted_document, obj, detail);
  }

  // Passwords to try and how the report names each: Excel's own first (the
  // malware favourite), then what the mail says, then the static list.
  static std::vector<std::pair<std::string, std::string>> candidates(ScanContext& ctx) {
    const PasswordSettings& ps = ctx.config().passwords;
    std::vector<std::pair<std::string, std::string>> out;
    auto seen = [&](const std::string& pw) {
      for (const auto& c : out)
        if (c.first == pw) return true;
      return false;
    };
    out.emplace_back(std::string(office_crypto::kExcelDefaultPassword),
                     "Excel's built-in default password " + std::string(office_crypto::kExcelDefaultPassword));
    std::uint32_t mined = 0;
    for (const PasswordCandidate& c : message_passwords(ctx)) {
      const bool from_mail = c.rank < 3;
      if ((from_mail && mined >= ps.max_document_candidates) || seen(c.password)) continue;
      if (from_mail) {
        ++mined;
        out.emplace_back(c.password, "password " + (ps.show_in_reports ? c.password : mask_password(c.password)) +
                                         " from " + c.source);
      } else {
        out.emplace_back(c.password, "a configured static password");
      }
    }
    return out;
  }

  // [MS-PPT] encryption, from the records that locate the encryption
  // session (office_crypto::ppt_encryption) or the EncryptedSummary stream.
  void powerpoint(const Object& obj, const ole2::Ole2File& file, const ole2::Entry& ppt, ScanContext& ctx) const {
    const ole2::Entry* user = file.find("Current User");
    office_crypto::PptEncryption enc = office_crypto::ppt_encryption(
        user ? file.read_stream(*user, 4096) : std::string(), file.read_stream(ppt, ctx.limits().max_object_size));
    if (file.find("EncryptedSummary")) {
      enc.encrypted = true;
      enc.evidence += (enc.evidence.empty() ? "" : "; ") + std::string("EncryptedSummary stream");
    }
    if (!enc.encrypted) return;
    std::string how = "PowerPoint binary document with ";
    how += enc.container && enc.info.problem.empty() ? office_crypto::describe(enc.info) : "RC4 CryptoAPI encryption";
    ctx.add_finding(FindingType::encrypted_document, obj, how + " (" + enc.evidence + ")");
  }

  // FIB (MS-DOC 2.5.2): fEncrypted 0x0100, fObfuscated 0x8000 at offset 10.
  void word(const Object& obj, const ole2::Ole2File& file, const ole2::Entry& wd, ScanContext& ctx) const {
    const std::string fib = file.read_stream(wd, 32);
    if (fib.size() < 12) return;
    // wIdent: 0xA5EC (Word 97+), 0xA5DC (Word 6/95); anything else is no FIB.
    const unsigned ident = le16(fib, 0);
    if (ident != 0xA5EC && ident != 0xA5DC) return;
    const unsigned flags = le16(fib, 10);
    if (!(flags & 0x0100)) return;
    std::string how = "Word binary document with ";
    if (flags & 0x8000) {
      how += "XOR obfuscation";
    } else {
      // The encryption header starts the table stream (0Table or 1Table).
      const ole2::Entry* table = file.find(flags & 0x0200 ? "1Table" : "0Table");
      const std::string head = table ? file.read_stream(*table, 4) : std::string();
      if (head.size() == 4 && head[0] == 1 && head[2] == 1) how += "RC4 encryption";
      else if (head.size() == 4 && head[2] == 2) how += "RC4 CryptoAPI encryption";
      else how += "encryption";
    }
    ctx.add_finding(FindingType::encrypted_document, obj, how);
  }
};

}  // namespace

std::unique_ptr<Module> make_ole2_encrypted_module() {
  return std::make_unique<Ole2EncryptedExtractor>();
}

}  // namespace emogate

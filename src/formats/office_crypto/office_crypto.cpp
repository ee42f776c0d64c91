// MS-OFFCRYPTO standard and agile encryption, and the [MS-PPT] records that
// locate a presentation's encryption (see office_crypto.h).
// Trusted input: none. Written from MS-OFFCRYPTO 2.3.4.5-2.3.4.15, [MS-PPT]
// 2.3.7 and ECMA-376 Part 2; OpenSSL does the hashing and AES.
#include "formats/office_crypto/office_crypto.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "common/bytes.h"

namespace emogate::office_crypto {
namespace {

// Value of attribute `name` inside the element starting at `tag_pos`.
std::string attribute(std::string_view xml, std::size_t tag_pos, std::string_view name) {
  if (tag_pos == std::string_view::npos) return {};
  const std::size_t tag_end = xml.find('>', tag_pos);
  const std::string_view tag = xml.substr(tag_pos, tag_end == std::string_view::npos ? std::string_view::npos : tag_end - tag_pos);
  std::size_t pos = 0;
  while ((pos = tag.find(name, pos)) != std::string_view::npos) {
    const std::size_t after = pos + name.size();
    if (pos > 0 && tag[pos - 1] == ' ' && after + 1 < tag.size() && tag[after] == '=' && tag[after + 1] == '"') {
      const std::size_t end = tag.find('"', after + 2);
      if (end == std::string_view::npos) return {};
      return std::string(tag.substr(after + 2, end - after - 2));
    }
    pos = after;
  }
  return {};
}

std::uint32_t number(const std::string& s) {
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > 0xFFFFFFFFu) return 0;
  }
  return static_cast<std::uint32_t>(v);
}

std::string base64(const std::string& s) {
  if (s.empty() || s.size() > 4096 || s.size() % 4 != 0) return {};
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  if (n < 0) return {};
  std::size_t pad = (s.end()[-1] == '=') + (s.end()[-2] == '=');
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string utf16le(std::string_view utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size();) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    std::uint32_t cp = c;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra) cp = c & (0x3F >> extra);
    for (int k = 1; k <= extra && i + k < utf8.size(); ++k) cp = cp << 6 | (static_cast<unsigned char>(utf8[i + k]) & 0x3F);
    i += 1 + extra;
    auto unit = [&](std::uint32_t u) {
      out += static_cast<char>(u & 0xFF);
      out += static_cast<char>(u >> 8);
    };
    if (cp >= 0x10000) {
      unit(0xD800 + ((cp - 0x10000) >> 10));
      unit(0xDC00 + ((cp - 0x10000) & 0x3FF));
    } else {
      unit(cp);
    }
  }
  return out;
}

struct MdCtx {
  EVP_MD_CTX* p = EVP_MD_CTX_new();
  ~MdCtx() { EVP_MD_CTX_free(p); }
};


// H0 = H(salt + password); Hn = H(LE32(n) + Hn-1) for `rounds` rounds.
std::string iterate_hash(const EVP_MD* md, const std::string& salt, const std::string& password,
                         std::uint32_t rounds) {
  std::string h = digest(md, salt, password);
  // Fetched once: OpenSSL 3 looks a plain EVP_sha512() up in its provider
  // tables at every EVP_DigestInit_ex (locks included), which costs more
  // than hashing the 68 bytes of a round.
  std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> fetched(EVP_MD_fetch(nullptr, EVP_MD_get0_name(md), nullptr),
                                                          EVP_MD_free);
  if (fetched) md = fetched.get();
  MdCtx ctx;
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  for (std::uint32_t i = 0; i < rounds; ++i) {
    unsigned char it[4] = {static_cast<unsigned char>(i), static_cast<unsigned char>(i >> 8),
                           static_cast<unsigned char>(i >> 16), static_cast<unsigned char>(i >> 24)};
    EVP_DigestInit_ex(ctx.p, md, nullptr);
    EVP_DigestUpdate(ctx.p, it, 4);
    EVP_DigestUpdate(ctx.p, h.data(), h.size());
    EVP_DigestFinal_ex(ctx.p, buf, &len);
    h.assign(reinterpret_cast<char*>(buf), len);
  }
  return h;
}

const EVP_CIPHER* aes(std::size_t key_bytes, bool cbc) {
  switch (key_bytes) {
    case 16: return cbc ? EVP_aes_128_cbc() : EVP_aes_128_ecb();
    case 24: return cbc ? EVP_aes_192_cbc() : EVP_aes_192_ecb();
    case 32: return cbc ? EVP_aes_256_cbc() : EVP_aes_256_ecb();
    default: return nullptr;
  }
}

// AES decryption without padding; input is cut to whole blocks.
bool aes_decrypt(std::string_view key, std::string_view iv, std::string_view in, std::string& out) {
  const EVP_CIPHER* c = aes(key.size(), !iv.empty());
  if (!c) return false;
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const std::size_t n = in.size() / 16 * 16;
  std::string iv16(iv);
  iv16.resize(16, '\0');
  if (!EVP_DecryptInit_ex(ctx.get(), c, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                          iv.empty() ? nullptr : reinterpret_cast<const unsigned char*>(iv16.data())))
    return false;
  EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
  const std::size_t base = out.size();
  out.resize(base + n);
  int len = 0;
  if (!EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data() + base), &len,
                         reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(n)))
    return false;
  return true;
}

const EVP_MD* hash_by_name(const std::string& name) {
  if (name == "SHA1") return EVP_sha1();
  if (name == "SHA256") return EVP_sha256();
  if (name == "SHA384") return EVP_sha384();
  if (name == "SHA512") return EVP_sha512();
  if (name == "MD5") return EVP_md5();
  return nullptr;
}

// EncryptedPackage: 8-byte plaintext size, then ciphertext.
bool package_body(std::string_view pkg, std::uint64_t max_out, std::uint64_t& size, std::string_view& data) {
  if (pkg.size() < 8) return false;
  size = le32(pkg, 0) | static_cast<std::uint64_t>(le32(pkg, 4)) << 32;
  data = pkg.substr(8);
  return size <= data.size() && size <= max_out;
}

std::string fit(std::string s, std::size_t n, char pad) {
  s.resize(n, pad);
  return s;
}

// The agile block keys ([MS-OFFCRYPTO] 2.3.4.13): each derives its AES key
// as H(Hn + block), cut or padded to the password key size.
constexpr std::string_view kVerifierInputBlock("\xfe\xa7\xd2\x76\x3b\x4b\x9e\x79", 8);
constexpr std::string_view kVerifierValueBlock("\xd7\xaa\x0f\x6d\x30\x61\x34\x4e", 8);
constexpr std::string_view kKeyValueBlock("\x14\x6e\x0b\xe7\xab\xac\xd0\xd6", 8);

std::string agile_block_key(const EncryptionInfo& info, const std::string& hn, std::string_view block) {
  return fit(digest(hash_by_name(info.pw_hash), hn, block), info.pw_key_bits / 8, '\x36');
}

// Standard encryption: the AES key `password` derives, checked against the
// verifier; wrong_password when the verifier hash does not match.
DecryptResult standard_key(const EncryptionInfo& info, std::string_view password, std::string& key) {
  const std::size_t key_bytes = info.key_bits / 8;
  if (!aes(key_bytes, false) || info.salt.size() != 16 || info.verifier.size() != 16 ||
      info.verifier_hash.size() < 32)
    return DecryptResult::unsupported;
  const EVP_MD* sha1 = EVP_sha1();
  const std::string h = digest(sha1, iterate_hash(sha1, info.salt, utf16le(password), kStandardSpinCount), le32_bytes(0));
  std::string b1(64, '\x36'), b2(64, '\x5c');
  for (std::size_t i = 0; i < h.size(); ++i) {
    b1[i] ^= h[i];
    b2[i] ^= h[i];
  }
  key = (digest(sha1, b1) + digest(sha1, b2)).substr(0, key_bytes);
  std::string v, vh;
  if (!aes_decrypt(key, {}, info.verifier, v) || !aes_decrypt(key, {}, info.verifier_hash.substr(0, 32), vh))
    return DecryptResult::malformed;
  if (digest(sha1, v) != vh.substr(0, 20)) return DecryptResult::wrong_password;
  return DecryptResult::ok;
}

DecryptResult standard(const EncryptionInfo& info, std::string_view pkg, std::string_view password,
                       std::uint64_t max_out, std::string& out) {
  std::string key;
  if (const DecryptResult r = standard_key(info, password, key); r != DecryptResult::ok) return r;
  std::uint64_t size = 0;
  std::string_view data;
  if (!package_body(pkg, max_out, size, data)) return DecryptResult::malformed;
  out.clear();
  out.reserve(data.size());
  if (!aes_decrypt(key, {}, data.substr(0, (size + 15) / 16 * 16), out)) return DecryptResult::malformed;
  out.resize(size);
  return DecryptResult::ok;
}

// Agile encryption: the password key encryptor's verifier check. On ok,
// `hn` holds the iterated password hash the key-value key derives from.
DecryptResult agile_verify(const EncryptionInfo& info, std::string_view password, std::string& hn) {
  const EVP_MD* pw_md = hash_by_name(info.pw_hash);
  const std::size_t pw_key = info.pw_key_bits / 8;
  if (!pw_md || !aes(pw_key, true) || info.pw_salt.empty())
    return DecryptResult::unsupported;
  if (info.spin_count > kFormatMaxSpinCount) return DecryptResult::unsupported;
  hn = iterate_hash(pw_md, info.pw_salt, utf16le(password), info.spin_count);
  std::string input, value;
  if (!aes_decrypt(agile_block_key(info, hn, kVerifierInputBlock), fit(info.pw_salt, 16, '\x36'),
                   info.verifier_input_enc, input) ||
      !aes_decrypt(agile_block_key(info, hn, kVerifierValueBlock), fit(info.pw_salt, 16, '\x36'),
                   info.verifier_value_enc, value))
    return DecryptResult::malformed;
  const std::string want = digest(pw_md, input.substr(0, info.pw_salt.size()));
  if (want.empty() || value.size() < want.size() || value.substr(0, want.size()) != want)
    return DecryptResult::wrong_password;
  return DecryptResult::ok;
}

DecryptResult agile(const EncryptionInfo& info, std::string_view pkg, std::string_view password,
                    std::uint64_t max_out, std::string& out) {
  const EVP_MD* data_md = hash_by_name(info.data_hash);
  const std::size_t data_key = info.data_key_bits / 8;
  if (!data_md || !aes(data_key, true) || info.data_block != 16 || info.data_salt.empty())
    return DecryptResult::unsupported;
  std::string hn, secret;
  if (const DecryptResult r = agile_verify(info, password, hn); r != DecryptResult::ok) return r;
  if (!aes_decrypt(agile_block_key(info, hn, kKeyValueBlock), fit(info.pw_salt, 16, '\x36'), info.key_value_enc,
                   secret))
    return DecryptResult::malformed;
  if (secret.size() < data_key) return DecryptResult::malformed;
  secret.resize(data_key);
  std::uint64_t size = 0;
  std::string_view data;
  if (!package_body(pkg, max_out, size, data)) return DecryptResult::malformed;
  out.clear();
  out.reserve(data.size());
  // 4096-byte segments, each with IV = H(keyData salt + LE32(segment)).
  for (std::uint32_t seg = 0; static_cast<std::uint64_t>(seg) * 4096 < size; ++seg) {
    const std::string_view chunk = data.substr(static_cast<std::size_t>(seg) * 4096, 4096);
    const std::string seg_iv = fit(digest(data_md, info.data_salt, le32_bytes(seg)), 16, '\x36');
    if (!aes_decrypt(secret, seg_iv, chunk.substr(0, (chunk.size() + 15) / 16 * 16), out))
      return DecryptResult::malformed;
  }
  out.resize(size);
  return DecryptResult::ok;
}

std::string alg_name(std::uint32_t alg_id, std::uint32_t key_bits) {
  switch (alg_id) {
    case 0x6801: return "RC4";
    case 0x660E: return "AES-128";
    case 0x660F: return "AES-192";
    case 0x6610: return "AES-256";
    case 0: return key_bits ? "AES-" + std::to_string(key_bits) : "unspecified";
    default: return "algorithm " + std::to_string(alg_id);
  }
}

}  // namespace

std::string digest(const EVP_MD* md, std::string_view a, std::string_view b) {
  MdCtx ctx;
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_DigestInit_ex(ctx.p, md, nullptr) || !EVP_DigestUpdate(ctx.p, a.data(), a.size()) ||
      !EVP_DigestUpdate(ctx.p, b.data(), b.size()) || !EVP_DigestFinal_ex(ctx.p, out, &len))
    return {};
  return std::string(reinterpret_cast<char*>(out), len);
}

EncryptionInfo parse_encryption_info(std::string_view s) {
  EncryptionInfo info;
  if (s.size() < 8) {
    info.problem = "EncryptionInfo too short";
    return info;
  }
  info.major = le16(s, 0);
  info.minor = le16(s, 2);
  if (info.major == 4 && info.minor == 4) {
    info.scheme = Scheme::agile;
    const std::string_view xml = s.substr(8);
    const std::size_t kd = xml.find("<keyData");
    std::size_t ek = xml.find("encryptedKey ", xml.find("keyEncryptors"));
    if (ek != std::string_view::npos) ek = xml.rfind('<', ek);
    if (kd == std::string_view::npos || ek == std::string_view::npos) {
      info.problem = "agile XML without keyData or password key encryptor";
      return info;
    }
    info.data_salt = base64(attribute(xml, kd, "saltValue"));
    info.data_block = number(attribute(xml, kd, "blockSize"));
    info.data_key_bits = number(attribute(xml, kd, "keyBits"));
    info.data_hash = attribute(xml, kd, "hashAlgorithm");
    info.cipher = attribute(xml, kd, "cipherAlgorithm") + "-" + std::to_string(info.data_key_bits);
    info.hash = info.data_hash;
    info.spin_count = number(attribute(xml, ek, "spinCount"));
    info.pw_key_bits = number(attribute(xml, ek, "keyBits"));
    info.pw_hash_size = number(attribute(xml, ek, "hashSize"));
    info.pw_hash = attribute(xml, ek, "hashAlgorithm");
    info.pw_salt = base64(attribute(xml, ek, "saltValue"));
    info.verifier_input_enc = base64(attribute(xml, ek, "encryptedVerifierHashInput"));
    info.verifier_value_enc = base64(attribute(xml, ek, "encryptedVerifierHashValue"));
    info.key_value_enc = base64(attribute(xml, ek, "encryptedKeyValue"));
    return info;
  }
  if (info.minor == 3 && (info.major == 3 || info.major == 4)) {
    info.scheme = Scheme::extensible;
    return info;
  }
  if (info.major == 1 && info.minor == 1) {
    info.scheme = Scheme::rc4;
    info.cipher = "RC4";
    return info;
  }
  if (info.minor != 2 || info.major < 2 || info.major > 4) {
    info.problem = "unknown EncryptionInfo version";
    return info;
  }
  // Standard (and RC4 CryptoAPI, which shares the layout): flags, header
  // size, EncryptionHeader, EncryptionVerifier.
  info.scheme = Scheme::standard;
  if (s.size() < 12) {
    info.problem = "EncryptionInfo truncated";
    return info;
  }
  const std::uint32_t header_size = le32(s, 8);
  if (header_size < 32 || header_size > s.size() - 12) {
    info.problem = "bad EncryptionHeader size";
    return info;
  }
  const std::string_view h = s.substr(12, header_size);
  const std::uint32_t alg_id = le32(h, 8);
  info.key_bits = le32(h, 16);
  if (info.key_bits == 0 && alg_id == 0) info.key_bits = 128;
  info.cipher = alg_name(alg_id, info.key_bits);
  info.hash = "SHA1";
  if (alg_id == 0x6801) info.scheme = Scheme::rc4;
  const std::string_view v = s.substr(12 + header_size);
  if (v.size() < 4 + 16 + 16 + 4) {
    info.problem = "EncryptionVerifier truncated";
    return info;
  }
  const std::uint32_t salt_size = le32(v, 0);
  if (salt_size != 16) {
    info.problem = "unexpected salt size";
    return info;
  }
  info.salt = std::string(v.substr(4, 16));
  info.verifier = std::string(v.substr(20, 16));
  info.verifier_hash = std::string(v.substr(40, std::min<std::size_t>(32, v.size() - 40)));
  return info;
}

namespace {

// [MS-PPT] record header: recVer/recInstance (2), recType (2), recLen (4).
struct PptRecord {
  std::uint16_t type = 0;
  std::string_view body;
};
bool ppt_record(std::string_view doc, std::uint64_t off, PptRecord& out) {
  if (off > doc.size() || doc.size() - off < 8) return false;
  out.type = le16(doc, off + 2);
  const std::uint32_t len = le32(doc, off + 4);
  if (len > doc.size() - off - 8) return false;
  out.body = doc.substr(off + 8, len);
  return true;
}

constexpr std::uint16_t kCurrentUserAtom = 0x0FF6, kUserEditAtom = 0x0FF5,
                        kPersistDirectoryAtom = 0x1772, kCryptSession10Container = 0x2F14;
constexpr std::uint32_t kEncryptedToken = 0xF3D1C4DF;
// Edits followed back through offsetLastEdit.
constexpr int kMaxUserEdits = 256;

// The stream offset of persist object `id` in a PersistDirectoryAtom body
// (entries: persistId:20 | cPersist:12, then cPersist offsets); 0 = absent.
std::uint32_t persist_offset(std::string_view dir, std::uint32_t id) {
  for (std::size_t pos = 0; pos + 4 <= dir.size();) {
    const std::uint32_t head = le32(dir, pos);
    const std::uint32_t first = head & 0xFFFFF, count = head >> 20;
    pos += 4;
    if (count > (dir.size() - pos) / 4) return 0;
    if (id >= first && id - first < count) return le32(dir, pos + 4 * (id - first));
    pos += 4 * static_cast<std::size_t>(count);
  }
  return 0;
}

}  // namespace

PptEncryption ppt_encryption(std::string_view current_user, std::string_view doc) {
  PptEncryption out;
  auto note = [&](std::string_view what) {
    out.encrypted = true;
    out.evidence += (out.evidence.empty() ? "" : "; ") + std::string(what);
  };
  // CurrentUserAtom: size (4), headerToken (4), offsetToCurrentEdit (4).
  PptRecord cu;
  if (!ppt_record(current_user, 0, cu) || cu.type != kCurrentUserAtom || cu.body.size() < 12) return out;
  if (le32(cu.body, 4) == kEncryptedToken) note("CurrentUserAtom header token");
  std::uint64_t edit = le32(cu.body, 8);
  std::uint32_t session = 0;
  PptRecord ue;
  for (int n = 0; n < kMaxUserEdits && ppt_record(doc, edit, ue) && ue.type == kUserEditAtom; ++n) {
    // UserEditAtom: ... offsetLastEdit (8), offsetPersistDirectory (12),
    // ..., encryptSessionPersistIdRef (28, present when recLen is 0x20).
    if (ue.body.size() < 28) break;
    if (n == 0 && ue.body.size() >= 32 && (session = le32(ue.body, 28)) != 0)
      note("UserEditAtom encryptSessionPersistIdRef");
    if (session == 0) break;
    PptRecord dir;
    if (ppt_record(doc, le32(ue.body, 12), dir) && dir.type == kPersistDirectoryAtom) {
      if (const std::uint32_t at = persist_offset(dir.body, session)) {
        PptRecord crypt;
        if (ppt_record(doc, at, crypt) && crypt.type == kCryptSession10Container) {
          note("CryptSession10Container");
          out.container = true;
          out.info = parse_encryption_info(crypt.body);
        }
        break;
      }
    }
    const std::uint32_t last = le32(ue.body, 8);
    if (last == 0 || last >= edit) break;  // edits only go backwards
    edit = last;
  }
  return out;
}

std::string describe(const EncryptionInfo& info) {
  const std::string ver = "version " + std::to_string(info.major) + "." + std::to_string(info.minor);
  switch (info.scheme) {
    case Scheme::agile: return "agile encryption (" + info.cipher + ", " + info.hash + ", " + ver + ")";
    case Scheme::standard: return "standard encryption (" + info.cipher + ", " + ver + ")";
    case Scheme::extensible: return "extensible encryption (" + ver + ")";
    case Scheme::rc4: return "RC4 encryption (" + ver + ")";
    default: return "unknown encryption (" + ver + ")";
  }
}

std::uint64_t kdf_rounds(const EncryptionInfo& info) {
  if (info.scheme == Scheme::standard) return kStandardSpinCount;
  if (info.scheme == Scheme::agile) return info.spin_count;
  return 0;
}

DecryptResult decrypt_package(const EncryptionInfo& info, std::string_view pkg, std::string_view password,
                              std::uint64_t max_out, std::string& out) {
  if (!info.problem.empty()) return DecryptResult::malformed;
  if (info.scheme == Scheme::standard) return standard(info, pkg, password, max_out, out);
  if (info.scheme == Scheme::agile) return agile(info, pkg, password, max_out, out);
  return DecryptResult::unsupported;
}

DecryptResult check_password(const EncryptionInfo& info, std::string_view password) {
  if (!info.problem.empty()) return DecryptResult::malformed;
  std::string scratch;
  if (info.scheme == Scheme::standard) return standard_key(info, password, scratch);
  if (info.scheme == Scheme::agile) return agile_verify(info, password, scratch);
  return DecryptResult::unsupported;
}

}  // namespace emogate::office_crypto

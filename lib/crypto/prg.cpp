#include "prg.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "error.hpp"

namespace secagg {
namespace {

// The keystream is the encryption of zeros: both primitives XOR their input
// with the stream, so a shared, read-only zero buffer stays hot in L1 and the
// stream lands in `out` in a single pass. A multiple of 64 (the ChaCha20
// block) and small enough for EVP's int lengths.
constexpr size_t kZeroChunk = 16384;
alignas(64) const uint8_t kZeros[kZeroChunk] = {};

constexpr uint64_t kChachaBlock = 64;
constexpr uint64_t kChachaMaxBytes = uint64_t{1} << 38;  // 2^32 blocks of 64 bytes

[[noreturn]] void openssl_fail(const char* what) {
  unsigned long e = ERR_get_error();
  std::string msg = std::string("OpenSSL ") + what + " failed";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  ERR_clear_error();
  throw Error(Exit::software, msg);
}

// One fetch of the AES-128-CTR implementation per process, instead of an
// implicit fetch (with its global lock) in every EVP_EncryptInit_ex call.
const EVP_CIPHER* aes128ctr_cipher() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
  if (cipher == nullptr) openssl_fail("EVP_CIPHER_fetch(AES-128-CTR)");
  return cipher;
}

// libsodium picks its fastest ChaCha20 implementation in sodium_init; before
// that it runs the portable reference code. sodium_init is idempotent and
// thread-safe; the static makes the common path free.
void ensure_sodium() {
  static const int rc = sodium_init();
  if (rc < 0) throw Error(Exit::software, "libsodium failed to initialise");
}

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  CipherCtx() {
    if (p == nullptr) openssl_fail("EVP_CIPHER_CTX_new");
  }
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }  // the provider wipes the key schedule
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

// EVP_EncryptUpdate over any length, in int-sized pieces.
void evp_xor(EVP_CIPHER_CTX* ctx, const uint8_t* in, uint8_t* out, size_t n) {
  constexpr size_t kMaxPiece = size_t{1} << 30;
  while (n > 0) {
    size_t piece = std::min(n, kMaxPiece);
    int outl = 0;
    if (EVP_EncryptUpdate(ctx, out, &outl, in, static_cast<int>(piece)) != 1 ||
        outl != static_cast<int>(piece))
      openssl_fail("EVP_EncryptUpdate");
    in += piece;
    out += piece;
    n -= piece;
  }
}

// Keystream (encryption of zeros) through an initialised CTR context.
void evp_keystream(EVP_CIPHER_CTX* ctx, uint8_t* out, size_t n) {
  while (n > 0) {
    size_t piece = std::min(n, kZeroChunk);
    evp_xor(ctx, kZeros, out, piece);
    out += piece;
    n -= piece;
  }
}

}  // namespace

std::string_view prg_name(PrgKind kind) {
  switch (kind) {
    case PrgKind::aes128ctr: return "aes128ctr";
    case PrgKind::chacha20: return "chacha20";
  }
  return "unknown";
}

std::optional<PrgKind> prg_from_name(std::string_view name) {
  if (name == "aes128ctr") return PrgKind::aes128ctr;
  if (name == "chacha20") return PrgKind::chacha20;
  return std::nullopt;
}

struct Keystream::Impl {
  // aes128ctr: the key lives only in ctx's key schedule; prefix = seed[16..24).
  // chacha20: key = the whole seed.
  std::optional<CipherCtx> ctx;  // aes128ctr only; created once, then only the IV is re-set
  uint8_t prefix[8]{};
  uint8_t key[32]{};
  // aes128ctr: the byte offset the context's counter state stands at, so that
  // consecutive calls continue without re-initialising the IV.
  uint64_t next = 0;
  bool positioned = false;

  ~Impl() {
    OPENSSL_cleanse(prefix, sizeof prefix);
    sodium_memzero(key, sizeof key);
  }

  void aes_seek(uint64_t offset) {
    uint8_t iv[16];
    std::memcpy(iv, prefix, 8);
    uint64_t block = offset / 16;
    for (int i = 0; i < 8; ++i) iv[8 + i] = static_cast<uint8_t>(block >> (56 - 8 * i));
    int ok = EVP_EncryptInit_ex(ctx->p, nullptr, nullptr, nullptr, iv);
    OPENSSL_cleanse(iv, sizeof iv);
    if (ok != 1) openssl_fail("EVP_EncryptInit_ex (IV)");
    // Skip into the block: CTR keeps the partial block, so the next byte
    // written is stream byte `offset`.
    size_t skip = static_cast<size_t>(offset % 16);
    if (skip != 0) {
      uint8_t scratch[16];
      evp_xor(ctx->p, kZeros, scratch, skip);
      OPENSSL_cleanse(scratch, sizeof scratch);
    }
    next = offset;
    positioned = true;
  }

  void aes_generate(uint64_t offset, uint8_t* out, size_t n) {
    if (!positioned || offset != next) aes_seek(offset);
    positioned = false;  // unknown if the update below throws
    evp_keystream(ctx->p, out, n);
    next = offset + n;
    positioned = next >= offset;  // past 2^64 bytes: re-seek rather than continue
  }

  void chacha_generate(uint64_t offset, uint8_t* out, size_t n) {
    if (n > kChachaMaxBytes || offset > kChachaMaxBytes - n)
      throw Error(Exit::usage, "chacha20 keystream request [" + std::to_string(offset) + ", +" +
                                   std::to_string(n) + ") passes its 2^38-byte limit");
    static const uint8_t nonce[12] = {0};
    uint64_t block = offset / kChachaBlock;
    size_t skip = static_cast<size_t>(offset % kChachaBlock);
    if (skip != 0) {
      uint8_t tmp[kChachaBlock];
      crypto_stream_chacha20_ietf_xor_ic(tmp, kZeros, kChachaBlock, nonce,
                                         static_cast<uint32_t>(block), key);
      size_t take = std::min(n, static_cast<size_t>(kChachaBlock) - skip);
      std::memcpy(out, tmp + skip, take);
      sodium_memzero(tmp, sizeof tmp);
      out += take;
      n -= take;
      ++block;
    }
    while (n > 0) {
      size_t piece = std::min(n, kZeroChunk);
      crypto_stream_chacha20_ietf_xor_ic(out, kZeros, piece, nonce, static_cast<uint32_t>(block),
                                         key);
      out += piece;
      n -= piece;
      block += piece / kChachaBlock;  // pieces before the last are whole blocks
    }
  }
};

Keystream::Keystream(PrgKind kind, const uint8_t seed[32]) : kind_(kind) {
  switch (kind) {
    case PrgKind::aes128ctr: {
      impl_ = std::make_unique<Impl>();
      impl_->ctx.emplace();
      if (EVP_EncryptInit_ex(impl_->ctx->p, aes128ctr_cipher(), nullptr, seed, nullptr) != 1)
        openssl_fail("EVP_EncryptInit_ex (key)");
      std::memcpy(impl_->prefix, seed + 16, 8);
      break;
    }
    case PrgKind::chacha20:
      ensure_sodium();
      impl_ = std::make_unique<Impl>();
      std::memcpy(impl_->key, seed, 32);
      break;
    default:
      throw Error(Exit::usage,
                  "unknown PRG kind " + std::to_string(static_cast<unsigned>(kind)));
  }
}

Keystream::~Keystream() = default;
Keystream::Keystream(Keystream&&) noexcept = default;
Keystream& Keystream::operator=(Keystream&&) noexcept = default;

void Keystream::generate(uint64_t offset, uint8_t* out, size_t n) {
  if (n == 0) return;
  if (kind_ == PrgKind::aes128ctr)
    impl_->aes_generate(offset, out, n);
  else
    impl_->chacha_generate(offset, out, n);
}

void aes128ctr_xor(const uint8_t key[16], const uint8_t iv[16], const uint8_t* in, uint8_t* out,
                   size_t n) {
  CipherCtx ctx;
  if (EVP_EncryptInit_ex(ctx.p, aes128ctr_cipher(), nullptr, key, iv) != 1)
    openssl_fail("EVP_EncryptInit_ex");
  evp_xor(ctx.p, in, out, n);
}

void chacha20_ietf_xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t ic,
                       const uint8_t* in, uint8_t* out, size_t n) {
  ensure_sodium();
  if (n == 0) return;
  // RFC 8439: the 32-bit block counter must not wrap within one message.
  uint64_t blocks = (static_cast<uint64_t>(n) + kChachaBlock - 1) / kChachaBlock;
  if (blocks > (uint64_t{1} << 32) - ic)
    throw Error(Exit::usage, "chacha20: " + std::to_string(n) + " bytes from block " +
                                 std::to_string(ic) + " would wrap the 32-bit block counter");
  crypto_stream_chacha20_ietf_xor_ic(out, in, n, nonce, ic, key);
}

}  // namespace secagg

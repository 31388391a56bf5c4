#include "crypto.hpp"

#include <algorithm>
#include <string>

#include <sodium.h>

#include "error.hpp"
#include "random.hpp"

namespace secagg {

static_assert(crypto_scalarmult_BYTES == 32 && crypto_scalarmult_SCALARBYTES == 32);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kAeadKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes);
static_assert(crypto_generichash_BYTES == 32);
static_assert(crypto_sign_SEEDBYTES == 32 && crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_BYTES == kSignatureBytes && crypto_sign_SECRETKEYBYTES == 64);

X25519KeyPair x25519_keypair() {
  crypto_init();
  X25519KeyPair kp;
  random_bytes(kp.sk.data(), kp.sk.size());
  kp.pk = x25519_public(kp.sk);
  return kp;
}

Key32 x25519_public(const Secret32& sk) {
  crypto_init();
  Key32 pk{};
  // The scalar is clamped, so the result is never the identity; a failure here is a bug.
  if (crypto_scalarmult_base(pk.data(), sk.data()) != 0)
    throw Error(Exit::software, "crypto_scalarmult_base failed");
  return pk;
}

std::optional<Secret32> x25519(const Secret32& sk, const Key32& peer_pk) {
  crypto_init();
  Secret32 shared;  // wipes itself on every path
  if (crypto_scalarmult(shared.data(), sk.data(), peer_pk.data()) != 0) return std::nullopt;
  return shared;
}

Secret32 derive_pair_key(const Secret32& shared, std::string_view label,
                         std::span<const uint8_t> session_id, uint32_t a, uint32_t b) {
  crypto_init();
  const uint32_t lo = std::min(a, b), hi = std::max(a, b);
  uint8_t ids[8];
  for (int i = 0; i < 4; ++i) {
    ids[i] = static_cast<uint8_t>(lo >> (8 * i));
    ids[4 + i] = static_cast<uint8_t>(hi >> (8 * i));
  }
  static constexpr uint8_t zero = 0;

  crypto_generichash_state st;
  Secret32 out;
  if (crypto_generichash_init(&st, shared.data(), shared.size(), out.size()) != 0 ||
      crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size()) != 0 ||
      crypto_generichash_update(&st, &zero, 1) != 0 ||
      crypto_generichash_update(&st, session_id.data(), session_id.size()) != 0 ||
      crypto_generichash_update(&st, ids, sizeof ids) != 0 ||
      crypto_generichash_final(&st, out.data(), out.size()) != 0) {
    sodium_memzero(&st, sizeof st);
    throw Error(Exit::software, "BLAKE2b key derivation failed");
  }
  sodium_memzero(&st, sizeof st);  // the state holds the keyed (secret) chaining value
  return out;
}

Digest32 blake2b_256(std::span<const uint8_t> data) {
  crypto_init();
  Digest32 out{};
  if (crypto_generichash(out.data(), out.size(), data.data(), data.size(), nullptr, 0) != 0)
    throw Error(Exit::software, "BLAKE2b failed");
  return out;
}

Digest32 blake2b_256_chunks(const std::function<std::span<const uint8_t>()>& next) {
  crypto_init();
  crypto_generichash_state st;
  Digest32 out{};
  if (crypto_generichash_init(&st, nullptr, 0, out.size()) != 0) throw Error(Exit::software, "BLAKE2b failed");
  for (std::span<const uint8_t> c = next(); !c.empty(); c = next())
    if (crypto_generichash_update(&st, c.data(), c.size()) != 0) throw Error(Exit::software, "BLAKE2b failed");
  if (crypto_generichash_final(&st, out.data(), out.size()) != 0) throw Error(Exit::software, "BLAKE2b failed");
  return out;
}

Digest32 blake2b_256_keyed(std::span<const uint8_t> key, std::span<const uint8_t> data) {
  crypto_init();
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)
    throw Error(Exit::software, "BLAKE2b key of " + std::to_string(key.size()) + " bytes");
  Digest32 out{};
  if (crypto_generichash(out.data(), out.size(), data.data(), data.size(), key.data(), key.size()) != 0)
    throw Error(Exit::software, "BLAKE2b failed");
  return out;
}

namespace {
// The expanded secret key (seed || public key), wiped on every path.
struct ExpandedSigningKey {
  Key32 pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  explicit ExpandedSigningKey(const Secret32& seed) {
    crypto_init();
    if (crypto_sign_seed_keypair(pk.data(), sk.data(), seed.data()) != 0)
      throw Error(Exit::software, "crypto_sign_seed_keypair failed");
  }
  ~ExpandedSigningKey() { sodium_memzero(sk.data(), sk.size()); }
  ExpandedSigningKey(const ExpandedSigningKey&) = delete;
  ExpandedSigningKey& operator=(const ExpandedSigningKey&) = delete;
};
}  // namespace

Key32 ed25519_public(const Secret32& seed) { return ExpandedSigningKey(seed).pk; }

Signature64 ed25519_sign(const Secret32& seed, std::span<const uint8_t> message) {
  ExpandedSigningKey key(seed);
  Signature64 sig{};
  if (crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), key.sk.data()) != 0)
    throw Error(Exit::software, "crypto_sign_detached failed");
  return sig;
}

bool ed25519_verify(const Key32& pk, const Signature64& sig, std::span<const uint8_t> message) {
  crypto_init();
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), pk.data()) == 0;
}

Bytes aead_seal(const Secret32& key, std::span<const uint8_t, kAeadNonceBytes> nonce,
                std::span<const uint8_t> ad, std::span<const uint8_t> plaintext) {
  crypto_init();
  if (plaintext.size() > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
    throw Error(Exit::software, "plaintext too long for XChaCha20-Poly1305");
  Bytes out(plaintext.size() + kAeadTagBytes);
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(), plaintext.size(),
                                                 ad.data(), ad.size(), nullptr, nonce.data(),
                                                 key.data()) != 0 ||
      out_len != out.size())
    throw Error(Exit::software, "XChaCha20-Poly1305 encryption failed");
  return out;
}

std::optional<SecretBytes> aead_open(const Secret32& key, std::span<const uint8_t, kAeadNonceBytes> nonce,
                                     std::span<const uint8_t> ad, std::span<const uint8_t> ciphertext) {
  crypto_init();
  if (ciphertext.size() < kAeadTagBytes) return std::nullopt;
  SecretBytes out(ciphertext.size() - kAeadTagBytes);  // wiped when freed, also on failure
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(), nonce.data(),
                                                 key.data()) != 0 ||
      out_len != out.size())
    return std::nullopt;
  return out;
}

}  // namespace secagg

// The public-key and symmetric primitives of the protocol, all from libsodium:
// X25519 agreement, Ed25519 signatures, BLAKE2b key derivation and hashing,
// XChaCha20-Poly1305.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include "bytes.hpp"

namespace secagg {

struct X25519KeyPair {
  Key32 pk{};
  Secret32 sk;
};

X25519KeyPair x25519_keypair();           // secret from random_bytes
Key32 x25519_public(const Secret32& sk);  // crypto_scalarmult_base
// Raw X25519 (crypto_scalarmult). Returns nullopt when libsodium refuses the
// result (an all-zero shared secret, from a low-order peer key).
std::optional<Secret32> x25519(const Secret32& sk, const Key32& peer_pk);

// BLAKE2b-256 keyed with the shared secret over
//   label || 0x00 || session_id || le32(min(a,b)) || le32(max(a,b))
// so the same pair derives the same key whichever side computes it, and keys
// for different purposes, sessions or pairs are independent.
Secret32 derive_pair_key(const Secret32& shared, std::string_view label,
                         std::span<const uint8_t> session_id, uint32_t a, uint32_t b);

using Digest32 = std::array<uint8_t, 32>;
Digest32 blake2b_256(std::span<const uint8_t> data);
// BLAKE2b-256 of the concatenation of the chunks `next` returns, until it returns an empty one: a
// large file is hashed without being held.
Digest32 blake2b_256_chunks(const std::function<std::span<const uint8_t>()>& next);
// BLAKE2b-256 keyed with key (crypto_generichash with a key of 16 to 64 bytes; Error(Exit::software)
// for another length).
Digest32 blake2b_256_keyed(std::span<const uint8_t> key, std::span<const uint8_t> data);

// Ed25519. A signing key is kept as its 32-byte seed only; the 64-byte expanded key exists
// only inside ed25519_sign and is wiped there.
inline constexpr size_t kSignatureBytes = 64;
using Signature64 = std::array<uint8_t, kSignatureBytes>;
Key32 ed25519_public(const Secret32& seed);  // crypto_sign_seed_keypair
Signature64 ed25519_sign(const Secret32& seed, std::span<const uint8_t> message);
// False for a bad signature, and for a public key libsodium refuses (small order, non-canonical).
bool ed25519_verify(const Key32& pk, const Signature64& sig, std::span<const uint8_t> message);

// XChaCha20-Poly1305 (IETF construction).
inline constexpr size_t kAeadKeyBytes = 32, kAeadNonceBytes = 24, kAeadTagBytes = 16;
// ciphertext || tag.
Bytes aead_seal(const Secret32& key, std::span<const uint8_t, kAeadNonceBytes> nonce,
                std::span<const uint8_t> ad, std::span<const uint8_t> plaintext);
// nullopt if the tag does not verify (or the ciphertext is shorter than a tag).
std::optional<SecretBytes> aead_open(const Secret32& key, std::span<const uint8_t, kAeadNonceBytes> nonce,
                                     std::span<const uint8_t> ad, std::span<const uint8_t> ciphertext);

}  // namespace secagg

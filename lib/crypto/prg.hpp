// The pseudorandom generator that expands 32-byte seeds into masks.
// AES-128-CTR (OpenSSL EVP, AES-NI) by default; libsodium's IETF ChaCha20 as
// an option for hardware without AES instructions. The stream is addressed by
// byte offset (an explicit block counter underneath), so any slice of a mask
// can be expanded on its own: in chunks, in parallel, or on another machine.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace secagg {

enum class PrgKind : uint8_t { aes128ctr = 1, chacha20 = 2 };

std::string_view prg_name(PrgKind kind);                      // "aes128ctr", "chacha20"
std::optional<PrgKind> prg_from_name(std::string_view name);  // inverse; nullopt if unknown

// Keystream of one seed.
//  aes128ctr: key = seed[0..16), IV = seed[16..24) || 64-bit big-endian block counter.
//  chacha20:  key = seed, nonce = 12 zero bytes, 32-bit block counter (64-byte blocks),
//             so a stream is at most 2^38 bytes long.
class Keystream {
 public:
  Keystream(PrgKind kind, const uint8_t seed[32]);
  ~Keystream();
  Keystream(const Keystream&) = delete;
  Keystream& operator=(const Keystream&) = delete;
  Keystream(Keystream&&) noexcept;
  Keystream& operator=(Keystream&&) noexcept;

  // Write n bytes of the stream starting at byte `offset` (any alignment) to out.
  void generate(uint64_t offset, uint8_t* out, size_t n);
  PrgKind kind() const { return kind_; }

 private:
  PrgKind kind_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raw primitives, exposed for known-answer tests and the benchmark's "limit".
// aes128ctr_xor: OpenSSL AES-128 in CTR mode with a full 16-byte counter block.
void aes128ctr_xor(const uint8_t key[16], const uint8_t iv[16], const uint8_t* in, uint8_t* out,
                   size_t n);
// chacha20_ietf_xor: RFC 8439 ChaCha20 with 96-bit nonce and initial block counter ic.
void chacha20_ietf_xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t ic,
                       const uint8_t* in, uint8_t* out, size_t n);

}  // namespace secagg

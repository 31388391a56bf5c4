// Helpers shared by the fuzz targets (tests/fuzz/fuzz_*.cpp).
//
// A mutated envelope almost never keeps a valid BLAKE2b checksum, so without help the
// fuzzer would only ever exercise open_envelope's checksum refusal. The targets therefore
// run an input twice when it looks like an envelope: once exactly as given (the framing
// checks: magic, version, length, checksum) and once "resealed" — the body length field
// set to what the input really holds and the checksum recomputed — so that mutations of
// the body reach the body decoders and the protocol checks behind them. A signed type's
// signature is left as it is by reseal; resign (for a target that holds the sender's key)
// makes it valid again, so that mutations also get past the signature checks.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "bytes.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "le.hpp"
#include "signature.hpp"

namespace secagg::fuzz {

inline constexpr size_t kMinEnvelope = kHeaderBytes + kChecksumBytes;

// Bytes [0, n) as a copy.
inline Bytes copy(const uint8_t* data, size_t size) { return Bytes(data, data + size); }

// The trailer (checksum, and signature for a signed type) the bytes' type byte asks for, or
// just the checksum if they are too short to hold the signature too.
inline size_t trailer_of(const Bytes& b) {
  size_t t = trailer_bytes(b[6]);
  return b.size() >= kHeaderBytes + t ? t : kChecksumBytes;
}

// Sets the body length field to what the bytes hold and recomputes the checksum (the
// signature bytes of a signed type stay as they are). Returns false (and leaves the bytes
// alone) if they are too short to be an envelope.
inline bool reseal(Bytes& b) {
  if (b.size() < kMinEnvelope) return false;
  uint64_t body = b.size() - kHeaderBytes - trailer_of(b);
  for (int i = 0; i < 8; ++i) b[32 + i] = static_cast<uint8_t>(body >> (8 * i));
  Digest32 sum = blake2b_256(std::span<const uint8_t>(b.data(), kHeaderBytes + body));
  std::memcpy(b.data() + kHeaderBytes + body, sum.data(), kChecksumBytes);
  return true;
}

// After reseal: signs a signed type's checksum with `signing_seed` (no-op for other types).
inline void resign(Bytes& b, const Secret32& signing_seed) {
  if (b.size() < kMinEnvelope || trailer_of(b) == kChecksumBytes) return;
  const size_t at = b.size() - kSignatureBytes - kChecksumBytes;
  Digest32 sum;
  std::memcpy(sum.data(), b.data() + at, kChecksumBytes);
  Signature64 sig = sign_checksum(signing_seed, sum);
  std::memcpy(b.data() + at + kChecksumBytes, sig.data(), kSignatureBytes);
}

// Overwrites the header fields a consumer checks before the body (magic, version, type,
// round, session, sender, recipient), then reseals. False if too short.
inline bool fix_header(Bytes& b, MsgType type, const SessionId& sid, uint32_t sender, uint32_t recipient) {
  if (b.size() < kMinEnvelope) return false;
  std::memcpy(b.data(), kMagic.data(), kMagic.size());
  b[4] = static_cast<uint8_t>(kFormatVersion);
  b[5] = static_cast<uint8_t>(kFormatVersion >> 8);
  b[6] = static_cast<uint8_t>(type);
  b[7] = round_number(round_of(type));
  std::memcpy(b.data() + 8, sid.data(), sid.size());
  for (int i = 0; i < 4; ++i) b[24 + i] = static_cast<uint8_t>(sender >> (8 * i));
  for (int i = 0; i < 4; ++i) b[28 + i] = static_cast<uint8_t>(recipient >> (8 * i));
  return reseal(b);
}

// With SECAGG_FUZZ_DEBUG set, every secagg::Error a target catches is printed: to see
// how far a seed or a reproducer gets.
inline void note(const Error& e) {
  static const bool on = [] {
    const char* v = std::getenv("SECAGG_FUZZ_DEBUG");
    return v && *v;
  }();
  if (on) std::fprintf(stderr, "  secagg::Error (exit %d): %s\n", static_cast<int>(e.code()), e.what());
}

// Consumes selector bytes from the front of an input; missing bytes read as 0.
struct Selector {
  const uint8_t* data;
  size_t size;
  uint8_t take() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::span<const uint8_t> rest() const { return {data, size}; }
};

}  // namespace secagg::fuzz

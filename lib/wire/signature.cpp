#include "signature.hpp"

#include <algorithm>

namespace secagg {
namespace {

std::array<uint8_t, kMessageSignatureLabel.size() + sizeof(Digest32)> signed_bytes(const Digest32& checksum) {
  std::array<uint8_t, kMessageSignatureLabel.size() + sizeof(Digest32)> m{};
  std::copy(kMessageSignatureLabel.begin(), kMessageSignatureLabel.end(), m.begin());
  std::copy(checksum.begin(), checksum.end(), m.begin() + kMessageSignatureLabel.size());
  return m;
}

}  // namespace

Signature64 sign_checksum(const Secret32& signing_seed, const Digest32& checksum) {
  return ed25519_sign(signing_seed, signed_bytes(checksum));
}

bool signed_by(const Envelope& env, const Key32& signing_pk) {
  return env.signature && ed25519_verify(signing_pk, *env.signature, signed_bytes(env.checksum));
}

}  // namespace secagg

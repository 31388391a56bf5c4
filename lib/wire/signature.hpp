// Binding a client's round messages to its round-0 key (docs/security.md, "Binding a client's messages to its round-0 key"). Every
// client -> server round message (signed_type) ends with an Ed25519 signature of
//   kMessageSignatureLabel || checksum
// where the checksum is the envelope's BLAKE2b-256 of header and body: the signature covers
// the type, round, session, sender, recipient and body, and checking it costs no second pass
// over a large body. The key is the one the client advertised in round 0 (in the roster), so
// no one else can speak for its id afterwards. The label keeps these signatures apart from
// any other use of the same key.
#pragma once
#include <string_view>

#include "crypto.hpp"
#include "envelope.hpp"

namespace secagg {

// The domain-separation label (next to the key-derivation labels of protocol.hpp in spirit:
// one label per purpose, so no signature can be replayed as another kind).
inline constexpr std::string_view kMessageSignatureLabel = "secagg v2 message signature";

// The signature of a message whose checksum is `checksum`, by the key of `signing_seed`.
Signature64 sign_checksum(const Secret32& signing_seed, const Digest32& checksum);

// True if env (as open_envelope returned it) carries a signature by `signing_pk` over its
// checksum. False for an unsigned envelope.
bool signed_by(const Envelope& env, const Key32& signing_pk);

}  // namespace secagg

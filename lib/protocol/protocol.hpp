// Pieces both sides of the protocol must compute identically: domain-separation
// labels, the pairwise mask seeds, the share plaintext and its associated data,
// and the checks that an incoming message is the one expected.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto.hpp"
#include "mask.hpp"
#include "messages.hpp"
#include "thread_pool.hpp"

namespace secagg {

inline constexpr std::string_view kShareKeyLabel = "secagg/v1 share-key";
inline constexpr std::string_view kMaskSeedLabel = "secagg/v1 mask-seed";

// The seed of the pairwise mask between u and v, from u's mask secret key and v's public key.
// Throws Error(Exit::data) if v's key is a low-order point.
Secret32 pairwise_seed(const Secret32& s_sk_u, const Key32& s_pk_v, const SessionId& sid, uint32_t u, uint32_t v);
// The key that encrypts u's shares for v (and v's for u).
Secret32 share_key(const Secret32& c_sk_self, const Key32& c_pk_peer, const SessionId& sid, uint32_t from,
                   uint32_t to);
// Associated data of an encrypted share: session id, round 1, le32 from, le32 to.
Bytes share_ad(const SessionId& sid, uint32_t from, uint32_t to);

// The plaintext of one encrypted share: le32 from, le32 to, then the share of
// from's mask key and the share of from's self-mask seed (x: le32, 5 x le64 each).
inline constexpr size_t kSharePlaintextBytes = 8 + 2 * (4 + 8 * shamir::kChunks);
SecretBytes encode_share_plaintext(uint32_t from, uint32_t to, const shamir::Share& key, const shamir::Share& mask);
// Returns false if the layout is wrong.
bool decode_share_plaintext(std::span<const uint8_t> pt, uint32_t& from, uint32_t& to, shamir::Share& key,
                            shamir::Share& mask);

// Active sessions (robust unmasking): the commitment of a dealer to one share it deals a holder,
// BLAKE2b-256 of "secagg/v1 share commitment" || session id || le32 dealer || le32 holder || kind
// (0: mask-key share, 1: self-mask share) || le32 x || the five le64 y. The server checks each
// share revealed in round 4 against it; a holder checks its shares against it in round 2. The
// shares are uniformly random field elements, so the commitment reveals nothing of them.
enum class ShareKind : uint8_t { mask_key = 0, self_mask = 1 };
inline constexpr std::string_view kShareCommitmentLabel = "secagg/v1 share commitment";
Digest32 share_commitment(const SessionId& sid, uint32_t dealer, uint32_t holder, ShareKind kind,
                          const shamir::Share& share);

// A key is usable for X25519 if agreeing with it does not give the all-zero secret.
bool usable_public_key(const Key32& pk);

// Incoming-message checks; each throws Error(Exit::data) with a message that names origin.
std::string round_label(MsgType type);  // "round 2 (masked-input)"
void expect_message(const Envelope& env, const std::string& origin, MsgType type, const SessionId& sid);
void expect_sender(const Envelope& env, const std::string& origin, uint32_t sender);
void expect_recipient(const Envelope& env, const std::string& origin, uint32_t recipient);

// Set helpers on sorted id lists.
bool sorted_unique(std::span<const uint32_t> ids);
bool is_subset(std::span<const uint32_t> sub, std::span<const uint32_t> super);  // both sorted
bool contains(std::span<const uint32_t> sorted_ids, uint32_t id);
uint32_t count_common(std::span<const uint32_t> a, std::span<const uint32_t> b);  // |a ∩ b|, both sorted

}  // namespace secagg

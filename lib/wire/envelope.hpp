// The envelope every secagg file and frame travels in (man/secagg-formats.5, ENVELOPE), and the
// one table of message types (docs/architecture.md, "Message types").
//
//   offset size field
//   0      4    magic "SAGG"
//   4      2    format version (le16), currently 2
//   6      1    message type
//   7      1    protocol round
//   8      16   session id
//   24     4    sender id (le32; 0 = server)
//   28     4    recipient id (le32; 0 = server or everyone)
//   32     8    body length (le64)
//   40     n    body (cereal portable binary archive)
//   40+n   32   BLAKE2b-256 of bytes [0, 40+n)
//   72+n   64   signed types only (client -> server round messages, signed_type()):
//                Ed25519 signature of kMessageSignatureLabel || the checksum, by the
//                sender's round-0 signing key (signature.hpp)
//
// Signing the checksum rather than the message keeps a large masked vector at one hash
// pass. open_envelope parses the signature but cannot check it: the key is in the roster.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "bytes.hpp"
#include "crypto.hpp"

namespace secagg {

inline constexpr std::array<uint8_t, 4> kMagic = {'S', 'A', 'G', 'G'};
inline constexpr uint16_t kFormatVersion = 2;
inline constexpr size_t kHeaderBytes = 40;
inline constexpr size_t kChecksumBytes = 32;
inline constexpr size_t kSessionIdBytes = 16;
// Bodies above this are refused before any allocation (2^36: a 2^30-element vector of 62-bit words fits).
inline constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 36;

using SessionId = std::array<uint8_t, kSessionIdBytes>;

// The protocol's rounds (Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving
// Machine Learning"; docs/protocol.md): 0 AdvertiseKeys, 1 ShareKeys, 2 MaskedInputCollection,
// 3 ConsistencyCheck (active sessions only: docs/security.md, "Active mode"), 4 Unmasking. The
// value is the round byte of a message header; none (0xff) marks a message of no round (setup's
// parameters, vectors, client states, notices) and, compared with a round, comes after every one
// of them.
enum class Round : uint8_t { r0 = 0, r1 = 1, r2 = 2, r3 = 3, r4 = 4, none = 0xff };
// The rounds of an honest-but-curious session (round 3 is skipped), and of an active one.
inline constexpr std::array<Round, 4> kRounds = {Round::r0, Round::r1, Round::r2, Round::r4};
inline constexpr std::array<Round, 5> kActiveRounds = {Round::r0, Round::r1, Round::r2, Round::r3, Round::r4};
// The number a user sees ("round 2"); 255 for none.
constexpr uint8_t round_number(Round r) { return static_cast<uint8_t>(r); }
// The position of an honest-but-curious round in kRounds (0 to 3), for per-round arrays;
// kRounds.size() for none and for round 3.
constexpr size_t round_index(Round r) {
  for (size_t i = 0; i < kRounds.size(); ++i)
    if (kRounds[i] == r) return i;
  return kRounds.size();
}
// The round that follows r in a session of each kind (none after round 4 and after none).
constexpr Round next_round(Round r, bool active = false) {
  if (r == Round::r2 && active) return Round::r3;
  if (r == Round::r3) return Round::r4;
  const size_t i = round_index(r);
  return i + 1 < kRounds.size() ? kRounds[i + 1] : Round::none;
}
// True if n is the number of a round: 0 to 4.
constexpr bool is_round_number(long long n) {
  for (Round r : kActiveRounds)
    if (n == round_number(r)) return true;
  return false;
}

// Who writes a message of a type (its sender field): a client (id u >= 1) or the server (0).
enum class Party : uint8_t { client, server };

// ---- The table of message types ---------------------------------------------------------------
// One row per type; everything else a type is derives from it: the MsgType enumerator, its name,
// round, sender, whether it is signed (a client's round message, signed_type), its body struct
// (BodyOf in messages.hpp) and the largest body a reader accepts (body_bound below; file readers
// and socket frames apply the same one: max_body_bytes in params.hpp). Adding a type is one row
// here plus its body struct (docs/architecture.md, "Message types").
//
// Columns: wire value, enumerator, name, round, sender, body struct, and the body bound, in bytes
// per client (n), per share holder (h = min(k + 1, n)), per packed vector (its elements, ceil(L * b / 8) bytes
// for L elements of b bits, plus kVectorFields), per vector element (L) and fixed.
#define SECAGG_MESSAGE_TYPES(X)                                                                                      \
  X(1, params, "params", none, server, Params, 0, 0, 0, 0, kBodySlack)                                                  \
  X(2, advertise_keys, "advertise-keys", r0, client, AdvertiseKeys, 0, 0, 0, 0, kBodySlack)                             \
  X(3, roster, "roster", r0, server, Roster, kPerRosterEntry, 0, 0, 0, kBodySlack)                                      \
  X(4, share_keys, "share-keys", r1, client, SealedShares, 0, kPerSealedShare, 0, 0, kBodySlack)                        \
  X(5, inbox, "inbox", r1, server, SealedShares, 0, kPerSealedShare, 0, 0, kBodySlack)                                  \
  X(6, masked_input, "masked-input", r2, client, RingVector, 0, 0, 1, 0, kBodySlack)                                    \
  X(7, survivors, "survivors", r2, server, IdList, kPerId, 0, 0, 0, kBodySlack)                                         \
  X(8, unmask_shares, "unmask-shares", r4, client, UnmaskShares, 0, kPerOwnedShare, 0, 0, kBodySlack)                   \
  X(9, vector, "vector", none, server, RingVector, 0, 0, 1, 0, kBodySlack)                                              \
  X(10, client_state, "client-state", none, client, ClientState, kStatePerClient, kStatePerHolder, 1, 0, kStateFixed)   \
  X(11, server_round1, "server-round1", r1, server, IdList, kPerId, 0, 0, 0, kBodySlack)                                \
  X(12, notice, "notice", none, server, Notice, 0, 0, 0, 0, kBodySlack)                                            \
  X(13, selection, "selection", none, server, Selection, 0, 0, 0, kPerIndex, kBodySlack)                        \
  X(14, identity, "identity", none, client, Identity, 0, 0, 0, 0, kBodySlack)                                       \
  X(15, identity_public, "identity-public", none, client, IdentityPublic, 0, 0, 0, 0, kBodySlack)                   \
  X(16, certificate, "certificate", none, server, Certificate, 0, 0, 0, 0, kBodySlack)                             \
  X(17, consistency_signature, "consistency-signature", r3, client, SurvivorSignature, 0, 0, 0, 0, kBodySlack)      \
  X(18, consistency, "consistency", r3, server, Consistency, kPerSignature, 0, 0, 0, kBodySlack)            \
  X(19, neighbourhood, "neighbourhood", r0, server, Neighbourhood, kPerWindowSlot, 0, 0, 0, kBodySlack)             \
  X(20, unmask_part, "unmask-part", none, server, UnmaskPart, kPerId, 0, 1, 0, kBodySlack)

// Generous sizes of the cereal encodings the bounds are made of (each well above the real size).
inline constexpr uint64_t kBodySlack = 4096;      // every body's fixed fields (a notice's reason is at most 512 bytes)
// id and three keys (4 + 3 x 32 bytes); in an active session also a certificate (140) and a signature (64)
inline constexpr uint64_t kPerRosterEntry = 384;
// a window slot: an entry and a proof of at most 21 digests (n <= 2^20), with size tags
inline constexpr uint64_t kPerWindowSlot = kPerRosterEntry + 21 * 32 + 32;
inline constexpr uint64_t kPerSignature = 96;     // a consistency entry: id and an Ed25519 signature
inline constexpr uint64_t kPerSealedShare = 256;  // peer, nonce, a 112-byte ciphertext, size tags
inline constexpr uint64_t kPerOwnedShare = 128;   // owner, x, the share's words
inline constexpr uint64_t kPerId = 8;
inline constexpr uint64_t kPerIndex = 4;  // a selection's index of the model (u32)
inline constexpr uint64_t kVectorFields = 64;     // a RingVector's modulus, length and size tag
// A client state: keys, the roster, U2 and U3 (per client); per share holder two peer keys of 64
// and the held shares (256); two digests; and the last message sent, a masked input at most.
inline constexpr uint64_t kStatePerClient = kPerRosterEntry + 2 * kPerId;
inline constexpr uint64_t kStatePerHolder = 2 * 64 + 256;
inline constexpr uint64_t kStateFixed =
    64 + (kBodySlack + kHeaderBytes + kChecksumBytes + kSignatureBytes) + kBodySlack;

enum class MsgType : uint8_t {
#define SECAGG_X(wire, id, ...) id = wire,
  SECAGG_MESSAGE_TYPES(SECAGG_X)
#undef SECAGG_X
};

// What the table says of one type.
struct MsgTypeInfo {
  MsgType type;
  std::string_view name;  // "advertise-keys", ...
  Round round;
  Party sender;
  // The body bound: per_client * n + per_holder * h + vectors * (ceil(L * b / 8) + kVectorFields)
  // + per_element * L + fixed.
  uint64_t per_client, per_holder, vectors, per_element, fixed;
};
inline constexpr MsgTypeInfo kMsgTypes[] = {
#define SECAGG_X(wire, id, name, round, sender, body, per_client, per_holder, vectors, per_element, fixed) \
  {MsgType::id, name, Round::round, Party::sender, per_client, per_holder, vectors, per_element, fixed},
    SECAGG_MESSAGE_TYPES(SECAGG_X)
#undef SECAGG_X
};
inline constexpr size_t kMsgTypeCount = std::size(kMsgTypes);
// Wire values run 1, 2, ... in row order, so a type's row is found by its value.
static_assert([] {
  for (size_t i = 0; i < kMsgTypeCount; ++i)
    if (static_cast<size_t>(kMsgTypes[i].type) != i + 1) return false;
  return true;
}());

constexpr bool valid_type(uint8_t type) { return type >= 1 && type <= kMsgTypeCount; }
// The types whose body holds secrets (a client state, an identity): encoded in wiping memory,
// written 0600, and their secret fields shown "redacted" by secagg-inspect unless asked.
constexpr bool secret_type(MsgType type) { return type == MsgType::client_state || type == MsgType::identity; }
// The row of a type (valid_type must hold).
constexpr const MsgTypeInfo& msg_info(MsgType type) { return kMsgTypes[static_cast<size_t>(type) - 1]; }
constexpr std::string_view type_name(MsgType type) {
  return valid_type(static_cast<uint8_t>(type)) ? msg_info(type).name : "unknown";
}
constexpr Round round_of(MsgType type) {
  return valid_type(static_cast<uint8_t>(type)) ? msg_info(type).round : Round::none;
}
// The types that carry a signature: the clients' round messages (advertise-keys, share-keys,
// masked-input, consistency-signature, unmask-shares).
constexpr bool signed_type(MsgType type) {
  return round_of(type) != Round::none && msg_info(type).sender == Party::client;
}
// Bytes after the body for a type byte as read from a header: the checksum, and the
// signature for a signed type (an unknown type counts as unsigned).
constexpr size_t trailer_bytes(uint8_t type) {
  return kChecksumBytes + (valid_type(type) && signed_type(static_cast<MsgType>(type)) ? kSignatureBytes : 0);
}
// The message a client sends in round r (advertise-keys in round 0, ...).
constexpr MsgType client_message(Round r) {
  for (const MsgTypeInfo& t : kMsgTypes)
    if (t.round == r && t.sender == Party::client && r != Round::none) return t.type;
  return MsgType::params;  // not reached for a round of kRounds (checked below)
}
static_assert([] {
  for (Round r : kActiveRounds)
    if (!signed_type(client_message(r)) || round_of(client_message(r)) != r) return false;
  return true;
}());

// What a body bound depends on: n, h = min(k + 1, n), the packed size of one vector and its length.
struct BoundSizes {
  uint64_t clients = 0;
  uint64_t holders = 0;
  uint64_t vector_bytes = 0;  // ceil(L * b / 8)
  uint64_t elements = 0;      // L
};
// The largest body of a type in a session of these sizes (with the generous slack above).
constexpr uint64_t body_bound(MsgType type, const BoundSizes& s) {
  const MsgTypeInfo& t = msg_info(type);
  return t.per_client * s.clients + t.per_holder * s.holders + t.vectors * (s.vector_bytes + kVectorFields) +
         t.per_element * s.elements + t.fixed;
}

struct Envelope {
  MsgType type{};
  Round round = Round::none;
  SessionId session{};
  uint32_t sender = 0;
  uint32_t recipient = 0;
  Bytes body;
  // Set by open_envelope: the verified checksum of the bytes as read, and the signature of a
  // signed type. A field changed in memory afterwards is covered by neither: re-seal it.
  Digest32 checksum{};
  std::optional<Signature64> signature;
};

// The bytes of env. A signed type needs env.signature (appended as it is, so a changed
// header or body makes it invalid); an unsigned type must have none. Error(Exit::software)
// otherwise.
Bytes seal_envelope(const Envelope& env);
// The bytes of env with a fresh signature: sign(checksum) for a signed type.
using ChecksumSigner = std::function<Signature64(const Digest32& checksum)>;
Bytes seal_envelope(const Envelope& env, const ChecksumSigner& sign);
// The same for a body already written into `framed` after kHeaderBytes of room (framed = room ||
// body; header.body is ignored): the header goes into the room and the trailer is appended, so a
// large body is never copied. Reserve kHeaderBytes + body + trailer to avoid a reallocation.
Bytes seal_framed(const Envelope& header, Bytes&& framed, const ChecksumSigner* sign = nullptr);
// Parses and verifies magic, version, type, round, lengths (the trailer's depends on the
// type) and checksum, and parses a signed type's signature without checking it. `origin` (a
// file name) starts every error message. Throws Error(Exit::data).
Envelope open_envelope(std::span<const uint8_t> bytes, const std::string& origin);
// The same, the body kept in the buffer the message came in (moved to its front) instead of a copy.
Envelope open_envelope(Bytes&& bytes, const std::string& origin);
// The checks open_envelope makes on a header alone, for a reader that reads the 40-byte header
// first: magic, version, a known type, and an announced body length of at most max_body.
// Returns the size of the whole message (header, body and the type's trailer). Throws
// Error(Exit::data) starting with `origin`, with the words open_envelope would use.
uint64_t message_size(std::span<const uint8_t> header, uint64_t max_body, const std::string& origin);
// True if the bytes start with the magic (used to tell binary vectors from text).
bool looks_like_envelope(std::span<const uint8_t> bytes);

std::string session_hex(const SessionId& sid);

}  // namespace secagg

// "round 2" in a log line or message: a round is formatted as its number.
template <>
struct fmt::formatter<secagg::Round> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  template <class Ctx>
  auto format(secagg::Round r, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{}", static_cast<unsigned>(secagg::round_number(r)));
  }
};

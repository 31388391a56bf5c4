// The envelope every secagg file and frame travels in (DESIGN.md section 6).
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
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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

enum class MsgType : uint8_t {
  params = 1,          // setup: session parameters
  advertise_keys = 2,  // round 0, client -> server
  roster = 3,          // round 0, server -> clients: U1 and its keys
  share_keys = 4,      // round 1, client -> server: encrypted shares
  inbox = 5,           // round 1, server -> one client: the shares addressed to it (defines U2)
  masked_input = 6,    // round 2, client -> server: y_u
  survivors = 7,       // round 2, server -> clients: U3
  unmask_shares = 8,   // round 4, client -> server
  vector = 9,          // an input vector or an aggregate
  client_state = 10,   // a client's secret state (0600)
  server_round1 = 11,  // the server's record of U2
  notice = 12,         // socket mode, server -> one client, instead of an answer: retry, aborted, refused, stopped
};

// The protocol round a message type belongs to (0xff: not a round message).
inline constexpr uint8_t kNoRound = 0xff;
uint8_t round_of(MsgType type);
std::string_view type_name(MsgType type);  // "advertise-keys", ...
bool valid_type(uint8_t type);
// The types that carry a signature: advertise-keys, share-keys, masked-input, unmask-shares.
bool signed_type(MsgType type);
// Bytes after the body for a type byte as read from a header: the checksum, and the
// signature for a signed type (an unknown type counts as unsigned).
size_t trailer_bytes(uint8_t type);

struct Envelope {
  MsgType type{};
  uint8_t round = kNoRound;
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
// The checks open_envelope makes on a header alone, for a reader that reads the 40-byte header
// first: magic, version, a known type, and an announced body length of at most max_body.
// Returns the size of the whole message (header, body and the type's trailer). Throws
// Error(Exit::data) starting with `origin`, with the words open_envelope would use.
uint64_t message_size(std::span<const uint8_t> header, uint64_t max_body, const std::string& origin);
// True if the bytes start with the magic (used to tell binary vectors from text).
bool looks_like_envelope(std::span<const uint8_t> bytes);

std::string session_hex(const SessionId& sid);

}  // namespace secagg

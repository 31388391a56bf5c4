// Message bodies (one struct per message type) and the typed encode/decode that wraps them in
// envelopes. The bodies are plain structs: their serialization (cereal, field by field) is
// private to the wire layer, in private/message_serialize.hpp, so no other layer sees cereal.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "bytes.hpp"
#include "envelope.hpp"
#include "modulus.hpp"
#include "prg.hpp"
#include "shamir.hpp"

namespace secagg {

inline constexpr uint32_t kServerId = 0;
// Client ids run from 1 to n; at least 2^20 clients are supported.
inline constexpr uint32_t kMaxClients = uint32_t{1} << 20;

enum class SparseKind : uint8_t { none = 0, union_plain = 1, union_private = 2, values = 3 };
// What the server is trusted to do (docs/security.md): follow the protocol while trying to learn
// more (honest-but-curious, the paper's T1), or anything at all (active: the paper's T2, with
// certified identities and the consistency round).
enum class ThreatModel : uint8_t { honest_but_curious = 0, active = 1 };
// Distributed differential privacy (docs/privacy.md): none, or the distributed discrete Gaussian
// of Kairouz, Liu and Steinke (DDG), added by each client before masking.
enum class DpKind : uint8_t { none = 0, ddg = 1 };
// "honest-but-curious", "active" ("unknown" otherwise).
const char* threat_model_name(ThreatModel m);
// "ddg" ("none" for none, "unknown" otherwise).
const char* dp_name(DpKind k);
// "union-plain", "union-private", "values" ("none" for none, "unknown" otherwise).
const char* sparse_name(SparseKind k);

struct Params {
  uint32_t clients = 0;     // n
  uint32_t threshold = 0;   // t
  uint32_t neighbours = 0;  // k; clients - 1 means full SecAgg
  uint64_t modulus = 0;     // R
  uint64_t length = 0;      // elements per vector
  uint8_t prg = static_cast<uint8_t>(PrgKind::aes128ctr);
  uint8_t insecure_threshold = 0;  // 1 if setup was told to accept t <= n/2
  // Quantization spec (secagg-quantize). quant_bits 0: inputs are ring elements already.
  // Otherwise element 0 of every ring vector is the client's weight and elements
  // 1..length-1 are its floats, clipped to [-clip, clip], mapped onto [0, 2^quant_bits - 1]
  // and multiplied by the weight (at most max_weight).
  uint8_t quant_bits = 0;
  double clip = 0;
  uint64_t max_weight = 0;
  // Sparse aggregation (van Rooij et al., SSGA; docs/sparse.md): none in a dense session, whose
  // parameters are then byte for byte what they were before sparse sessions existed. A union
  // session sums each client's encoding of its top indices (union_plain, union_private); a
  // values session sums the clients' residual values on the selection whose digest it carries.
  SparseKind sparse = SparseKind::none;
  uint64_t model_length = 0;  // N: entries of the model (of every residual)
  uint32_t per_client = 0;    // union: indices each client sends, floor(K / n)
  uint32_t union_cells = 0;   // union_private: cells of the sketch (docs/sparse.md)
  Digest32 selection{};       // values: BLAKE2b-256 of the selection message aggregated over
  // Active mode (docs/security.md, "Active mode"): honest_but_curious in every other session, whose
  // parameters are then byte for byte what they were before active sessions existed. An active
  // session names the CA that certifies client identities and the number C of corrupted clients
  // its threshold is chosen for (t > (n + C) / 2).
  ThreatModel threat = ThreatModel::honest_but_curious;
  uint32_t corrupt = 0;  // C
  Key32 ca_pk{};         // the enrollment authority's Ed25519 key
  // Sharded federations (docs/shards.md): a shard session names the top session it is a shard
  // of (parent; all zero otherwise), and a hierarchical top session, whose clients are the shard
  // servers, bounds the clients of one shard (shard_clients; 0 otherwise). Both zero in every
  // other session, whose parameters are then byte for byte what they were before shards existed.
  SessionId parent{};
  uint32_t shard_clients = 0;
  // Distributed DP (docs/privacy.md): none in every other session, whose parameters are then
  // byte for byte what they were before DP existed. A DDG session's vectors are the element 0
  // weight (1 per client) and the d = length - 1 coordinates of a rotated, clipped, scaled,
  // rounded and noised update of dp_input_length floats, padded to the power of two d; the ring
  // is 2^bits. The noise is calibrated for dp_contributors honest contributors (t - C).
  DpKind dp = DpKind::none;
  double dp_l2_clip = 0;           // c
  double dp_noise_multiplier = 0;  // z: the contributors' summed noise has stddev z c
  double dp_beta = 0;              // conditional rounding (DDG Theorem 1)
  double dp_scale = 0;             // s: values are multiplied by s before rounding
  double dp_delta = 0;             // the delta the accountant reports epsilon for
  uint32_t dp_contributors = 0;
  uint64_t dp_input_length = 0;

  Modulus ring() const { return Modulus{modulus}; }
  bool active() const { return threat == ThreatModel::active; }
  bool quantized() const { return quant_bits != 0; }
  PrgKind prg_kind() const { return static_cast<PrgKind>(prg); }
  bool is_shard() const { return parent != SessionId{}; }
  bool private_dp() const { return dp != DpKind::none; }
  // The most clients whose inputs can end up in this session's sum: n, or n x shard_clients in a
  // hierarchical top session. The modulus must hold that many quantized inputs without wrapping.
  uint64_t capacity() const { return uint64_t{clients} * (shard_clients ? shard_clients : 1); }
};

// A CA's statement that client `id` owns identity_pk, until `expires` (Unix seconds, 0 = never):
// signature = Ed25519 by ca_pk over "secagg/v1 certificate" || le32 id || identity_pk || le64
// expires (lib/protocol/identity.hpp).
struct Certificate {
  uint32_t id = 0;
  Key32 identity_pk{};
  Key32 ca_pk{};
  uint64_t expires = 0;
  Signature64 signature{};
};

// In an active session, what ties a client's round-0 keys to its certified identity: its
// certificate, and the identity's signature over the session, the id and the three keys
// (lib/protocol/identity.hpp, advert_signed_bytes).
struct Attestation {
  Certificate cert;
  Signature64 binding{};
};

struct AdvertiseKeys {
  Key32 c_pk{};    // encrypts shares (round 1)
  Key32 s_pk{};    // agrees pairwise masks (round 2)
  Key32 sig_pk{};  // Ed25519: signs this advert and every later message of the client
  std::optional<Attestation> attestation;  // active sessions only, after the keys
};

struct RosterEntry {
  uint32_t id = 0;
  Key32 c_pk{};
  Key32 s_pk{};
  Key32 sig_pk{};  // the server checks the client's later messages against it
  std::optional<Attestation> attestation;  // active sessions only (every entry has one)
};

// U1 with its keys, sorted by id.
struct Roster {
  std::vector<RosterEntry> clients;
  const RosterEntry* find(uint32_t id) const;
  std::vector<uint32_t> ids() const;
};

// One slot of a SecAgg+ client's window of the ring (graph.hpp): an id, its round-0 entry if it is
// in U1, and the proof (roster_tree.hpp: d sibling digests, leaf level first) that the committed
// roster holds that entry, or no entry, for the id.
struct WindowSlot {
  uint32_t id = 0;
  std::optional<RosterEntry> entry;
  std::vector<Digest32> path;
};

// Round 0 of a SecAgg+ session, to one client: its window of the ring, every slot in ring order,
// and |U1|, which the roster's commitment binds (docs/protocol.md, "SecAgg+: the roster a client
// sees"). Full SecAgg sends the whole Roster instead.
struct Neighbourhood {
  uint32_t u1 = 0;
  std::vector<WindowSlot> slots;
};

// One encrypted share bundle; `peer` is the recipient in share-keys, the sender in an inbox.
struct SealedShare {
  uint32_t peer = 0;
  std::array<uint8_t, 24> nonce{};
  Bytes ciphertext;
};

// In an active session, what a dealer commits to for one holder in round 1 (robust unmasking,
// docs/security.md "Active mode"): BLAKE2b-256 of each of the two shares it deals the holder
// (share_commitment in lib/protocol/protocol.hpp).
struct ShareCommitment {
  Digest32 key{};   // of the mask-key share
  Digest32 mask{};  // of the self-mask share
};

struct SealedShares {
  std::vector<SealedShare> shares;
  // Active sessions only, one per share in the same order (empty otherwise): the dealer's
  // commitments, in share-keys to each holder, in an inbox from each sender.
  std::vector<ShareCommitment> commitments;
};

// A packed ring vector. In a masked input, modulus must equal the session's.
struct RingVector {
  uint64_t modulus = 0;
  uint64_t length = 0;
  Bytes packed;
};

struct IdList {
  std::vector<uint32_t> ids;
};

// A share of `owner`'s secret held by the share's x (the responder).
struct OwnedShare {
  uint32_t owner = 0;
  shamir::Share share;
};

// Round 4 answer: shares of b_u for u in U3, shares of s_sk_u for u in U2 \ U3, and the
// clients of U2 whose round-1 shares did not open for this responder (undecryptable,
// malformed, or, in an active session, not what their dealer committed to): it holds no share
// of theirs. `missing` is written only when it is not empty.
struct UnmaskShares {
  std::vector<OwnedShare> self_mask;
  std::vector<OwnedShare> mask_key;
  std::vector<uint32_t> missing;
};

// Socket mode: what the server says, instead of an answer, before it closes a client's
// connection (docs/network.md, "Notices"; man/secagg-formats.5, Notice).
enum class NoticeKind : uint8_t { retry = 0, aborted = 1, refused = 2, stopped = 3 };
inline constexpr size_t kMaxNoticeReason = 512;  // bytes of UTF-8 text, at most
struct Notice {
  uint8_t kind = 0;             // NoticeKind
  uint32_t retry_after_ms = 0;  // retry: wait this long before sending the same message again
  std::string reason;           // one line for the client's error message
};

// The entries of the model a sparse round sends (van Rooij et al., SSGA; docs/sparse.md): the
// union M of the clients' top indices and the adaptive maximum R_max, decoded by `secagg-collect
// select` from a union session's aggregate (whose session id its envelope carries).
struct Selection {
  SparseKind mode = SparseKind::none;  // the union session's kind: union_plain or union_private
  uint64_t model_length = 0;           // N
  std::vector<uint32_t> indices;       // M, sorted, each < N
  double r_max = 0;                    // the values session's clip: the largest |residual| on M
};

// secagg-collect unmask --range A:B (docs/protocol.md, "Range unmasking"): the aggregate's elements
// [offset, offset + count) of a session whose vectors have `total` elements, and what they were
// computed from: `inputs` binds the round-4 messages (round4_inputs_digest in server_session.hpp)
// and `responders` lists their senders, sorted. Parts of one session with one digest and no gap or
// overlap make the aggregate (secagg-collect join).
struct UnmaskPart {
  uint64_t modulus = 0;  // R
  uint64_t total = 0;    // L, the session's length
  uint64_t offset = 0;   // A
  uint64_t count = 0;    // B - A, at least 1
  Digest32 inputs{};
  std::vector<uint32_t> responders;
  Bytes packed;  // count elements of the ring's bits, packed as a RingVector's (PACKED VECTORS)
};
// An Ed25519 identity (docs/security.md; man/secagg-formats.5, Identity): a long-term signing
// key, valid across sessions (its envelope's session id is zero). The seed is secret; pk is
// ed25519_public(seed), kept so that a reader can check the file is whole.
struct Identity {
  Secret32 seed;
  Key32 pk{};
};

// The public half of an identity, what a CA certifies.
struct IdentityPublic {
  Key32 pk{};
};

// Round 3 (ConsistencyCheck), a client: its signature, by its round-0 signing key (which its
// identity signed in round 0), over the survivor set U3 it was shown (consistency_signed_bytes in
// lib/protocol/identity.hpp).
struct SurvivorSignature {
  Signature64 signature{};
};

// One client's signature in a consistency message.
struct SignedBy {
  uint32_t id = 0;
  Signature64 signature{};
};

// Round 3, the server: the survivor set U3 and the signatures over it of the clients U4 that
// signed it, sorted by id.
struct Consistency {
  std::vector<uint32_t> u3;
  std::vector<SignedBy> signatures;
  std::vector<uint32_t> signer_ids() const;  // U4, in the signatures' order
};

// What a client learned from its inbox: the shares other clients made for it.
struct HeldShares {
  uint32_t from = 0;
  shamir::Share key_share;   // of from's s_sk
  shamir::Share mask_share;  // of from's b
};

// A key shared with one peer (the share-encryption key of round 1, kept for round 2).
struct PeerKey {
  uint32_t peer = 0;
  Secret32 key;
};

struct ClientState {
  Params params;
  SessionId session{};
  uint32_t id = 0;
  uint8_t stage = 0;  // the last round the client completed: round_number of a Round of kRounds
  Secret32 c_sk, s_sk, b_seed;
  Secret32 sig_seed;  // Ed25519 signing key (its seed), kept until the client's last message
  Key32 c_pk{}, s_pk{}, sig_pk{};
  Roster roster;                    // U1, from round 0
  std::vector<PeerKey> share_keys;  // per client of N[u], made in round 1, used to open the inbox
  std::vector<PeerKey> mask_seeds;  // per client of N[u], agreed in round 1, expanded in round 2
  std::vector<uint32_t> u2;         // from the inbox, round 1
  std::vector<HeldShares> held;     // decrypted inbox
  std::vector<uint32_t> u3;         // the survivor set signed in round 3 (active) or answered in round 4
  // Active sessions only (serialized after every other field): the client's own attestation,
  // part of its round-0 advert.
  std::optional<Attestation> attestation;
  // SecAgg+ sessions only (serialized last): the U1 clients of the client's window of the ring, in
  // ring order, and whether they are all of U1 (graph.hpp, RingWindow). The roster above then
  // holds only their entries.
  std::vector<uint32_t> ring;
  bool ring_whole = false;
  // The last step's message and what determined it, so that running the step again with the
  // same inputs sends the same bytes and a different input is refused (a second masked input
  // or unmasking answer would reveal what the protocol hides).
  Digest32 answered{};  // digest of the server message the last step answered; zero after keygen
  Digest32 input{};     // secagg-mask: digest of the input vector (secret: it tests a guess of the input);
                        // zero otherwise and after round 4
  Bytes sent;           // the last step's message, byte for byte
};

// The body struct of each message type, from the table (envelope.hpp, SECAGG_MESSAGE_TYPES).
template <MsgType T>
struct BodyOf;
#define SECAGG_X(wire, id, name, round, sender, body, ...) \
  template <>                                              \
  struct BodyOf<MsgType::id> {                             \
    using type = body;                                     \
  };
SECAGG_MESSAGE_TYPES(SECAGG_X)
#undef SECAGG_X
template <MsgType T>
using Body = typename BodyOf<T>::type;

// True if messages of `type` carry a body of struct B.
template <class B>
constexpr bool has_body(MsgType type) {
  switch (type) {
#define SECAGG_X(wire, id, ...) \
  case MsgType::id: return std::is_same_v<B, Body<MsgType::id>>;
    SECAGG_MESSAGE_TYPES(SECAGG_X)
#undef SECAGG_X
  }
  return false;
}

// Serialize a body into an envelope (an unsigned type).
template <class T>
Bytes encode(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body);
// The same for a signed type (a client's round message), signed with the sender's round-0
// signing key (signature.hpp).
// A vector message (RingVector body) built from its elements in one pass: byte for byte what
// encode(type, ..., RingVector{m.R, v.size(), pack(v, m.bits())}) gives, without the copies.
// Signed by signing_seed when given (a masked input).
Bytes encode_ring_vector(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, Modulus m,
                         std::span<const uint64_t> v, const Secret32* signing_seed = nullptr);
// The same with the packed elements written by `fill` into the message being built (it must
// write packed_size(length, m.bits()) bytes): a masked input is packed as it is computed.
Bytes encode_ring_vector_with(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, Modulus m,
                              uint64_t length, const std::function<void(uint8_t* packed)>& fill,
                              const Secret32* signing_seed = nullptr);
template <class T>
Bytes encode_signed(MsgType type, const SessionId& session, uint32_t sender, uint32_t recipient, const T& body,
                    const Secret32& signing_seed);

// Decode an envelope's body as T, requiring every byte to be consumed.
// Errors name `origin`. Throws Error(Exit::data).
template <class T>
T decode_body(const Envelope& env, const std::string& origin);

// A RingVector body read in place: its fields, and its packed elements as a view into env.body
// (valid while env is). The same checks and errors as decode_body<RingVector>.
struct RingVectorView {
  uint64_t modulus = 0;
  uint64_t length = 0;
  std::span<const uint8_t> packed;
};
RingVectorView view_ring_vector(const Envelope& env, const std::string& origin);

// Render any envelope as JSON (header fields plus body).
std::string to_json(const Envelope& env, bool show_secrets, const std::string& origin);
// An id list on one line: "1,2,3", the first kSummaryIds ids then ",...(+N)" for N more, "-" if empty.
inline constexpr size_t kSummaryIds = 20;
std::string id_list_text(const std::vector<uint32_t>& ids);
// One line: type, round, session, sender, recipient, and a body summary.
std::string summary(const Envelope& env, const std::string& origin);

}  // namespace secagg

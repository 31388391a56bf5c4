#include "protocol.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "error.hpp"
#include "le.hpp"

namespace secagg {

Secret32 pairwise_seed(const Secret32& s_sk_u, const Key32& s_pk_v, const SessionId& sid, uint32_t u, uint32_t v) {
  auto shared = x25519(s_sk_u, s_pk_v);
  if (!shared) throw Error(Exit::data, fmt::format("client {}'s mask key is a low-order point", v));
  return derive_pair_key(*shared, kMaskSeedLabel, sid, u, v);
}

Secret32 share_key(const Secret32& c_sk_self, const Key32& c_pk_peer, const SessionId& sid, uint32_t from,
                   uint32_t to) {
  auto shared = x25519(c_sk_self, c_pk_peer);
  if (!shared) throw Error(Exit::data, fmt::format("an encryption key of client {} or {} is a low-order point", from, to));
  return derive_pair_key(*shared, kShareKeyLabel, sid, from, to);
}

Bytes share_ad(const SessionId& sid, uint32_t from, uint32_t to) {
  Bytes ad(sid.begin(), sid.end());
  ad.push_back(1);
  le::put32(ad, from);
  le::put32(ad, to);
  return ad;
}

namespace {
void put_share(SecretBytes& o, const shamir::Share& s) {
  for (int i = 0; i < 4; ++i) o.push_back(uint8_t(s.x >> (8 * i)));
  for (uint64_t y : s.y)
    for (int i = 0; i < 8; ++i) o.push_back(uint8_t(y >> (8 * i)));
}
void get_share(const uint8_t* p, shamir::Share& s) {
  s.x = le::get32(p);
  for (size_t c = 0; c < shamir::kChunks; ++c) s.y[c] = le::get64(p + 4 + 8 * c);
}
}  // namespace

SecretBytes encode_share_plaintext(uint32_t from, uint32_t to, const shamir::Share& key, const shamir::Share& mask) {
  SecretBytes o;
  o.reserve(kSharePlaintextBytes);
  for (int i = 0; i < 4; ++i) o.push_back(uint8_t(from >> (8 * i)));
  for (int i = 0; i < 4; ++i) o.push_back(uint8_t(to >> (8 * i)));
  put_share(o, key);
  put_share(o, mask);
  return o;
}

bool decode_share_plaintext(std::span<const uint8_t> pt, uint32_t& from, uint32_t& to, shamir::Share& key,
                            shamir::Share& mask) {
  if (pt.size() != kSharePlaintextBytes) return false;
  from = le::get32(pt.data());
  to = le::get32(pt.data() + 4);
  get_share(pt.data() + 8, key);
  get_share(pt.data() + 8 + 4 + 8 * shamir::kChunks, mask);
  return true;
}

bool usable_public_key(const Key32& pk) {
  // Any fixed scalar works: a low-order point gives the all-zero secret for every scalar.
  Secret32 probe;
  probe.b.fill(0x5a);
  return x25519(probe, pk).has_value();
}

std::string round_label(MsgType type) {
  const Round r = round_of(type);
  if (r == Round::none) return std::string(type_name(type));
  return fmt::format("round {} ({})", r, type_name(type));
}

namespace {
// "a" or "an" before a round label ("an identity").
const char* article(const std::string& label) {
  return label.find_first_of("aeiou") == 0 ? "an" : "a";
}
}  // namespace

void expect_message(const Envelope& env, const std::string& origin, MsgType type, const SessionId& sid) {
  if (env.type != type)
    throw Error(Exit::data, fmt::format("{}: is {} {} message from {}, expected {} {} message", origin,
                                        article(round_label(env.type)), round_label(env.type),
                                        env.sender == 0 ? std::string("the server")
                                                        : fmt::format("client {}", env.sender),
                                        article(round_label(type)), round_label(type)));
  if (env.session != sid)
    throw Error(Exit::data, fmt::format("{}: {} message from {} belongs to session {}, not this session {}", origin,
                                        round_label(type),
                                        env.sender == 0 ? std::string("the server") : fmt::format("client {}", env.sender),
                                        session_hex(env.session), session_hex(sid)));
}

void expect_sender(const Envelope& env, const std::string& origin, uint32_t sender) {
  if (env.sender != sender)
    throw Error(Exit::data, fmt::format("{}: {} message is from {}, expected {}", origin, round_label(env.type),
                                        env.sender == 0 ? std::string("the server") : fmt::format("client {}", env.sender),
                                        sender == 0 ? std::string("the server") : fmt::format("client {}", sender)));
}

void expect_recipient(const Envelope& env, const std::string& origin, uint32_t recipient) {
  if (env.recipient != recipient)
    throw Error(Exit::data, fmt::format("{}: {} message is addressed to {}, not {}", origin, round_label(env.type),
                                        env.recipient == 0 ? std::string("the server/everyone")
                                                           : fmt::format("client {}", env.recipient),
                                        recipient == 0 ? std::string("the server/everyone")
                                                       : fmt::format("client {}", recipient)));
}

bool sorted_unique(std::span<const uint32_t> ids) {
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i - 1] >= ids[i]) return false;
  return true;
}

bool is_subset(std::span<const uint32_t> sub, std::span<const uint32_t> super) {
  return std::includes(super.begin(), super.end(), sub.begin(), sub.end());
}

bool contains(std::span<const uint32_t> sorted_ids, uint32_t id) {
  return std::binary_search(sorted_ids.begin(), sorted_ids.end(), id);
}

uint32_t count_common(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  uint32_t n = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();)
    if (*i < *j) ++i;
    else if (*j < *i) ++j;
    else ++n, ++i, ++j;
  return n;
}

Digest32 share_commitment(const SessionId& sid, uint32_t dealer, uint32_t holder, ShareKind kind,
                          const shamir::Share& share) {
  Bytes b(kShareCommitmentLabel.begin(), kShareCommitmentLabel.end());
  b.insert(b.end(), sid.begin(), sid.end());
  uint8_t w[8];
  for (uint32_t v : {dealer, holder}) {
    le::store32(w, v);
    b.insert(b.end(), w, w + 4);
  }
  b.push_back(static_cast<uint8_t>(kind));
  le::store32(w, share.x);
  b.insert(b.end(), w, w + 4);
  for (uint64_t y : share.y) {
    le::store64(w, y);
    b.insert(b.end(), w, w + 8);
  }
  const Digest32 d = blake2b_256(b);
  sodium_memzero(b.data(), b.size());
  sodium_memzero(w, sizeof w);
  return d;
}

}  // namespace secagg

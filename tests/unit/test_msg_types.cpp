// The table of message types (envelope.hpp, SECAGG_MESSAGE_TYPES): every type has a name, a
// round, a body struct and a bound; its signing flag is what the envelope's trailer carries; and
// one bound serves file readers and socket frames alike: a message whose body is exactly the
// bound is read, one byte more is refused from the header (docs/architecture.md, "Message types").
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include <unistd.h>

#include "error.hpp"
#include "fileio.hpp"
#include "message_file.hpp"
#include "messages.hpp"
#include "net/frame.hpp"
#include "params.hpp"
#include "signature.hpp"

using namespace secagg;

namespace {

std::string temp_path(const std::string& name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/secagg-unit-types-" + std::to_string(getpid()) + "-" + name;
}

Params session() {
  Params p;
  p.clients = 7;
  p.threshold = 3;
  p.neighbours = 4;  // h = 5 share holders
  p.modulus = uint64_t{1} << 32;
  p.length = 100;  // 400 packed bytes
  return p;
}

// A message of `type` whose body is `body_bytes` zero bytes, signed if the type is.
Bytes message_of(MsgType type, uint64_t body_bytes) {
  Envelope env;
  env.type = type;
  env.round = round_of(type);
  env.sender = msg_info(type).sender == Party::client ? 1 : kServerId;
  env.body.assign(body_bytes, 0);
  if (!signed_type(type)) return seal_envelope(env);
  const Secret32 key;
  return seal_envelope(env, [&](const Digest32& sum) { return sign_checksum(key, sum); });
}

// Encodes a default body of T's struct and decodes it back through the envelope.
template <MsgType T>
void round_trip() {
  CAPTURE(type_name(T));
  const SessionId sid{};
  const Body<T> body{};
  const Secret32 key;
  const Bytes m = signed_type(T) ? encode_signed(T, sid, 1, kServerId, body, key) : encode(T, sid, 0, 0, body);
  const Envelope env = open_envelope(m, "m");
  CHECK(env.type == T);
  CHECK(env.round == round_of(T));
  CHECK(env.signature.has_value() == signed_type(T));
  CHECK_NOTHROW(decode_body<Body<T>>(env, "m"));
  CHECK(!summary(env, "m").empty());
  CHECK(to_json(env, false, "m").find("\"type\": \"" + std::string(type_name(T)) + "\"") != std::string::npos);
}

template <size_t... I>
void round_trip_all(std::index_sequence<I...>) {
  (round_trip<static_cast<MsgType>(I + 1)>(), ...);
}

}  // namespace

TEST_CASE("every message type has a name, a round, a sender and a body, as man/secagg-formats.5 lists them") {
  // man/secagg-formats.5, MESSAGE TYPES: type, name, round (255: none), signed.
  struct Row {
    int wire;
    const char* name;
    int round;
    bool is_signed;
  };
  const Row rows[] = {{1, "params", 255, false},         {2, "advertise-keys", 0, true},
                      {3, "roster", 0, false},           {4, "share-keys", 1, true},
                      {5, "inbox", 1, false},            {6, "masked-input", 2, true},
                      {7, "survivors", 2, false},        {8, "unmask-shares", 4, true},
                      {9, "vector", 255, false},         {10, "client-state", 255, false},
                      {11, "server-round1", 1, false},   {12, "notice", 255, false},
                      {13, "selection", 255, false},     {14, "identity", 255, false},
                      {15, "identity-public", 255, false}, {16, "certificate", 255, false},
                      {17, "consistency-signature", 3, true}, {18, "consistency", 3, false},
                      {19, "neighbourhood", 0, false},   {20, "unmask-part", 255, false}};
  REQUIRE(kMsgTypeCount == std::size(rows));
  CHECK(!valid_type(0));
  CHECK(!valid_type(static_cast<uint8_t>(kMsgTypeCount + 1)));
  std::set<std::string_view> names;
  for (const Row& r : rows) {
    CAPTURE(r.name);
    REQUIRE(valid_type(static_cast<uint8_t>(r.wire)));
    const auto t = static_cast<MsgType>(r.wire);
    CHECK(msg_info(t).type == t);
    CHECK(type_name(t) == r.name);
    CHECK(round_number(round_of(t)) == r.round);
    CHECK(signed_type(t) == r.is_signed);
    CHECK(trailer_bytes(static_cast<uint8_t>(r.wire)) == kChecksumBytes + (r.is_signed ? kSignatureBytes : 0));
    names.insert(type_name(t));
  }
  CHECK(names.size() == kMsgTypeCount);
  CHECK(type_name(static_cast<MsgType>(0)) == "unknown");
  // Each round has one client message, the one serve expects in it.
  CHECK(client_message(Round::r0) == MsgType::advertise_keys);
  CHECK(client_message(Round::r1) == MsgType::share_keys);
  CHECK(client_message(Round::r2) == MsgType::masked_input);
  CHECK(client_message(Round::r4) == MsgType::unmask_shares);
  // The body structs.
  CHECK(has_body<RingVector>(MsgType::masked_input));
  CHECK(has_body<RingVector>(MsgType::vector));
  CHECK(has_body<SealedShares>(MsgType::inbox));
  CHECK(has_body<IdList>(MsgType::server_round1));
  CHECK(has_body<Neighbourhood>(MsgType::neighbourhood));
  CHECK(!has_body<RingVector>(MsgType::client_state));
  round_trip_all(std::make_index_sequence<kMsgTypeCount>{});
}

TEST_CASE("Round: numbers, order and the round after each") {
  CHECK(round_number(Round::r4) == 4);
  CHECK(round_number(Round::none) == 255);
  CHECK(round_index(Round::r4) == 3);
  CHECK(round_index(Round::none) == kRounds.size());
  CHECK(next_round(Round::r0) == Round::r1);
  CHECK(next_round(Round::r2) == Round::r4);
  CHECK(next_round(Round::r4) == Round::none);
  CHECK(Round::r4 < Round::none);
  for (long long n : {0, 1, 2, 3, 4}) CHECK(is_round_number(n));
  for (long long n : {-1, 5, 255}) CHECK(!is_round_number(n));
  // Round 3 is an active session's only: the honest-but-curious rounds skip it.
  CHECK(next_round(Round::r2, true) == Round::r3);
  CHECK(next_round(Round::r3, true) == Round::r4);
  CHECK(next_round(Round::r3) == Round::r4);
  CHECK(round_index(Round::r3) == kRounds.size());
  CHECK(client_message(Round::r3) == MsgType::consistency_signature);
  CHECK(fmt::format("round {}", Round::r2) == "round 2");
}

TEST_CASE("the envelope's trailer is the table's signing flag") {
  for (size_t i = 1; i <= kMsgTypeCount; ++i) {
    const auto t = static_cast<MsgType>(i);
    CAPTURE(type_name(t));
    const Bytes m = message_of(t, 10);
    CHECK(m.size() == kHeaderBytes + 10 + trailer_bytes(static_cast<uint8_t>(i)));
    const Envelope env = open_envelope(m, "m");
    CHECK(env.signature.has_value() == signed_type(t));
    // Sealing refuses the other way round.
    Envelope wrong = env;
    if (signed_type(t)) {
      wrong.signature.reset();
      CHECK_THROWS_AS(seal_envelope(wrong), Error);
    } else {
      wrong.signature.emplace();
      CHECK_THROWS_AS(seal_envelope(wrong), Error);
    }
  }
}

TEST_CASE("the body bounds are the documented ones (man/secagg-formats.5, VALIDATION)") {
  const Params p = session();
  const uint64_t n = 7, h = 5, vec = 400 + kVectorFields, slack = 4096;
  CHECK(max_body_bytes(MsgType::params, p) == slack);
  CHECK(max_body_bytes(MsgType::advertise_keys, p) == slack);
  CHECK(max_body_bytes(MsgType::notice, p) == slack);
  CHECK(max_body_bytes(MsgType::identity, p) == slack);
  CHECK(max_body_bytes(MsgType::identity_public, p) == slack);
  CHECK(max_body_bytes(MsgType::certificate, p) == slack);
  CHECK(max_body_bytes(MsgType::roster, p) == 384 * n + slack);
  // A SecAgg+ client's window: at most n slots, each an entry and a proof of up to 21 digests.
  CHECK(max_body_bytes(MsgType::neighbourhood, p) == (384 + 21 * 32 + 32) * n + slack);
  CHECK(max_body_bytes(MsgType::consistency_signature, p) == slack);
  CHECK(max_body_bytes(MsgType::consistency, p) == 96 * n + slack);
  CHECK(max_body_bytes(MsgType::share_keys, p) == 256 * h + slack);
  CHECK(max_body_bytes(MsgType::inbox, p) == 256 * h + slack);
  CHECK(max_body_bytes(MsgType::masked_input, p) == vec + slack);
  CHECK(max_body_bytes(MsgType::vector, p) == vec + slack);
  CHECK(max_body_bytes(MsgType::survivors, p) == 8 * n + slack);
  CHECK(max_body_bytes(MsgType::server_round1, p) == 8 * n + slack);
  CHECK(max_body_bytes(MsgType::unmask_shares, p) == 128 * h + slack);
  // A client state holds its last message, a masked input at most.
  CHECK(max_body_bytes(MsgType::client_state, p) ==
        384 * n + 384 * h + 16 * n + 64 + max_message_bytes(MsgType::masked_input, p) + slack);
  // Socket frames use the same bounds: a client's round message, and anything the server sends.
  for (Round r : kRounds) CHECK(net::max_client_body(p, r) == max_body_bytes(client_message(r), p));
  uint64_t server = 0;
  for (const MsgTypeInfo& t : kMsgTypes) {
    CAPTURE(t.name);
    CHECK(max_body_bytes(t.type, p) <= max_body_bytes(t.type));
    CHECK(max_body_bytes(t.type) <= kMaxBodyBytes);
    if (t.sender == Party::server) server = std::max(server, max_body_bytes(t.type, p));
  }
  CHECK(net::max_server_body(p) == server);
}

TEST_CASE("a file or frame at exactly the bound is read, one byte more is refused from the header") {
  const Params p = session();
  for (const MsgTypeInfo& t : kMsgTypes) {
    CAPTURE(t.name);
    const uint64_t bound = max_body_bytes(t.type, p);
    const Bytes at = message_of(t.type, bound);
    const Bytes over = message_of(t.type, bound + 1);
    CHECK(at.size() == max_message_bytes(t.type, p));

    // File mode: read_message_file with the session's parameters.
    const std::string f = temp_path(std::string(t.name) + ".msg");
    write_file_atomic(f, at);
    Bytes read;
    CHECK_NOTHROW(read = read_message_file(f, &p));
    CHECK(read == at);
    CHECK_NOTHROW(open_envelope(read, f));
    write_file_atomic(f, over);
    try {
      read_message_file(f, &p);
      FAIL("one byte over the bound was read");
    } catch (const Error& e) {
      CHECK(e.code() == Exit::data);
      CHECK(std::string(e.what()) == fmt::format("{}: body length {} is more than a {} message can have here ({} bytes)",
                                                 f, bound + 1, t.name, bound));
    }
    std::remove(f.c_str());

    // Socket mode: the header check serve and the client exchange make before any body.
    const uint64_t limit = signed_type(t.type) ? net::max_client_body(p, t.round) : bound;
    CHECK(limit == bound);
    CHECK(net::frame_body_length(std::span(at).first(kHeaderBytes), limit, "peer") == bound);
    CHECK_THROWS_WITH(net::frame_body_length(std::span(over).first(kHeaderBytes), limit, "peer"),
                      fmt::format("peer: frame announces a body of {} bytes, more than this session allows here ({} "
                                  "bytes)",
                                  bound + 1, bound)
                          .c_str());
  }
}

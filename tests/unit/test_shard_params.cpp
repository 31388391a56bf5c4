// The federation fields of the session parameters (docs/shards.md): a shard's parent and a
// hierarchical top session's shard bound survive the params message and the client state, with
// and without the active-mode fields before them; other sessions keep their bytes; a forged flag
// without fields, and fields that contradict each other, are refused.
#include <doctest/doctest.h>

#include <string>

#include "client.hpp"
#include "error.hpp"
#include "exit_of.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "server.hpp"
#include "small_params.hpp"

using namespace secagg;

namespace {

Params round_trip(const Params& p) { return test::params_round_trip(p); }

Exit validation(const Params& p) {
  return test::exit_of([&] { validate_params(p); });
}

Params shard() {
  Params p = test::small_params();
  p.parent.fill(0x5a);
  return p;
}

Params active(Params p) {
  p.threat = ThreatModel::active;
  p.corrupt = 1;
  p.threshold = 4;  // t > (n + C) / 2
  p.ca_pk.fill(0x11);
  return p;
}

}  // namespace

TEST_CASE("a shard's parent and a top session's shard bound survive the params message and the state") {
  Params top = test::small_params();
  top.shard_clients = 100;
  for (const Params& p : {shard(), top, active(shard())}) {
    CAPTURE(p.shard_clients);
    CAPTURE(p.active());
    REQUIRE(validation(p) == Exit::ok);
    const Params back = round_trip(p);
    CHECK(back.parent == p.parent);
    CHECK(back.shard_clients == p.shard_clients);
    CHECK(back.threat == p.threat);
    CHECK(back.ca_pk == p.ca_pk);
    CHECK(back.insecure_threshold == p.insecure_threshold);
    CHECK(back.clients == p.clients);
    if (p.active()) continue;  // its client needs a certified identity; the state round trip is the same
    ClientState st = client_keygen(p, new_session_id(), 2);
    const Bytes b = encode(MsgType::client_state, st.session, 2, 2, st);
    const ClientState again = decode_body<ClientState>(open_envelope(b, "c.state"), "c.state");
    CHECK(again.params.parent == p.parent);
    CHECK(again.params.shard_clients == p.shard_clients);
    CHECK(again.sig_pk == st.sig_pk);
  }
  CHECK(top.capacity() == 500);
  CHECK(shard().capacity() == 5);
}

TEST_CASE("the federation fields add bytes only to a federation's sessions") {
  const Params plain = test::small_params();
  const size_t plain_size = encode(MsgType::params, SessionId{}, kServerId, kServerId, plain).size();
  CHECK(encode(MsgType::params, SessionId{}, kServerId, kServerId, shard()).size() == plain_size + 16 + 4);
}

TEST_CASE("the federation flag without fields is refused, naming the file") {
  Params p = shard();
  Envelope env = open_envelope(encode(MsgType::params, SessionId{}, kServerId, kServerId, p), "params.msg");
  // The parent is the last 16 + 4 bytes of the body: zero them, keeping the flag.
  std::fill(env.body.end() - 20, env.body.end(), uint8_t{0});
  const Envelope forged = open_envelope(seal_envelope(env), "forged.msg");
  try {
    decode_body<Params>(forged, "forged.msg");
    FAIL("a federation flag without fields was read");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()).find("forged.msg") != std::string::npos);
  }
}

TEST_CASE("validate_params checks the federation fields") {
  Params p = shard();
  p.shard_clients = 10;  // a shard of a top session and a top session at once
  CHECK(validation(p) == Exit::usage);
  p = test::small_params();
  p.shard_clients = 1;
  CHECK(validation(p) == Exit::usage);
  p.shard_clients = kMaxClients + 1;
  CHECK(validation(p) == Exit::usage);
  // A quantized top session's modulus must hold clients x shard_clients inputs.
  p = test::small_params();
  p.length = 3;
  p.quant_bits = 8;
  p.clip = 1;
  p.max_weight = 1;
  p.modulus = min_modulus_for(p.clients, 1, 8);
  CHECK(validation(p) == Exit::ok);
  p.shard_clients = 4;
  CHECK(validation(p) == Exit::usage);
  p.modulus = min_modulus_for(p.capacity(), 1, 8);
  CHECK(validation(p) == Exit::ok);
}

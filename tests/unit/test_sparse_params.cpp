// The sparse fields of the session parameters (docs/sparse.md): a dense session's parameters keep
// their bytes (the golden transcripts check that too), a sparse session's fields survive the
// params message and the client state, and a forged flag without fields is refused.
#include <doctest/doctest.h>

#include <string>

#include "client.hpp"
#include "error.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "server.hpp"
#include "small_params.hpp"
#include "sparse_union.hpp"

using namespace secagg;

namespace {

Params dense() { return test::small_params(); }

Params union_session(SparseKind kind) {
  Params p = dense();
  p.sparse = kind;
  p.model_length = 1000;
  p.per_client = 7;
  const UnionSpec s = size_union(kind == SparseKind::union_plain ? UnionMode::plain : UnionMode::private_,
                                 p.model_length, p.clients, p.per_client);
  p.length = union_vector_length(s);
  p.modulus = uint64_t{1} << union_modulus_bits(s);
  p.union_cells = s.cells;
  return p;
}

Params values_session() {
  Params p = dense();
  p.sparse = SparseKind::values;
  p.model_length = 1000;
  p.quant_bits = 16;
  p.clip = 0.5;
  p.max_weight = 1;
  p.selection.fill(0xab);
  return p;
}

bool same(const Params& a, const Params& b) {
  return a.clients == b.clients && a.threshold == b.threshold && a.neighbours == b.neighbours &&
         a.modulus == b.modulus && a.length == b.length && a.prg == b.prg &&
         a.insecure_threshold == b.insecure_threshold && a.quant_bits == b.quant_bits && a.clip == b.clip &&
         a.max_weight == b.max_weight && a.sparse == b.sparse && a.model_length == b.model_length &&
         a.per_client == b.per_client && a.union_cells == b.union_cells && a.selection == b.selection;
}

Params round_trip(const Params& p) {
  const Envelope env = open_envelope(encode(MsgType::params, SessionId{}, kServerId, kServerId, p), "params.msg");
  return decode_body<Params>(env, "params.msg");
}

}  // namespace

TEST_CASE("a dense session's parameters end at max_weight, as before sparse sessions") {
  const Params p = dense();
  const Envelope env = open_envelope(encode(MsgType::params, SessionId{}, kServerId, kServerId, p), "params.msg");
  // The endianness marker, then n, t, k (4 bytes each), R, L (8), prg, insecure, bits (1), clip, max weight (8).
  CHECK(env.body.size() == 1 + 3 * 4 + 2 * 8 + 3 + 2 * 8);
  CHECK(same(round_trip(p), p));
}

TEST_CASE("sparse fields survive the params message and the client state") {
  for (const Params& p0 : {union_session(SparseKind::union_plain), union_session(SparseKind::union_private),
                           values_session()}) {
    CAPTURE(sparse_name(p0.sparse));
    for (uint8_t insecure : {0, 1}) {
      Params p = p0;
      p.insecure_threshold = insecure;
      if (insecure) p.threshold = 2;
      REQUIRE_NOTHROW(validate_params(p));
      CHECK(same(round_trip(p), p));
      // The client state holds the parameters in its middle: the fields must not shift what follows.
      ClientState st = client_keygen(p, new_session_id(), 2);
      const Bytes b = encode(MsgType::client_state, st.session, 2, 2, st);
      const ClientState back = decode_body<ClientState>(open_envelope(b, "c.state"), "c.state");
      CHECK(same(back.params, p));
      CHECK(back.sig_pk == st.sig_pk);
      CHECK(back.id == 2);
    }
  }
}

TEST_CASE("the sparse flag without a sparse kind is refused, and inspect shows the fields") {
  Params p = union_session(SparseKind::union_private);
  Bytes b = encode(MsgType::params, SessionId{}, kServerId, kServerId, p);
  Envelope env = open_envelope(b, "params.msg");
  const std::string json = to_json(env, false, "params.msg");
  for (const char* want : {"\"sparse\": \"union-private\"", "\"model_length\": 1000", "\"per_client\": 7",
                           "\"insecure_threshold\": 0"})
    CHECK_MESSAGE(json.find(want) != std::string::npos, want << " not in " << json);
  // The kind byte follows max_weight: zero it.
  const size_t kind_at = 1 + 3 * 4 + 2 * 8 + 3 + 2 * 8;
  REQUIRE(env.body[kind_at] == static_cast<uint8_t>(SparseKind::union_private));
  env.body[kind_at] = 0;
  const Envelope forged = open_envelope(seal_envelope(env), "forged.msg");
  try {
    decode_body<Params>(forged, "forged.msg");
    FAIL("a sparse flag without a kind was read");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()).find("forged.msg") != std::string::npos);
  }
}

TEST_CASE("validate_params checks the sparse fields") {
  auto code = [](const Params& p) {
    try {
      validate_params(p);
      return Exit::ok;
    } catch (const Error& e) {
      return e.code();
    }
  };
  CHECK(code(union_session(SparseKind::union_plain)) == Exit::ok);
  CHECK(code(values_session()) == Exit::ok);
  Params p = dense();
  p.model_length = 10;  // a dense session has no model length
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_plain);
  p.per_client = 0;
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_plain);
  p.per_client = 1001;
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_plain);
  p.union_cells = 5;  // cells belong to the private union
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_private);
  p.union_cells = 0;
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_private);
  p.union_cells += 3;  // the length is no longer the table's
  CHECK(code(p) == Exit::usage);
  p = union_session(SparseKind::union_plain);
  p.modulus = uint64_t{1} << 40;  // nor the modulus
  CHECK(code(p) == Exit::usage);
  p = values_session();
  p.selection = Digest32{};
  CHECK(code(p) == Exit::usage);
  p = values_session();
  p.length = 1002;  // more values than the model has entries
  CHECK(code(p) == Exit::usage);
  p = values_session();
  p.sparse = static_cast<SparseKind>(9);
  CHECK(code(p) == Exit::usage);
}

// A small valid dense session for tests of the parameters: n = 5, t = 3, full SecAgg, R = 2^32,
// length 4.
#pragma once
#include "envelope.hpp"
#include "messages.hpp"

namespace secagg::test {

inline Params small_params() {
  Params p;
  p.clients = 5;
  p.threshold = 3;
  p.neighbours = 4;
  p.modulus = uint64_t{1} << 32;
  p.length = 4;
  return p;
}

// p through a params message and back, as every reader of S/params.msg gets it.
inline Params params_round_trip(const Params& p) {
  const Envelope env = open_envelope(encode(MsgType::params, SessionId{}, kServerId, kServerId, p), "params.msg");
  return decode_body<Params>(env, "params.msg");
}

}  // namespace secagg::test

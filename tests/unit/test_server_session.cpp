// The round engine (server_session.hpp): the shape every driver relies on. One message at a
// time and one batch give the same round; a refused message changes nothing; a round closes
// below the threshold only to abort; a round loaded from the session directory closes as the
// one that never left memory.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "client.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "params.hpp"
#include "server_session.hpp"
#include "temp_dir.hpp"

using namespace secagg;

namespace {

constexpr uint32_t kClients = 6;

Params session_params() {
  Params p;
  p.clients = kClients;
  p.threshold = 4;
  p.neighbours = kClients - 1;
  p.modulus = uint64_t{1} << 20;
  p.length = 9;
  validate_params(p);
  return p;
}

std::vector<uint64_t> input_of(uint32_t id, const Params& p) {
  std::vector<uint64_t> x(p.length);
  for (uint64_t i = 0; i < p.length; ++i) x[i] = (id * 1000 + i * 7) % p.modulus;
  return x;
}

Incoming incoming(const Bytes& b, const std::string& origin) { return {origin, open_envelope(b, origin)}; }

// The clients of a session: each round's messages from the previous round's answers.
struct Clients {
  const Params& p;
  SessionId sid;
  std::vector<ClientState> st;
  std::vector<Incoming> round(Round r, const RoundResult* last) {
    std::vector<Incoming> out;
    for (uint32_t id = 1; id <= kClients; ++id) {
      const std::string origin = fmt::format("client-{}.msg", id);
      Bytes m;
      if (r == Round::r0) {
        st.push_back(client_keygen(p, sid, id));
        m = client_advertise(st.back());
      } else {
        if (std::find(last->in.begin(), last->in.end(), id) == last->in.end()) continue;
        const Envelope answer = open_envelope(last->answer(id), "answer");
        ClientState& c = st[id - 1];
        if (r == Round::r1) m = client_share(c, answer, "roster");
        if (r == Round::r2) m = client_mask(c, answer, "inbox", input_of(id, p), 1);
        if (r == Round::r4) m = client_unmask(c, answer, "survivors");
      }
      out.push_back(incoming(m, origin));
    }
    return out;
  }
};

}  // namespace

TEST_CASE("one message at a time and one batch give the same rounds, and the aggregate is the sum") {
  const Params p = session_params();
  const SessionId sid = new_session_id();
  Clients clients{p, sid, {}};
  ServerSession one(p, sid), batch(p, sid);
  std::optional<RoundResult> last;
  for (Round r : kRounds) {
    CAPTURE(round_number(r));
    std::vector<Incoming> in = clients.round(r, last ? &*last : nullptr);
    // The last client drops in round 2: round 4 must remove its pairwise masks.
    if (r == Round::r2) in.pop_back();
    CHECK(one.round() == r);
    for (const auto& m : in) {
      CHECK_FALSE(one.complete());
      one.accept(m);
    }
    CHECK(one.accepted() == in.size());
    CHECK(one.complete() == (in.size() == one.expected().size()));
    batch.accept_all(in, 2);
    RoundResult a = one.close(1), b = batch.close(2);
    CHECK(a.in == b.in);
    CHECK(a.marker == b.marker);
    CHECK(a.inboxes == b.inboxes);
    last = std::move(a);
  }
  CHECK(one.round() == Round::none);
  std::vector<uint64_t> want(p.length, 0);
  for (uint32_t id = 1; id < kClients; ++id)
    for (uint64_t i = 0; i < p.length; ++i) want[i] = (want[i] + input_of(id, p)[i]) % p.modulus;
  CHECK(last->aggregate == want);
}

TEST_CASE("a refused message leaves the round as it was") {
  const Params p = session_params();
  const SessionId sid = new_session_id();
  Clients clients{p, sid, {}};
  ServerSession s(p, sid);
  std::optional<RoundResult> last;
  for (Round r : kRounds) {
    CAPTURE(round_number(r));
    const std::vector<Incoming> in = clients.round(r, last ? &*last : nullptr);
    s.accept(in[0]);
    const std::vector<uint64_t> sum = s.masked_sum();
    // A second copy of an accepted message, and a message sent under another client's id.
    // (re-sealed with its signature kept, which no longer matches).
    const Incoming copy{"copy.msg", in[0].env};
    Envelope env = in[2].env;
    env.sender = in[1].env.sender;
    const Incoming posing = incoming(seal_envelope(env), "posing.msg");
    for (const Incoming* bad : {&copy, &posing}) {
      try {
        s.accept(*bad);
        FAIL("accepted ", bad->origin);
      } catch (const Error& e) {
        CHECK(e.code() == Exit::data);
      }
      CHECK(s.accepted() == 1);
      CHECK(s.masked_sum() == sum);
    }
    // A batch with one bad message adds none of it.
    std::vector<Incoming> rest(in.begin() + 1, in.end());
    rest.push_back(posing);
    CHECK_THROWS(s.accept_all(rest, 2));
    CHECK(s.accepted() == 1);
    rest.pop_back();
    s.accept_all(rest, 2);
    CHECK(s.complete());
    last = s.close(2);
  }
}

TEST_CASE("a round closes with fewer than t clients only to abort") {
  const Params p = session_params();
  const SessionId sid = new_session_id();
  Clients clients{p, sid, {}};
  ServerSession s(p, sid);
  const std::vector<Incoming> in = clients.round(Round::r0, nullptr);
  s.accept_all(std::span(in).first(p.threshold - 1), 2);
  try {
    s.close(1);
    FAIL("closed round 0 with ", p.threshold - 1, " clients");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::aborted);
    CHECK(std::string(e.what()).find("U1 too small") != std::string::npos);
  }
}

TEST_CASE("a round loaded from the session directory closes as the one kept in memory") {
  const Params p = session_params();
  test::TempDir d("engine");
  SessionDir dir(d.path);
  const SessionId sid = new_session_id();
  dir.begin(Marker::params).finish(encode(MsgType::params, sid, kServerId, kServerId, p));
  Clients clients{p, sid, {}};
  ServerSession kept(p, sid);
  std::optional<RoundResult> last;
  for (Round r : kRounds) {
    CAPTURE(round_number(r));
    CHECK(ServerSession::first_open_round(dir) == r);
    ServerSession loaded = ServerSession::load(dir, p, sid, r);
    CHECK(loaded.expected() == kept.expected());
    const std::vector<Incoming> in = clients.round(r, last ? &*last : nullptr);
    kept.accept_all(in, 2);
    loaded.accept_all(in, 2);
    RoundResult a = kept.close(2), b = loaded.close(2);
    CHECK(a.marker == b.marker);
    CHECK(a.inboxes == b.inboxes);
    const auto w = dir.begin(SessionDir::marker_of(r));
    if (SessionDir::keeps_messages(r))
      for (const auto& m : in) w.message(m.env.sender, seal_envelope(m.env));
    kept.record(a, w);
    last = std::move(a);
  }
  CHECK(ServerSession::first_open_round(dir) == Round::none);
  CHECK(read_file(dir.path(Marker::aggregate)) == last->marker);
}

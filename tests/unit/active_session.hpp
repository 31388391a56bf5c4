// An active session in memory for tests (docs/security.md, "Active mode"): a CA, one certified
// identity per client, the clients' states after round 0 and the roster the engine made of their
// adverts.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "client.hpp"
#include "envelope.hpp"
#include "graph.hpp"
#include "identity.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "roster_window.hpp"
#include "server.hpp"
#include "server_session.hpp"

namespace secagg::test {

struct ActiveSession {
  Params p;
  SessionId sid{};
  Identity ca;
  std::vector<Identity> identity;   // by id; [0] unused
  std::vector<Certificate> cert;    // by id
  std::vector<ClientState> st;      // by id, after round 0
  Roster roster;
  Bytes roster_msg;
  // SecAgg+: client id's own round-0 answer, its neighbourhood message (RoundResult::window).
  std::function<Bytes(uint32_t id)> window;

  Envelope roster_env() const { return open_envelope(roster_msg, "roster.msg"); }
  // What client id takes in round 1: its neighbourhood message in SecAgg+, the roster otherwise.
  Envelope roster_env(uint32_t id) const {
    if (!window) return roster_env();
    return open_envelope(window(id), fmt::format("roster-{}.msg", id));
  }
};

// neighbours 0: n - 1 (full SecAgg).
inline Params active_params(uint32_t n, uint32_t t, uint32_t corrupt, uint64_t length, const Key32& ca_pk,
                            uint32_t neighbours = 0) {
  Params p;
  p.clients = n;
  p.threshold = t;
  p.neighbours = neighbours ? neighbours : n - 1;
  p.modulus = uint64_t{1} << 32;
  p.length = length;
  p.threat = ThreatModel::active;
  p.corrupt = corrupt;
  p.ca_pk = ca_pk;
  return p;
}

// Setup and an honest round 0: every client keygens with its certified identity and the engine
// collects every advert.
inline ActiveSession make_active_session(uint32_t n, uint32_t t, uint32_t corrupt, uint64_t length,
                                         uint32_t neighbours = 0) {
  ActiveSession s;
  s.ca = make_identity();
  s.p = active_params(n, t, corrupt, length, s.ca.pk, neighbours);
  REQUIRE_NOTHROW(validate_params(s.p));
  s.sid = new_session_id();
  s.identity.resize(n + 1);
  s.cert.resize(n + 1);
  s.st.resize(n + 1);
  ServerSession server(s.p, s.sid);
  std::vector<Incoming> adverts;
  for (uint32_t id = 1; id <= n; ++id) {
    s.identity[id] = make_identity();
    s.cert[id] = certify(s.ca, id, s.identity[id].pk, 0);
    const IdentityProof proof{s.identity[id], s.cert[id], "cert", unix_now()};
    s.st[id] = client_keygen(s.p, s.sid, id, &proof);
    adverts.push_back({fmt::format("adv-{}.msg", id), open_envelope(client_advertise(s.st[id]), "adv")});
  }
  server.accept_all(adverts, 2);
  const RoundResult r = server.close(2);
  s.roster = server.roster();
  s.roster_msg = r.marker;
  s.window = r.personal;
  REQUIRE(static_cast<bool>(s.window) == is_secagg_plus(s.p));
  return s;
}

// Round 1 of an active session, honest: every client shares, the engine makes the inboxes.
inline RoundResult share_round(ActiveSession& s) {
  ServerSession server(s.p, s.sid, Round::r1, s.roster);
  std::vector<Incoming> shares;
  for (uint32_t id = 1; id < s.st.size(); ++id)
    shares.push_back({"sh", open_envelope(client_share(s.st[id], s.roster_env(id), "roster.msg"), "sh")});
  server.accept_all(shares, 2);
  return server.close(2);
}

// An inbox cut down to the senders `keep` accepts, with their commitments.
template <class Keep>
void trim(SealedShares& box, Keep keep) {
  SealedShares out;
  for (size_t i = 0; i < box.shares.size(); ++i)
    if (keep(box.shares[i].peer)) {
      out.shares.push_back(box.shares[i]);
      if (!box.commitments.empty()) out.commitments.push_back(box.commitments[i]);
    }
  box = out;
}

// The clients within r hops of u in the whole graph, sorted: what LocalGraph must find.
inline std::vector<uint32_t> ball_of(const NeighbourGraph& g, uint32_t u, unsigned r) {
  std::vector<uint32_t> ball{u};
  for (unsigned hop = 0; hop < r; ++hop) {
    std::vector<uint32_t> next = ball;
    for (uint32_t y : ball)
      for (uint32_t z : g.closed(y)) next.push_back(z);
    std::sort(next.begin(), next.end());
    next.erase(std::unique(next.begin(), next.end()), next.end());
    ball = next;
  }
  return ball;
}

}  // namespace secagg::test

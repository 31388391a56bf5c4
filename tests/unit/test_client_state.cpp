// What a client's state file still holds after each round (forward secrecy).
#include <doctest/doctest.h>

#include <algorithm>

#include "client.hpp"
#include "error.hpp"
#include "params.hpp"
#include "server.hpp"

using namespace secagg;

namespace {
bool zero(const Secret32& s) { return std::all_of(s.b.begin(), s.b.end(), [](uint8_t b) { return b == 0; }); }
}  // namespace

TEST_CASE("a client's state drops each secret once no later round needs it") {
  Params p;
  p.clients = 4;
  p.threshold = 3;
  p.neighbours = 3;
  p.modulus = 1 << 20;
  p.length = 5;
  validate_params(p);
  SessionId sid = new_session_id();
  std::vector<ClientState> st;
  std::vector<Incoming> in;
  for (uint32_t id = 1; id <= 4; ++id) {
    st.push_back(client_keygen(p, sid, id));
    in.push_back({"adv", open_envelope(client_advertise(st.back()), "adv")});
  }
  Roster roster = collect_keys(p, sid, in);
  Envelope roster_env = open_envelope(encode(MsgType::roster, sid, kServerId, kServerId, roster), "roster");
  in.clear();
  for (auto& c : st) in.push_back({"shares", open_envelope(client_share(c, roster_env, "roster"), "shares")});
  CHECK_FALSE(zero(st[0].s_sk));
  CHECK_FALSE(zero(st[0].b_seed));
  CHECK(st[0].mask_seeds.size() == 4);
  ShareRound r1 = collect_shares(p, sid, roster, in);
  std::vector<uint64_t> x(p.length, 7);
  in.clear();
  for (auto& c : st) {
    Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, c.id, r1.inboxes.at(c.id)), "inbox");
    in.push_back({"masked", open_envelope(client_mask(c, inbox, "inbox", x, 1), "masked")});
  }
  for (auto& c : st) {
    CHECK(zero(c.c_sk));
    CHECK(zero(c.s_sk));
    CHECK(zero(c.b_seed));
    CHECK(c.mask_seeds.empty());
    CHECK(c.share_keys.empty());
    CHECK(c.held.size() == 4);  // still to be revealed
  }
  MaskedRound r2 = collect_masked(p, sid, roster, r1.u2, in);
  Envelope surv = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{r2.u3}), "survivors");
  in.clear();
  for (auto& c : st) in.push_back({"unmask", open_envelope(client_unmask(c, surv, "survivors"), "unmask")});
  for (auto& c : st) CHECK(c.held.empty());
  // The answered state still refuses a second request.
  CHECK_THROWS_AS(client_unmask(st[0], surv, "survivors"), Error);
  Recovered rec = recover_secrets(p, sid, roster, r1.u2, r2.u3, in);
  remove_masks(p, sid, roster, r2.u3, rec, r2.sum.data(), 0, p.length, 1);
  CHECK(r2.sum == std::vector<uint64_t>(p.length, 28));
}

// Ed25519 (RFC 8032 vectors, the Wycheproof suite from ../shared/vectors when present) and
// the binding of a client's round messages to its round-0 key (signature.hpp): every message
// after round 0 must be signed by the key in the sender's roster entry, and the advert by the
// key it advertises.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "client.hpp"
#include "error.hpp"
#include "params.hpp"
#include "server_session.hpp"
#include "signature.hpp"

#ifndef SECAGG_VECTORS_DIR
#define SECAGG_VECTORS_DIR ""
#endif

using namespace secagg;

namespace {

template <size_t N>
std::array<uint8_t, N> fixed_hex(std::string_view hex) {
  const Bytes b = from_hex(hex);
  REQUIRE(b.size() == N);
  std::array<uint8_t, N> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

Secret32 seed_hex(std::string_view hex) {
  Secret32 s;
  s.b = fixed_hex<32>(hex);
  return s;
}

bool zero(const Secret32& s) { return s == Secret32{}; }

// One error of code `code` whose message holds every word; fails the test otherwise.
template <class F>
void expect_error(Exit code, F&& f, std::initializer_list<std::string_view> words) {
  try {
    f();
    FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK_MESSAGE(e.code() == code, m);
    for (auto w : words) CHECK_MESSAGE(m.find(w) != std::string::npos, "'" << w << "' not in: " << m);
  }
}

// A whole four-client session (t = 3), every message kept as the bytes sent.
struct Session {
  Params p;
  SessionId sid = new_session_id();
  std::vector<ClientState> st;                     // by id - 1, at the end
  std::vector<ClientState> st_masked;              // by id - 1, before round 4 (still holding the signing key)
  std::vector<Bytes> adv, shares, masked, unmask;  // by id - 1
  Roster roster;
  ShareRound r1;
  MaskedRound r2;

  static Incoming in(const Bytes& b, const std::string& origin) { return {origin, open_envelope(b, origin)}; }
  static std::vector<Incoming> all(const std::vector<Bytes>& msgs, const char* name) {
    std::vector<Incoming> v;
    for (size_t i = 0; i < msgs.size(); ++i) v.push_back(in(msgs[i], fmt::format("{}-{}.msg", name, i + 1)));
    return v;
  }

  Session() {
    p.clients = 4;
    p.threshold = 3;
    p.neighbours = 3;
    p.modulus = uint64_t{1} << 16;
    p.length = 6;
    validate_params(p);
    for (uint32_t id = 1; id <= 4; ++id) {
      st.push_back(client_keygen(p, sid, id));
      adv.push_back(client_advertise(st.back()));
    }
    roster = collect_keys(p, sid, all(adv, "adv"));
    const Envelope roster_env = open_envelope(encode(MsgType::roster, sid, kServerId, kServerId, roster), "roster");
    for (auto& c : st) shares.push_back(client_share(c, roster_env, "roster"));
    r1 = collect_shares(p, sid, roster, all(shares, "shares"));
    for (auto& c : st) {
      const Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, c.id, r1.inboxes.at(c.id)), "inbox");
      masked.push_back(client_mask(c, inbox, "inbox", std::vector<uint64_t>(p.length, c.id), 1));
    }
    st_masked = st;
    r2 = collect_masked(p, sid, roster, r1.u2, all(masked, "masked"));
    const Envelope surv = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{r2.u3}), "surv");
    for (auto& c : st) unmask.push_back(client_unmask(c, surv, "survivors"));
  }
};

// msg re-sealed after `edit` changed its envelope; the signature is kept (and so no longer
// matches) unless a signing key is given.
template <class F>
Bytes forged(const Bytes& msg, F&& edit, const Secret32* resign_with = nullptr) {
  Envelope env = open_envelope(msg, "msg");
  edit(env);
  if (!resign_with) return seal_envelope(env);
  return seal_envelope(env, [&](const Digest32& sum) { return sign_checksum(*resign_with, sum); });
}

}  // namespace

TEST_CASE("Ed25519: RFC 8032 section 7.1 tests 1 and 2") {
  struct Case {
    const char *seed, *pk, *msg, *sig;
  };
  for (const Case& c : {Case{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                             "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
                             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701"
                             "cf9b46bd25bf5f0595bb"
                             "e24655141438e7a100b"},
                        Case{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
                             "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
                             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d"
                             "0f11d8c387b2eaeb4302"
                             "aeeb00d291612bb0c00"}}) {
    CAPTURE(c.pk);
    const Secret32 seed = seed_hex(c.seed);
    const Key32 pk = fixed_hex<32>(c.pk);
    const Bytes msg = from_hex(c.msg);
    CHECK(ed25519_public(seed) == pk);
    const Signature64 sig = ed25519_sign(seed, msg);
    CHECK(to_hex(sig) == c.sig);
    CHECK(ed25519_verify(pk, sig, msg));
    Bytes longer = msg;
    longer.push_back(0);
    CHECK_FALSE(ed25519_verify(pk, sig, longer));
    Signature64 bad = sig;
    bad[10] ^= 1;
    CHECK_FALSE(ed25519_verify(pk, bad, msg));
    CHECK_FALSE(ed25519_verify(ed25519_public(seed_hex(c.pk)), sig, msg));  // another key
  }
}

TEST_CASE("Ed25519: Wycheproof ed25519_test.json") {
  const std::string dir = SECAGG_VECTORS_DIR;
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    MESSAGE("skipped: test vector folder '" << dir << "' is absent");
    return;
  }
  std::ifstream f(std::filesystem::path(dir) / "wycheproof" / "ed25519_test.json", std::ios::binary);
  REQUIRE(f.good());
  std::ostringstream text;
  text << f.rdbuf();
  rapidjson::Document doc;
  doc.Parse(text.str().c_str());
  REQUIRE_FALSE(doc.HasParseError());
  auto s = [](const rapidjson::Value& v, const char* m) {
    REQUIRE(v.HasMember(m));
    return std::string(v[m].GetString(), v[m].GetStringLength());
  };
  int checked = 0, valid = 0;
  for (const auto& g : doc["testGroups"].GetArray()) {
    const Bytes pkb = from_hex(s(g["publicKey"], "pk"));
    REQUIRE(pkb.size() == 32);
    Key32 pk{};
    std::copy(pkb.begin(), pkb.end(), pk.begin());
    for (const auto& t : g["tests"].GetArray()) {
      CAPTURE(t["tcId"].GetInt());
      const std::string result = s(t, "result");
      const Bytes msg = from_hex(s(t, "msg")), sigb = from_hex(s(t, "sig"));
      ++checked;
      if (sigb.size() != kSignatureBytes) {  // cannot even be passed: refused
        CHECK(result == "invalid");
        continue;
      }
      Signature64 sig{};
      std::copy(sigb.begin(), sigb.end(), sig.begin());
      CHECK(ed25519_verify(pk, sig, msg) == (result == "valid"));
      valid += result == "valid";
    }
  }
  CHECK(checked == doc["numberOfTests"].GetInt());
  MESSAGE("Wycheproof Ed25519: " << checked << " cases checked (" << valid << " valid)");
}

TEST_CASE("every client message after setup is signed by the client's round-0 key") {
  Session s;
  for (auto* msgs : {&s.adv, &s.shares, &s.masked, &s.unmask})
    for (uint32_t id = 1; id <= 4; ++id) {
      CAPTURE(id);
      const Envelope env = open_envelope((*msgs)[id - 1], "msg");
      REQUIRE(env.signature.has_value());
      CHECK(signed_by(env, s.st[id - 1].sig_pk));
      CHECK(signed_by(env, s.roster.find(id)->sig_pk));
      CHECK_FALSE(signed_by(env, s.st[id % 4].sig_pk));  // another client's key
    }
  // Server messages carry none.
  CHECK_FALSE(open_envelope(encode(MsgType::roster, s.sid, kServerId, kServerId, s.roster), "r").signature);
  // The signing key lives until the unmask answer, then goes.
  for (uint32_t id = 1; id <= 4; ++id) {
    CHECK_FALSE(zero(s.st_masked[id - 1].sig_seed));
    CHECK(zero(s.st[id - 1].sig_seed));
    CHECK(s.st[id - 1].sig_pk == s.roster.find(id)->sig_pk);
  }
}

TEST_CASE("the envelope: a signed type without its signature, and format version 1, are refused") {
  Session s;
  Bytes cut(s.masked[0].begin(), s.masked[0].end() - kSignatureBytes);
  expect_error(Exit::data, [&] { open_envelope(cut, "m.msg"); }, {"m.msg: ", "missing signature", "masked-input"});
  Bytes longer = s.masked[0];
  longer.push_back(0);
  expect_error(Exit::data, [&] { open_envelope(longer, "m.msg"); }, {"unexpected bytes"});
  Bytes v1 = s.masked[0];
  v1[4] = 1;
  expect_error(Exit::data, [&] { open_envelope(v1, "m.msg"); }, {"format version 1 is not supported"});
  // Sealing refuses to write a signed type unsigned, or an unsigned type with a signature.
  Envelope env = open_envelope(s.masked[0], "m");
  env.signature.reset();
  CHECK_THROWS_AS(seal_envelope(env), Error);
  Envelope roster = open_envelope(encode(MsgType::roster, s.sid, kServerId, kServerId, s.roster), "r");
  roster.signature.emplace();
  CHECK_THROWS_AS(seal_envelope(roster), Error);
  // A signature's bytes changed in transit: the envelope opens (it cannot check), the server refuses.
  Bytes flipped = s.shares[1];
  flipped.back() ^= 1;
  expect_error(Exit::data,
               [&] { collect_shares(s.p, s.sid, s.roster, std::vector<Incoming>{Session::in(flipped, "f.msg")}); },
               {"f.msg: ", "client 2", "bad signature"});
}

TEST_CASE("client 3 cannot speak for client 2, in any round") {
  Session s;
  const Secret32& key3 = s.st_masked[2].sig_seed;
  auto as2 = [](Envelope& e) { e.sender = 2; };
  SUBCASE("round 1: its share message relabelled, with its old signature or re-signed with its own key") {
    for (const Secret32* k : {static_cast<const Secret32*>(nullptr), &key3}) {
      std::vector<Incoming> in = Session::all(s.shares, "shares");
      in[1] = Session::in(forged(s.shares[2], as2, k), "forged.msg");
      expect_error(Exit::data, [&] { collect_shares(s.p, s.sid, s.roster, in); },
                   {"forged.msg: ", "round 1 (share-keys)", "client 2", "bad signature", "client 2's round-0 key"});
    }
  }
  SUBCASE("round 2: the streaming collector refuses it and its sum is unchanged") {
    ServerSession c(s.p, s.sid, Round::r2, s.roster, s.r1.u2);
    c.accept(Session::in(s.masked[0], "masked-1.msg"));
    const std::vector<uint64_t> before = c.masked_sum();
    for (const Secret32* k : {static_cast<const Secret32*>(nullptr), &key3})
      expect_error(Exit::data, [&] { c.accept(Session::in(forged(s.masked[2], as2, k), "forged.msg")); },
                   {"forged.msg: ", "round 2 (masked-input)", "client 2", "bad signature"});
    CHECK(c.masked_sum() == before);
    // A body changed after signing is refused the same way.
    Bytes body = forged(s.masked[2], [](Envelope& e) { e.body.back() ^= 1; });
    expect_error(Exit::data, [&] { c.accept(Session::in(body, "tampered.msg")); }, {"client 3", "bad signature"});
    for (uint32_t id = 2; id <= 4; ++id) c.accept(Session::in(s.masked[id - 1], "masked.msg"));
    CHECK(c.close(1).in == std::vector<uint32_t>{1, 2, 3, 4});
    CHECK(c.masked_sum() == s.r2.sum);
  }
  SUBCASE("round 4: one response and recover_secrets") {
    const Bytes f = forged(s.unmask[2], as2, &key3);
    ServerSession round4(s.p, s.sid, Round::r4, s.roster, s.r1.u2, s.r2.u3);
    expect_error(Exit::data, [&] { round4.accept(Session::in(f, "forged.msg")); },
                 {"forged.msg: ", "round 4 (unmask-shares)", "client 2", "bad signature"});
    std::vector<Incoming> in = Session::all(s.unmask, "unmask");
    in[1] = Session::in(f, "forged.msg");
    expect_error(Exit::data, [&] { recover_secrets(s.p, s.sid, s.roster, s.r1.u2, s.r2.u3, in); },
                 {"client 2", "bad signature"});
    // The honest answers still recover the sum.
    Recovered rec = recover_secrets(s.p, s.sid, s.roster, s.r1.u2, s.r2.u3, Session::all(s.unmask, "unmask"));
    std::vector<uint64_t> sum = s.r2.sum;
    remove_masks(s.p, s.sid, s.roster, s.r2.u3, rec, sum.data(), 0, sum.size(), 1);
    CHECK(sum == std::vector<uint64_t>(s.p.length, 1 + 2 + 3 + 4));
  }
}

TEST_CASE("round 0: an advert must be signed by the signing key it advertises") {
  Session s;
  auto advert_with = [&](const Key32& sig_pk, const Secret32& signer) {
    Envelope env = open_envelope(s.adv[2], "adv3");
    auto body = decode_body<AdvertiseKeys>(env, "adv3");
    body.sig_pk = sig_pk;
    return encode_signed(MsgType::advertise_keys, s.sid, 3, kServerId, body, signer);
  };
  auto with_adv3 = [&](const Bytes& adv3) {
    std::vector<Incoming> in = Session::all(s.adv, "adv");
    in[2] = Session::in(adv3, "adv3.msg");
    return in;
  };
  // Client 3 advertises client 2's signing key (to have its messages pass as client 2's) but
  // cannot sign with it.
  expect_error(Exit::data,
               [&] { collect_keys(s.p, s.sid, with_adv3(advert_with(s.st[1].sig_pk, s.st_masked[2].sig_seed))); },
               {"adv3.msg: ", "round 0 (advertise-keys)", "client 3", "bad signature",
                "not signed by the signing key it advertises"});
  // Whoever holds a key may advertise it once only.
  expect_error(Exit::data,
               [&] { collect_keys(s.p, s.sid, with_adv3(advert_with(s.st[1].sig_pk, s.st_masked[1].sig_seed))); },
               {"client 3", "client 2", "also advertises"});
  // The advert's session changed after signing (the session id is in the checksum it signs).
  SessionId other = s.sid;
  other[0] ^= 1;
  const Bytes moved = forged(s.adv[2], [&](Envelope& e) { e.session = other; });
  expect_error(Exit::data, [&] { collect_keys(s.p, other, std::vector<Incoming>{Session::in(moved, "x.msg")}); },
               {"x.msg: ", "bad signature"});
}

TEST_CASE("a client refuses a roster that does not carry its own signing key") {
  Session s;
  ClientState c = client_keygen(s.p, s.sid, 1);
  Roster r;
  for (uint32_t id = 1; id <= 4; ++id) {
    RosterEntry e = *s.roster.find(id);
    if (id == 1) e = {1, c.c_pk, c.s_pk, c.sig_pk, std::nullopt};
    r.clients.push_back(e);
  }
  auto roster_env = [&] {
    return open_envelope(encode(MsgType::roster, s.sid, kServerId, kServerId, r), "roster.msg");
  };
  ClientState ok = c;
  CHECK_NOTHROW(client_share(ok, roster_env(), "roster.msg"));
  // A substituted signing key (a server or network attacker's own, to speak for client 1).
  ClientState fresh = client_keygen(s.p, s.sid, 1);
  r.clients[0].sig_pk = fresh.sig_pk;
  const ClientState before = c;
  expect_error(Exit::data, [&] { client_share(c, roster_env(), "roster.msg"); },
               {"roster.msg: ", "does not list client 1 with the keys it advertised"});
  CHECK(c.stage == before.stage);
  // A signing key that repeats another client's key.
  r.clients[0].sig_pk = c.sig_pk;
  r.clients[1].sig_pk = c.sig_pk;
  expect_error(Exit::data, [&] { client_share(c, roster_env(), "roster.msg"); }, {"repeats a public key"});
}

// evil: a test-only malicious server for the CLI transcript tests (tests/cli/t0760-*.sh). It plays
// the server's side of a session against the real client tools, round by round, and writes the
// lying messages an honest server never sends; the test runs the clients on them and checks what
// they refuse and what the server could learn. Not installed.
//
// Where the server is honest, the test runs secagg-collect: DIR is a session directory
// secagg-collect made (setup, keys, shares, masked). evil reads it (params, roster, inboxes,
// masked inputs) and keeps its own lies in DIR/evil/. All crypto is the library's.
//
//   evil inboxes DIR --trim V:IDS SHARES...
//       client V's inbox as the engine's round 1 makes it when only V and IDS sent share-keys
//       (SHARES: those clients' messages, more are ignored): V's U2 = {V} u IDS. Writes
//       DIR/evil/inbox-V.msg; every other client takes DIR/inbox-<id>.msg. --trim repeats.
//   evil survivors DIR --for C --ids IDS
//       a survivor set U3(C) = IDS shown to client C alone: DIR/evil/survivors-C.msg.
//   evil consistency DIR (--for C | --u3 IDS) [--include-all] -o OUT SIGS...
//       the best consistency message the server can make for U3(C) (or IDS) from the round-3
//       signatures SIGS: every one that verifies over that set. --include-all adds the others
//       (signatures over other sets). Prints the set and the signers it holds over it.
//   evil consistency DIR --from-session OTHER [--retag] -o OUT
//       OTHER/consistency.msg (another session's) replayed as it is, or with --retag re-sealed
//       with this session's id (its signatures are over the other session).
//   evil roster DIR LIE... -o OUT
//       DIR/roster.msg with lies, LIE one or more of
//         --substitute ID      client ID's three keys replaced by fresh ones the server holds
//                              (an active session's entry keeps ID's attestation)
//         --sybil ID           an entry for ID with fresh keys (added, or replacing ID's); in an
//                              active session certified by a CA the server made itself
//         --cert-of ID:OTHER   client ID's entry carries OTHER's attestation (active sessions)
//   evil revealed DIR [-o OUT] UNMASKS...
//       the shares the round-4 answers UNMASKS reveal, one line per owner, to OUT (default
//       stdout). Exit 1 when one answer reveals both shares (b and s_sk) of one client, or the
//       answers together do.
//   evil recover DIR --victim V [-o OUT] UNMASKS...
//       rebuilds from the revealed shares what it can (b_V; for each peer w in V's U2 s_sk_w, or
//       else s_sk_V), removes V's masks from its masked input DIR/masked-V.msg and writes V's
//       input as decimal text, one element per line, to OUT (default stdout). Exit 1 when it
//       cannot, naming what is missing and saying whether the answers give any other client's
//       input.
//
// Exit 0 on success, 1 when an attack did not get what it wanted (revealed, recover), 2 on
// misuse or any error, with one line "evil: error: ..." on stderr. `evil help` prints the usage lines.
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "client.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "identity.hpp"
#include "mask.hpp"
#include "message_file.hpp"
#include "messages.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "server.hpp"
#include "server_session.hpp"
#include "session_dir.hpp"
#include "shamir.hpp"
#include "signature.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

constexpr const char* kUsage =
    "usage: evil inboxes DIR --trim V:IDS SHARES...\n"
    "       evil survivors DIR --for C --ids IDS\n"
    "       evil consistency DIR (--for C | --u3 IDS) [--include-all] -o OUT SIGS...\n"
    "       evil consistency DIR --from-session OTHER [--retag] -o OUT\n"
    "       evil roster DIR [--substitute ID] [--sybil ID] [--cert-of ID:OTHER] -o OUT\n"
    "       evil revealed DIR [-o OUT] UNMASKS...\n"
    "       evil recover DIR --victim V [-o OUT] UNMASKS...\n";

// A bad command line; like any other error: one line, exit 2.
using Misuse = std::runtime_error;
// The attack did not get what it wanted: one line, exit 1.
struct Failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint32_t to_id(const std::string& s) {
  size_t pos = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(s, &pos, 10);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos == 0 || pos != s.size() || v == 0 || v > kMaxClients) throw Misuse("'" + s + "' is not a client id");
  return static_cast<uint32_t>(v);
}

// "1,2,3" -> {1, 2, 3}, sorted and unique ("" is the empty set).
std::vector<uint32_t> to_ids(const std::string& list) {
  std::set<uint32_t> ids;
  size_t start = 0;
  while (start < list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    ids.insert(to_id(list.substr(start, comma - start)));
    start = comma + 1;
  }
  return {ids.begin(), ids.end()};
}

std::string ids_text(const std::vector<uint32_t>& ids) {
  return ids.empty() ? "none" : fmt::format("{}", fmt::join(ids, ","));
}

// The command line after DIR: options with a value, flags, and the rest (files).
struct Args {
  std::map<std::string, std::vector<std::string>> opts;
  std::set<std::string> flags;
  std::vector<std::string> files;

  Args(const std::vector<std::string>& a, const std::set<std::string>& with_value, const std::set<std::string>& flag) {
    for (size_t i = 0; i < a.size(); ++i) {
      if (with_value.count(a[i])) {
        if (i + 1 >= a.size()) throw Misuse(a[i] + " needs a value");
        opts[a[i]].push_back(a[i + 1]);
        ++i;
      } else if (flag.count(a[i])) {
        flags.insert(a[i]);
      } else if (a[i].size() > 1 && a[i][0] == '-') {
        throw Misuse("unknown option " + a[i]);
      } else {
        files.push_back(a[i]);
      }
    }
  }
  bool has(const std::string& o) const { return opts.count(o) != 0; }
  // The one value of o (required).
  const std::string& one(const std::string& o) const {
    auto it = opts.find(o);
    if (it == opts.end()) throw Misuse(o + " is required");
    if (it->second.size() != 1) throw Misuse(o + " is given more than once");
    return it->second[0];
  }
};

// What the server knows of the session from its directory (secagg-collect's honest rounds).
struct Session {
  SessionDir dir;
  Params p;
  SessionId sid{};
  Roster roster;

  explicit Session(const std::string& path) : dir(path) {
    std::tie(p, sid) = dir.params();
    roster = dir.roster(sid);
  }
  std::string evil_dir() const { return dir.dir() + "/evil"; }
  std::string evil_path(const std::string& name) const { return evil_dir() + "/" + name; }
  const RosterEntry& entry(uint32_t id) const {
    const RosterEntry* e = roster.find(id);
    if (!e) throw Misuse(fmt::format("client {} is not in the roster U1", id));
    return *e;
  }
  // A client's message of this session, its signature checked against the roster.
  Envelope client_message(const std::string& path, MsgType type) const {
    MessageLimits limits;
    limits.params = &p;
    limits.type = type;
    Envelope env = open_envelope(read_message_file(path, limits), path);
    expect_message(env, path, type, sid);
    const RosterEntry* e = roster.find(env.sender);
    if (!e) throw Error(Exit::data, fmt::format("{}: from client {}, which is not in the roster", path, env.sender));
    if (!signed_by(env, e->sig_pk))
      throw Error(Exit::data, fmt::format("{}: not signed by client {}'s round-0 key", path, env.sender));
    return env;
  }
  // The senders of the inbox the server gave client u: its own view of U2 (empty if none).
  std::vector<uint32_t> u2_of(uint32_t u) const {
    std::string f = evil_path(SessionDir::inbox_name(u));
    if (!path_exists(f)) f = dir.inbox_path(u);
    if (!path_exists(f)) return {};
    const Envelope env = open_envelope(read_message_file(f, &p), f);
    std::vector<uint32_t> u2;
    for (const SealedShare& s : decode_body<SealedShares>(env, f).shares) u2.push_back(s.peer);
    return u2;
  }
};

// ---- round 1: a trimmed inbox -----------------------------------------------------------------

int cmd_inboxes(const Session& s, const Args& a) {
  if (!a.has("--trim")) throw Misuse("inboxes needs --trim V:IDS");
  std::map<uint32_t, Incoming> shares;  // sender -> its share-keys message
  for (const std::string& f : a.files) {
    Envelope env = s.client_message(f, MsgType::share_keys);
    const uint32_t sender = env.sender;
    if (!shares.emplace(sender, Incoming{f, std::move(env)}).second)
      throw Misuse(fmt::format("two share-keys messages of client {}", sender));
  }
  make_directory(s.evil_dir());
  for (const std::string& trim : a.opts.at("--trim")) {
    const size_t colon = trim.find(':');
    if (colon == std::string::npos) throw Misuse("--trim '" + trim + "' is not V:IDS");
    const uint32_t v = to_id(trim.substr(0, colon));
    std::vector<uint32_t> keep = to_ids(trim.substr(colon + 1));
    if (!contains(keep, v)) keep.insert(std::upper_bound(keep.begin(), keep.end(), v), v);
    // The engine's own round 1 over the kept senders' messages: V's inbox holds their bundles,
    // in whatever form the wire format gives an inbox.
    std::vector<Incoming> kept;
    for (uint32_t id : keep) {
      auto it = shares.find(id);
      if (it == shares.end())
        throw Misuse(fmt::format("--trim {}: no share-keys message of client {} given", trim, id));
      kept.push_back(it->second);
    }
    ServerSession round1(s.p, s.sid, Round::r1, s.roster);
    round1.accept_all(kept, 1);
    const RoundResult r = round1.close(1);
    write_file_atomic(s.evil_path(SessionDir::inbox_name(v)), r.inboxes.at(v));
    fmt::print("client {}'s inbox: bundles of {} (its U2)\n", v, ids_text(keep));
  }
  return 0;
}

// ---- rounds 2 to 4: survivor sets and consistency messages ------------------------------------

std::string survivors_path(const Session& s, uint32_t c) { return s.evil_path(fmt::format("survivors-{}.msg", c)); }

int cmd_survivors(const Session& s, const Args& a) {
  if (!a.files.empty()) throw Misuse("survivors takes no files");
  const uint32_t c = to_id(a.one("--for"));
  s.entry(c);
  make_directory(s.evil_dir());
  write_file_atomic(survivors_path(s, c),
                    encode(MsgType::survivors, s.sid, kServerId, kServerId, IdList{to_ids(a.one("--ids"))}));
  return 0;
}

int cmd_consistency(const Session& s, const Args& a) {
  const std::string out = a.one("-o");
  if (a.has("--from-session")) {
    if (a.has("--for") || a.has("--u3") || a.flags.count("--include-all") || !a.files.empty())
      throw Misuse("--from-session takes only --retag and -o");
    const SessionDir other(a.one("--from-session"));
    const std::string f = other.path(Marker::consistency);
    Envelope env = open_envelope(read_message_file(f), f);
    if (env.type != MsgType::consistency) throw Misuse(f + ": not a consistency message");
    const std::string from = session_hex(env.session);
    if (a.flags.count("--retag")) env.session = s.sid;
    write_file_atomic(out, seal_envelope(env));
    fmt::print("consistency message of session {} {}\n", from,
               a.flags.count("--retag") ? "re-sealed with this session's id" : "replayed as it is");
    return 0;
  }
  if (a.flags.count("--retag")) throw Misuse("--retag goes with --from-session");
  if (a.has("--for") == a.has("--u3")) throw Misuse("consistency needs --for C or --u3 IDS (one of them)");
  std::vector<uint32_t> u3;
  if (a.has("--u3")) {
    u3 = to_ids(a.one("--u3"));
  } else {
    const std::string f = survivors_path(s, to_id(a.one("--for")));
    const Envelope env = open_envelope(read_message_file(f, &s.p), f);
    u3 = decode_body<IdList>(env, f).ids;
  }
  std::map<uint32_t, SignedBy> held, over_u3;
  for (const std::string& f : a.files) {
    const Envelope env = s.client_message(f, MsgType::consistency_signature);
    const SurvivorSignature sig = decode_body<SurvivorSignature>(env, f);
    if (!held.emplace(env.sender, SignedBy{env.sender, sig.signature}).second)
      throw Misuse(fmt::format("two signatures of client {}", env.sender));
    if (ed25519_verify(s.entry(env.sender).sig_pk, sig.signature, consistency_signed_bytes(s.sid, env.sender, u3)))
      over_u3.emplace(env.sender, SignedBy{env.sender, sig.signature});
  }
  Consistency c{u3, {}};
  for (const auto& [id, sig] : a.flags.count("--include-all") ? held : over_u3) c.signatures.push_back(sig);
  write_file_atomic(out, encode(MsgType::consistency, s.sid, kServerId, kServerId, c));
  std::vector<uint32_t> signers;
  for (const auto& [id, sig] : over_u3) signers.push_back(id);
  fmt::print("U3 = {}: {} signatures over it ({}), threshold {}; the message carries {}\n", ids_text(u3),
             signers.size(), ids_text(signers), s.p.threshold,
             a.flags.count("--include-all") ? fmt::format("all {} held", held.size()) : std::string("those"));
  return 0;
}

// ---- round 0: a lying roster ------------------------------------------------------------------

// Fresh round-0 keys for client id, made by the library's own keygen (as an honest-but-curious
// client of this session would make them): the server holds their secrets.
AdvertiseKeys fresh_keys(const Session& s, uint32_t id) {
  Params plain = s.p;
  plain.threat = ThreatModel::honest_but_curious;
  plain.corrupt = 0;
  plain.ca_pk = Key32{};
  const ClientState st = client_keygen(plain, s.sid, id);
  return AdvertiseKeys{st.c_pk, st.s_pk, st.sig_pk, std::nullopt};
}

RosterEntry& entry_of(Roster& r, uint32_t id, const char* lie) {
  for (RosterEntry& e : r.clients)
    if (e.id == id) return e;
  throw Misuse(fmt::format("{} {}: client {} is not in the roster U1", lie, id, id));
}

int cmd_roster(const Session& s, const Args& a) {
  if (!a.files.empty()) throw Misuse("roster takes no files");
  const std::string out = a.one("-o");
  if (!a.has("--substitute") && !a.has("--sybil") && !a.has("--cert-of"))
    throw Misuse("roster needs a lie: --substitute ID, --sybil ID or --cert-of ID:OTHER");
  Roster r = s.roster;
  for (const std::string& v : a.has("--substitute") ? a.opts.at("--substitute") : std::vector<std::string>{}) {
    RosterEntry& e = entry_of(r, to_id(v), "--substitute");
    const AdvertiseKeys k = fresh_keys(s, e.id);
    e.c_pk = k.c_pk;
    e.s_pk = k.s_pk;
    e.sig_pk = k.sig_pk;  // the attestation, if any, stays: the server cannot sign with e's identity
  }
  for (const std::string& v : a.has("--sybil") ? a.opts.at("--sybil") : std::vector<std::string>{}) {
    const uint32_t id = to_id(v);
    if (id > s.p.clients) throw Misuse(fmt::format("--sybil {}: the session has ids 1 to {}", id, s.p.clients));
    const AdvertiseKeys k = fresh_keys(s, id);
    RosterEntry e{id, k.c_pk, k.s_pk, k.sig_pk, std::nullopt};
    if (s.p.active()) {
      // A CA of the server's own, which certifies the Sybil's identity as client id.
      const Identity ca = make_identity(), sybil = make_identity();
      const Certificate cert = certify(ca, id, sybil.pk, 0);
      e.attestation = attest(sybil, cert, ca.pk, s.sid, id, k, unix_now(), "the server's certificate");
    }
    std::erase_if(r.clients, [&](const RosterEntry& x) { return x.id == id; });
    r.clients.insert(std::upper_bound(r.clients.begin(), r.clients.end(), id,
                                      [](uint32_t i, const RosterEntry& x) { return i < x.id; }),
                     e);
  }
  for (const std::string& v : a.has("--cert-of") ? a.opts.at("--cert-of") : std::vector<std::string>{}) {
    if (!s.p.active()) throw Misuse("--cert-of: an honest-but-curious session's roster carries no certificates");
    const size_t colon = v.find(':');
    if (colon == std::string::npos) throw Misuse("--cert-of '" + v + "' is not ID:OTHER");
    const uint32_t id = to_id(v.substr(0, colon)), other = to_id(v.substr(colon + 1));
    entry_of(r, id, "--cert-of").attestation = entry_of(r, other, "--cert-of").attestation;
  }
  write_file_atomic(out, encode(MsgType::roster, s.sid, kServerId, kServerId, r));
  return 0;
}

// ---- round 4: what the answers reveal ---------------------------------------------------------

// The shares the round-4 answers revealed, by owner.
struct Revealed {
  std::map<uint32_t, std::vector<shamir::Share>> b, s_sk;  // owner -> its shares
  std::vector<uint32_t> responders;
  std::vector<std::string> both_in_one;  // "client C's answer reveals both shares of client U"
};

Revealed read_answers(const Session& s, const std::vector<std::string>& files) {
  Revealed r;
  for (const std::string& f : files) {
    const Envelope env = s.client_message(f, MsgType::unmask_shares);
    const uint32_t c = env.sender;
    if (contains(r.responders, c)) throw Misuse(fmt::format("two round-4 answers of client {}", c));
    r.responders.insert(std::upper_bound(r.responders.begin(), r.responders.end(), c), c);
    const UnmaskShares body = decode_body<UnmaskShares>(env, f);
    std::set<uint32_t> b_owners;
    for (const OwnedShare& o : body.self_mask) {
      r.b[o.owner].push_back(o.share);
      b_owners.insert(o.owner);
    }
    for (const OwnedShare& o : body.mask_key) {
      r.s_sk[o.owner].push_back(o.share);
      if (b_owners.count(o.owner))
        r.both_in_one.push_back(fmt::format("client {}'s answer reveals both shares of client {}", c, o.owner));
    }
  }
  return r;
}

size_t count(const std::map<uint32_t, std::vector<shamir::Share>>& m, uint32_t owner) {
  auto it = m.find(owner);
  return it == m.end() ? 0 : it->second.size();
}

int cmd_revealed(const Session& s, const Args& a) {
  const Revealed r = read_answers(s, a.files);
  std::string text =
      fmt::format("{} answers (from {}), threshold {}\n", r.responders.size(), ids_text(r.responders), s.p.threshold);
  std::vector<uint32_t> both;
  for (uint32_t u : s.roster.ids()) {
    const size_t nb = count(r.b, u), nk = count(r.s_sk, u);
    if (nb == 0 && nk == 0) continue;
    text += fmt::format("client {}: {} shares of b_{}, {} shares of s_sk_{}\n", u, nb, u, nk, u);
    if (nb > 0 && nk > 0) both.push_back(u);
  }
  write_file_atomic(a.has("-o") ? a.one("-o") : "-", text);
  if (!r.both_in_one.empty()) throw Failed(r.both_in_one.front());
  if (!both.empty())
    throw Failed(
        fmt::format("the answers together reveal shares of both b_u and s_sk_u for u = {}: the clients were "
                    "shown different survivor sets",
                    ids_text(both)));
  return 0;
}

// A secret from the first t of its revealed shares, if there are t.
std::optional<Secret32> rebuild(const std::map<uint32_t, std::vector<shamir::Share>>& m, uint32_t owner, uint32_t t) {
  auto it = m.find(owner);
  if (it == m.end() || it->second.size() < t) return std::nullopt;
  return shamir::reconstruct(std::span(it->second).first(t));
}

// Client u's input from its masked input and the revealed shares, or why not.
struct Attempt {
  std::vector<uint64_t> x;
  std::string missing;  // empty on success
};

Attempt try_input(const Session& s, const Revealed& r, uint32_t u) {
  const uint32_t t = s.p.threshold;
  Attempt out;
  const std::string f = s.dir.masked_path(u);
  if (!path_exists(f)) return {{}, fmt::format("the server holds no masked input of client {}", u)};
  const std::optional<Secret32> b = rebuild(r.b, u, t);
  if (!b) return {{}, fmt::format("{} of {} shares of b_{} revealed", count(r.b, u), t, u)};
  std::vector<SignedSeed> masks{{*b, Sign::minus}};
  const std::optional<Secret32> own = rebuild(r.s_sk, u, t);
  if (own && x25519_public(*own) != s.entry(u).s_pk)
    throw Error(Exit::data, fmt::format("the shares of s_sk_{} give a key that is not client {}'s", u, u));
  const RosterEntry& eu = s.entry(u);
  std::vector<std::string> lacking;
  for (uint32_t w : s.u2_of(u)) {
    if (w == u) continue;
    const RosterEntry& ew = s.entry(w);
    // u added sign(u, w) PRG(s_uw): + for u < w. It comes out with the other sign.
    const Sign sign = u < w ? Sign::minus : Sign::plus;
    if (const std::optional<Secret32> k = rebuild(r.s_sk, w, t)) {
      if (x25519_public(*k) != ew.s_pk)
        throw Error(Exit::data, fmt::format("the shares of s_sk_{} give a key that is not client {}'s", w, w));
      masks.push_back({pairwise_seed(*k, eu.s_pk, s.sid, w, u), sign});
    } else if (own) {
      masks.push_back({pairwise_seed(*own, ew.s_pk, s.sid, u, w), sign});
    } else {
      lacking.push_back(fmt::format("s_sk_{} ({} of {} shares)", w, count(r.s_sk, w), t));
    }
  }
  if (!lacking.empty())
    return {{},
            fmt::format("b_{} rebuilt, but {} of the masks it added with its U2 cannot be removed: neither s_sk_{} "
                        "({} of {} shares) nor {}",
                        u, lacking.size(), u, count(r.s_sk, u), t, fmt::join(lacking, ", "))};
  const Envelope env = s.client_message(f, MsgType::masked_input);
  const RingVector y = decode_body<RingVector>(env, f);
  const Modulus ring = s.p.ring();
  if (y.modulus != ring.R || y.length != s.p.length) throw Error(Exit::data, f + ": not a vector of this session");
  out.x = unpack(y.packed, y.length, ring.bits());
  add_masks(s.p.prg_kind(), ring, masks, out.x.data(), 0, out.x.size());
  return out;
}

int cmd_recover(const Session& s, const Args& a) {
  const uint32_t v = to_id(a.one("--victim"));
  s.entry(v);
  const Revealed r = read_answers(s, a.files);
  const Attempt got = try_input(s, r, v);
  if (got.missing.empty()) {
    write_file_atomic(a.has("-o") ? a.one("-o") : "-", vector_text(got.x));
    return 0;
  }
  std::vector<uint32_t> others;
  for (uint32_t u : s.roster.ids())
    if (u != v && try_input(s, r, u).missing.empty()) others.push_back(u);
  throw Failed(fmt::format("cannot reconstruct client {}'s input from {} round-4 answers: {}; {}", v,
                           r.responders.size(), got.missing,
                           others.empty() ? std::string("no client's input can be reconstructed from them")
                                          : fmt::format("but the input of client(s) {} can be", ids_text(others))));
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  try {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    if (!all.empty() && (all[0] == "help" || all[0] == "--help")) {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (all.size() < 2) throw Misuse("a subcommand and a session directory are needed (evil help)");
    const std::string& cmd = all[0];
    const std::vector<std::string> rest(all.begin() + 2, all.end());
    auto session = [&] { return Session(all[1]); };
    if (cmd == "inboxes") return cmd_inboxes(session(), Args(rest, {"--trim"}, {}));
    if (cmd == "survivors") return cmd_survivors(session(), Args(rest, {"--for", "--ids"}, {}));
    if (cmd == "consistency")
      return cmd_consistency(session(),
                             Args(rest, {"--for", "--u3", "-o", "--from-session"}, {"--include-all", "--retag"}));
    if (cmd == "roster") return cmd_roster(session(), Args(rest, {"--substitute", "--sybil", "--cert-of", "-o"}, {}));
    if (cmd == "revealed") return cmd_revealed(session(), Args(rest, {"-o"}, {}));
    if (cmd == "recover") return cmd_recover(session(), Args(rest, {"--victim", "-o"}, {}));
    throw Misuse("unknown subcommand '" + cmd + "' (evil help)");
  } catch (const Failed& e) {
    std::fprintf(stderr, "evil: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "evil: error: %s\n", e.what());
    return 2;
  }
}

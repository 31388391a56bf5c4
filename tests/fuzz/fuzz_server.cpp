// Fuzz target: the protocol functions that take untrusted messages, inside a real session.
//
// Once per process it runs two complete sessions through the library, exactly as the tools
// chain them and with the tools' deterministic randomness (SECAGG_INSECURE_DETERMINISTIC_SEED
// = kSeed, the same random_context labels), so they are byte-identical to the sessions
// tests/fuzz/make-corpus.sh records with the real tools:
//   session A: 4 clients, t = 3, full SecAgg, R = 2^32, length 16, aes128ctr;
//              client 4 drops after round 1, so U1 = U2 = {1..4}, U3 = U4 = {1, 2, 3}
//   session B: 6 clients, t = 2, neighbours 2 (SecAgg+), R = 1000003, length 16, chacha20;
//              client 6 drops after round 1, so U3 = U4 = {1..5}; in round 1 each client takes
//              its own neighbourhood message (S/roster-<id>.msg), not the roster
// Then each input is one message delivered into one step of that session:
//
//   byte 0  operation (byte % 10)        the fuzzed message is ...
//             0 collect_keys               client <slot>'s advertise-keys
//             1 collect_shares             client <slot>'s share-keys
//             2 ServerSession::accept      U2[slot]'s masked input (round 2; then close())
//             3 recover_secrets            U3[slot]'s unmask-shares (then remove_masks)
//             4 client_share               the roster (session B: client <slot>'s neighbourhood
//                                          message), given to client <slot> (its round-0 state)
//             5 client_mask                the inbox of U2[slot] (its round-1 state, real input)
//             6 client_unmask              the survivors, given to U3[slot] (its round-2 state)
//             7 client_share               client <slot>'s STATE file; the real roster (session B:
//                                          the state's client's own neighbourhood message)
//             8 client_mask                a client STATE file; that client's real inbox
//             9 client_unmask              a client STATE file; the real survivors
//   byte 1  flags
//             bit 0     raw: open the message exactly as given (else resealed, fuzz_common.hpp, and
//                       for a server step re-signed by the session client the header names, so
//                       that mutations get past the signature check to the checks behind it)
//             bit 1     fix the header: type, round, session, sender and recipient set to what
//                       the step expects (then resealed)
//             bits 2-4  slot (client <slot> is id slot % n + 1; U2[slot % |U2|], U3[slot % |U3|])
//             bit 5     server steps: deliver the real message of that client too (a duplicate)
//             bit 6     session B instead of A
//             bit 7     client steps: 2 threads; server round 2: add the fuzzed message first
//   rest    the message (an envelope)
//
// SECAGG_FUZZ_SERVER_SKIP=7,9 (operation numbers) skips those operations: to keep fuzzing
// the others while a known crash in one is being fixed.
//
// The server steps get every other client's real message alongside the fuzzed one, so a
// well-formed mutation gets as far as the step's own checks and computations.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "client.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "fuzz_common.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "random.hpp"
#include "roster_window.hpp"
#include "server_session.hpp"

using namespace secagg;

namespace {

// The deterministic seed shared with make-corpus.sh.
constexpr const char* kSeed = "secagg-fuzz";
const std::string kOrigin = "fuzz.msg";

struct Session {
  Params p;
  SessionId sid{};
  std::vector<ClientState> st0, st1, st2;  // by id - 1: after keygen, share, mask (st2: U3 only)
  std::vector<std::vector<uint64_t>> x;    // inputs, by id - 1
  std::vector<Incoming> adverts, shares, masked, unmasks;  // sorted by sender
  Roster roster;
  Bytes roster_msg, survivors_msg;
  std::vector<Bytes> inbox_msg;  // by id - 1 (empty for clients outside U2)
  std::vector<uint32_t> u2, u3;
  std::vector<uint64_t> masked_sum;
  Envelope roster_env, survivors_env;
  std::vector<Envelope> inbox_env;
  // SecAgg+ (session B): each client's round-0 answer, its neighbourhood message, by id - 1.
  std::vector<Bytes> window_msg;
  std::vector<Envelope> window_env;

  // What client id takes in round 1: its neighbourhood message in SecAgg+, else the roster.
  const Envelope& round0_answer(uint32_t id) const { return window_env.empty() ? roster_env : window_env[id - 1]; }
};

Envelope open(const Bytes& b) { return open_envelope(b, "setup"); }

Session build(const Params& p, uint32_t drop_before_mask) {
  Session s;
  s.p = p;
  validate_params(p);
  const uint32_t n = p.clients;
  random_context("setup");
  s.sid = new_session_id();
  for (uint32_t id = 1; id <= n; ++id) {
    random_context(fmt::format("keygen {}", id));
    s.st0.push_back(client_keygen(p, s.sid, id));
    s.adverts.push_back({fmt::format("adv{}.msg", id), open(client_advertise(s.st0.back()))});
  }
  s.roster = collect_keys(p, s.sid, s.adverts);
  s.roster_msg = encode(MsgType::roster, s.sid, kServerId, kServerId, s.roster);
  s.roster_env = open(s.roster_msg);
  if (is_secagg_plus(p)) {
    // Every client is in U1 here (the dropout comes after round 1).
    const RosterWindows windows(p, s.sid, s.roster);
    for (uint32_t id = 1; id <= n; ++id) {
      s.window_msg.push_back(windows.message(id));
      s.window_env.push_back(open(s.window_msg.back()));
    }
  }
  for (uint32_t id = 1; id <= n; ++id) {
    ClientState st = s.st0[id - 1];
    random_context(fmt::format("share {}", id));
    Bytes m = client_share(st, s.round0_answer(id), "roster.msg", 1);
    s.st1.push_back(st);
    s.shares.push_back({fmt::format("shares{}.msg", id), open(m)});
  }
  ShareRound sr = collect_shares(p, s.sid, s.roster, s.shares);
  s.u2 = sr.u2;
  s.inbox_msg.resize(n);
  s.inbox_env.resize(n);
  for (auto& [v, inbox] : sr.inboxes) {
    s.inbox_msg[v - 1] = encode(MsgType::inbox, s.sid, kServerId, v, inbox);
    s.inbox_env[v - 1] = open(s.inbox_msg[v - 1]);
  }
  Modulus ring = p.ring();
  s.st2.resize(n);
  for (uint32_t id = 1; id <= n; ++id) {
    std::vector<uint64_t> x(p.length);
    for (uint64_t i = 0; i < p.length; ++i) x[i] = (i * 1000003 + id * 7919) % ring.R;
    s.x.push_back(x);
    if (id == drop_before_mask) continue;
    ClientState st = s.st1[id - 1];
    Bytes m = client_mask(st, s.inbox_env[id - 1], "inbox.msg", x, 1);
    s.st2[id - 1] = st;
    s.masked.push_back({fmt::format("masked{}.msg", id), open(m)});
  }
  MaskedRound mr = collect_masked(p, s.sid, s.roster, s.u2, s.masked);
  s.u3 = mr.u3;
  s.masked_sum = mr.sum;
  s.survivors_msg = encode(MsgType::survivors, s.sid, kServerId, kServerId, IdList{s.u3});
  s.survivors_env = open(s.survivors_msg);
  for (uint32_t id : s.u3) {
    ClientState st = s.st2[id - 1];
    s.unmasks.push_back({fmt::format("unmask{}.msg", id), open(client_unmask(st, s.survivors_env, "survivors.msg"))});
  }
  // The session must be right, or the fuzzing would explore a broken one.
  Recovered rec = recover_secrets(p, s.sid, s.roster, s.u2, s.u3, s.unmasks);
  std::vector<uint64_t> sum = s.masked_sum;
  remove_masks(p, s.sid, s.roster, s.u3, rec, sum.data(), 0, p.length, 1);
  for (uint64_t i = 0; i < p.length; ++i) {
    uint64_t want = 0;
    for (uint32_t id : s.u3) want = ring.add(want, s.x[id - 1][i]);
    if (sum[i] != want) {
      std::fprintf(stderr, "fuzz_server: the setup session sums wrong at element %llu\n",
                   static_cast<unsigned long long>(i));
      std::abort();
    }
  }
  return s;
}

Params params_a() {
  Params p;
  p.clients = 4;
  p.threshold = 3;
  p.neighbours = 3;
  p.modulus = uint64_t{1} << 32;
  p.length = 16;
  p.prg = static_cast<uint8_t>(PrgKind::aes128ctr);
  return p;
}

Params params_b() {
  Params p;
  p.clients = 6;
  p.threshold = 2;
  p.neighbours = 2;
  p.modulus = 1000003;
  p.length = 16;
  p.prg = static_cast<uint8_t>(PrgKind::chacha20);
  return p;
}

struct Sessions {
  Session a, b;
};

// Optionally writes the sessions' messages to $SECAGG_FUZZ_DUMP_SESSION/{A,B}/ so that
// make-corpus.sh's tool-made session can be compared with this one (they must be equal).
void dump(const Session& s, const std::string& dir) {
  make_directory(dir);
  write_file_atomic(dir + "/params.msg", encode(MsgType::params, s.sid, kServerId, kServerId, s.p));
  write_file_atomic(dir + "/roster.msg", s.roster_msg);
  for (size_t i = 0; i < s.window_msg.size(); ++i)
    write_file_atomic(fmt::format("{}/roster-{}.msg", dir, i + 1), s.window_msg[i]);
  write_file_atomic(dir + "/survivors.msg", s.survivors_msg);
  for (size_t i = 0; i < s.inbox_msg.size(); ++i)
    if (!s.inbox_msg[i].empty()) write_file_atomic(fmt::format("{}/inbox-{}.msg", dir, i + 1), s.inbox_msg[i]);
  for (size_t i = 0; i < s.st0.size(); ++i) {
    auto st = [&](const ClientState& c) { return encode(MsgType::client_state, c.session, c.id, c.id, c); };
    write_file_atomic(fmt::format("{}/c{}.keygen", dir, i + 1), st(s.st0[i]));
    write_file_atomic(fmt::format("{}/c{}.share", dir, i + 1), st(s.st1[i]));
  }
}

const Sessions& sessions() {
  static const Sessions* s = [] {
    // Before the library's first use of randomness: crypto_init reads it once.
    setenv(kDeterministicEnv, kSeed, 1);
    auto* out = new Sessions{build(params_a(), 4), build(params_b(), 6)};
    if (const char* d = std::getenv("SECAGG_FUZZ_DUMP_SESSION"); d && *d) {
      dump(out->a, std::string(d) + "/A");
      dump(out->b, std::string(d) + "/B");
    }
    return out;
  }();
  return *s;
}

// The real messages with client `id`'s replaced by (or, with `dup`, joined by) the fuzzed one.
std::vector<Incoming> with(const std::vector<Incoming>& real, uint32_t id, const Envelope& env, bool dup) {
  std::vector<Incoming> out;
  for (const auto& m : real)
    if (dup || m.env.sender != id) out.push_back(m);
  out.push_back({kOrigin, env});
  return out;
}

bool skipped(unsigned op) {
  static const uint32_t mask = [] {
    uint32_t m = 0;
    const char* v = std::getenv("SECAGG_FUZZ_SERVER_SKIP");
    for (; v && *v; ++v)
      if (*v >= '0' && *v <= '9') m |= 1u << (*v - '0');
    return m;
  }();
  return mask & (1u << op);
}

template <class F>
void attempt(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    fuzz::note(e);
  }
}

enum Op : uint8_t {
  kKeys,
  kShares,
  kMasked,
  kUnmask,
  kClientShare,
  kClientMask,
  kClientUnmask,
  kStateShare,
  kStateMask,
  kStateUnmask,
  kOps
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)sessions();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Sessions& all = sessions();
  fuzz::Selector sel{data, size};
  const auto op = static_cast<Op>(sel.take() % kOps);
  if (skipped(op)) return 0;
  const uint8_t flags = sel.take();
  const bool raw = flags & 1, fix = flags & 2, dup = flags & 0x20, bit7 = flags & 0x80;
  const unsigned slot = (flags >> 2) & 7;
  const Session& s = (flags & 0x40) ? all.b : all.a;
  const Params& p = s.p;
  const uint32_t n = p.clients;
  const uint32_t any_id = slot % n + 1;
  const uint32_t u2_id = s.u2[slot % s.u2.size()];
  const uint32_t u3_id = s.u3[slot % s.u3.size()];
  const unsigned threads = bit7 ? 2 : 1;

  // What the step expects in the header, for the fix-up.
  MsgType type{};
  uint32_t sender = kServerId, recipient = kServerId;
  switch (op) {
    case kKeys: type = MsgType::advertise_keys, sender = any_id; break;
    case kShares: type = MsgType::share_keys, sender = any_id; break;
    case kMasked: type = MsgType::masked_input, sender = u2_id; break;
    case kUnmask: type = MsgType::unmask_shares, sender = u3_id; break;
    case kClientShare:
      type = roster_message_type(p);
      if (type == MsgType::neighbourhood) recipient = any_id;
      break;
    case kClientMask: type = MsgType::inbox, recipient = u2_id; break;
    case kClientUnmask: type = MsgType::survivors; break;
    default: type = MsgType::client_state, sender = recipient = any_id; break;
  }
  Bytes msg(sel.rest().begin(), sel.rest().end());
  if (!raw) {
    if (fix)
      fuzz::fix_header(msg, type, s.sid, sender, recipient);
    else
      fuzz::reseal(msg);
    const uint32_t claimed = msg.size() >= kHeaderBytes ? le::get32(msg.data() + 24) : 0;
    if (op <= kUnmask && claimed >= 1 && claimed <= n) fuzz::resign(msg, s.st0[claimed - 1].sig_seed);
  }
  Envelope env;
  try {
    env = open_envelope(msg, kOrigin);
  } catch (const Error& e) {
    fuzz::note(e);
    return 0;
  }
  // Randomness (client_share draws b and nonces) starts from the same point every input.
  random_context("fuzz");

  switch (op) {
    case kKeys:
      attempt([&] { (void)collect_keys(p, s.sid, with(s.adverts, any_id, env, dup)); });
      break;
    case kShares:
      attempt([&] { (void)collect_shares(p, s.sid, s.roster, with(s.shares, any_id, env, dup)); });
      break;
    case kMasked:
      attempt([&] {
        ServerSession c(p, s.sid, Round::r2, s.roster, s.u2);
        Incoming fuzzed{kOrigin, env};
        if (bit7) attempt([&] { c.accept(fuzzed); });
        for (const auto& m : s.masked)
          if (dup || m.env.sender != u2_id) attempt([&] { c.accept(m); });
        if (!bit7) attempt([&] { c.accept(fuzzed); });
        (void)c.close(1);
        Modulus ring = p.ring();
        for (uint64_t v : c.masked_sum())
          if (v >= ring.R) throw std::logic_error("round 2's running sum has an element outside [0, R)");
      });
      break;
    case kUnmask:
      attempt([&] {
        Recovered rec = recover_secrets(p, s.sid, s.roster, s.u2, s.u3, with(s.unmasks, u3_id, env, dup));
        std::vector<uint64_t> sum = s.masked_sum;
        remove_masks(p, s.sid, s.roster, s.u3, rec, sum.data(), 0, p.length, 1);
      });
      break;
    case kClientShare:
      attempt([&] {
        ClientState st = s.st0[any_id - 1];
        (void)client_share(st, env, kOrigin, threads);
      });
      break;
    case kClientMask:
      attempt([&] {
        ClientState st = s.st1[u2_id - 1];
        (void)client_mask(st, env, kOrigin, s.x[u2_id - 1], threads);
      });
      break;
    case kClientUnmask:
      attempt([&] {
        ClientState st = s.st2[u3_id - 1];
        (void)client_unmask(st, env, kOrigin);
      });
      break;
    case kStateShare:
    case kStateMask:
    case kStateUnmask:
      attempt([&] {
        if (env.type != MsgType::client_state) return;  // as tools::read_state refuses it
        ClientState st = decode_body<ClientState>(env, kOrigin);
        if (op == kStateShare) {
          const uint32_t to = st.id >= 1 && st.id <= n ? st.id : any_id;
          (void)client_share(st, s.round0_answer(to), "roster.msg", threads);
        } else if (op == kStateMask) {
          uint32_t to = st.id >= 1 && st.id <= n && !s.inbox_msg[st.id - 1].empty() ? st.id : u2_id;
          // The input the state's parameters ask for, capped (a forged length is the state's
          // problem to refuse, not this harness's to allocate).
          std::vector<uint64_t> x(std::min<uint64_t>(st.params.length, 1u << 16), 0);
          (void)client_mask(st, s.inbox_env[to - 1], "inbox.msg", x, threads);
        } else {
          (void)client_unmask(st, s.survivors_env, "survivors.msg");
        }
      });
      break;
    default: break;
  }
  return 0;
}

#include "sim.hpp"

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <mutex>
#include <optional>

#include <fmt/format.h>
#include <sodium.h>

#include "client.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "graph.hpp"
#include "identity.hpp"
#include "mask.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server_session.hpp"
#include "splitmix.hpp"
#include "session_dir.hpp"

namespace secagg {
namespace {

// A dropout round as the config gives it (a number): Error(Exit::usage) unless 0, 1, 2 or 4, or
// 3 in an active session (the only kind that has a round 3).
Round dropout_round(int r, bool active) {
  if (!is_round_number(r) || (r == round_number(Round::r3) && !active))
    throw Error(Exit::usage, fmt::format("dropout round {} is not one of 0, 1, 2, {}4", r, active ? "3, " : ""));
  return static_cast<Round>(r);
}

// The per-round arrays have a slot for every round of an active session, round 3 included; an
// honest-but-curious session never runs (nor reports) slot 3.
constexpr size_t kSlots = kActiveRounds.size();
constexpr size_t slot(Round r) {
  for (size_t i = 0; i < kSlots; ++i)
    if (kActiveRounds[i] == r) return i;
  return kSlots;
}

double clock_ms(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}
double thread_cpu_ms() { return clock_ms(CLOCK_THREAD_CPUTIME_ID); }
double process_cpu_ms() { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }
double wall_ms() { return clock_ms(CLOCK_MONOTONIC); }

void release(Bytes& b) { Bytes().swap(b); }

// Lower median and maximum of the values of `ids` (indexed by id - 1).
template <class T>
std::pair<T, T> median_max(const std::vector<T>& v, const std::vector<uint32_t>& ids) {
  if (ids.empty()) return {T{}, T{}};
  std::vector<T> x;
  x.reserve(ids.size());
  for (uint32_t id : ids) x.push_back(v[id - 1]);
  auto mid = x.begin() + static_cast<long>((x.size() - 1) / 2);
  std::nth_element(x.begin(), mid, x.end());
  T med = *mid;
  return {med, *std::max_element(x.begin(), x.end())};
}

// The measurements of one round, per client (index id - 1).
struct RoundData {
  Round round = Round::r0;  // none: the totals over the rounds
  bool ran = false;
  std::vector<uint32_t> delivered;  // clients whose message reached the server, sorted
  std::vector<double> cpu;
  std::vector<uint64_t> sent, received;
  std::vector<uint64_t> state;      // bytes of the client's state file after its step
  std::vector<uint64_t> keystream;  // bytes of keystream the client's step expands
  uint32_t refused = 0;
  double server_cpu = 0, server_wall = 0, wall = 0;
  uint64_t server_keystream = 0, agreements = 0;
  double recover_cpu = 0, recover_wall = 0, unmask_cpu = 0, unmask_wall = 0;
  void init(Round r, uint32_t n) {
    round = r;
    ran = true;
    cpu.assign(n, 0);
    sent.assign(n, 0);
    received.assign(n, 0);
    state.assign(n, 0);
    keystream.assign(n, 0);
  }
};

// Milliseconds the session PRG takes to make `bytes` of keystream on one core at `gbps`.
double limit_ms(uint64_t bytes, double gbps) { return gbps > 0 ? static_cast<double>(bytes) / (gbps * 1e6) : 0; }

SimRound summarize(const RoundData& d, uint64_t raw, double gbps) {
  SimRound s;
  s.round = d.round == Round::none ? -1 : round_number(d.round);
  s.clients = static_cast<uint32_t>(d.delivered.size());
  s.refused = d.refused;
  std::tie(s.client_cpu_median_ms, s.client_cpu_max_ms) = median_max(d.cpu, d.delivered);
  std::tie(s.sent_median, s.sent_max) = median_max(d.sent, d.delivered);
  std::tie(s.received_median, s.received_max) = median_max(d.received, d.delivered);
  std::tie(s.state_median, s.state_max) = median_max(d.state, d.delivered);
  s.server_cpu_ms = d.server_cpu;
  s.server_wall_ms = d.server_wall;
  s.wall_ms = d.wall;
  s.expansion = raw ? static_cast<double>(s.sent_median) / static_cast<double>(raw) : 0;

  s.client_keystream_median = median_max(d.keystream, d.delivered).first;
  s.client_limit_ms = limit_ms(s.client_keystream_median, gbps);
  std::vector<double> ratio(d.cpu.size(), 0);
  for (uint32_t id : d.delivered) {
    const double lim = limit_ms(d.keystream[id - 1], gbps);
    if (lim > 0) ratio[id - 1] = d.cpu[id - 1] / lim;
  }
  s.client_limit_ratio = median_max(ratio, d.delivered).first;
  s.server_keystream = d.server_keystream;
  s.server_limit_ms = limit_ms(d.server_keystream, gbps);
  s.recover_cpu_ms = d.recover_cpu;
  s.recover_wall_ms = d.recover_wall;
  s.unmask_cpu_ms = d.unmask_cpu;
  s.unmask_wall_ms = d.unmask_wall;
  s.unmask_agreements = d.agreements;
  s.unmask_limit_ratio = s.server_limit_ms > 0 ? d.unmask_wall / s.server_limit_ms : 0;
  return s;
}

// Progress over six phases (the client work of rounds 0 to 4 by slot, then the server's mask
// removal), weighted by a rough estimate of their cost.
class Progress {
 public:
  static constexpr int kUnmask = kSlots;
  Progress(std::function<void(double, std::string_view)> cb, std::array<double, kSlots + 1> w)
      : cb_(std::move(cb)), w_(w) {
    for (double x : w_) total_ += x;
    if (!(total_ > 0)) total_ = 1;
  }
  void at(int phase, double within, std::string_view stage) {
    if (!cb_) return;
    std::lock_guard g(m_);
    double f = 0;
    for (int i = 0; i < phase; ++i) f += w_[static_cast<size_t>(i)];
    f += w_[static_cast<size_t>(phase)] * std::clamp(within, 0.0, 1.0);
    f = std::clamp(f / total_, 0.0, 1.0);
    last_ = std::max(last_, f);
    cb_(last_, stage);
  }
  void done() {
    if (!cb_) return;
    std::lock_guard g(m_);
    last_ = 1;
    cb_(1.0, "done");
  }

 private:
  std::function<void(double, std::string_view)> cb_;
  std::array<double, kSlots + 1> w_;
  double total_ = 0;
  double last_ = 0;
  std::mutex m_;
};

constexpr std::string_view kStage[] = {"round 0 (advertise-keys)", "round 1 (share-keys)",
                                       "round 2 (masked-input)",   "round 3 (consistency-check)",
                                       "round 4 (unmask-shares)",  "round 4: removing masks"};

}  // namespace

double measure_keystream_gbps(PrgKind kind, uint64_t bytes) {
  if (bytes == 0) return 0;
  constexpr size_t kChunk = size_t{64} << 10;
  std::vector<uint8_t> buf(kChunk);
  Secret32 seed;
  random_bytes(seed.data(), seed.size());
  Keystream ks(kind, seed.data());
  uint64_t offset = 0;  // one continuing stream, as a mask is expanded
  auto run = [&](uint64_t n) {
    for (uint64_t done = 0; done < n; done += kChunk) {
      ks.generate(offset, buf.data(), kChunk);
      offset += kChunk;
    }
  };
  run(std::min<uint64_t>(bytes / 16, uint64_t{8} << 20));  // warm-up: caches, the frequency
  const uint64_t part = std::max<uint64_t>((bytes / 3 + kChunk - 1) / kChunk, 1) * kChunk;
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const double c0 = thread_cpu_ms();
    run(part);
    const double t = thread_cpu_ms() - c0;
    if (i == 0 || t < best) best = t;
  }
  sodium_memzero(buf.data(), buf.size());
  return static_cast<double>(part) / (std::max(best, 1e-6) * 1e6);
}

std::vector<Round> plan_dropouts(const SimConfig& cfg) {
  const uint32_t n = cfg.params.clients;
  const bool active = cfg.params.active();
  std::vector<Round> vanish(n, Round::none);
  for (const auto& d : cfg.drops) {
    const Round r = dropout_round(d.round, active);
    for (uint32_t id : d.ids) {
      if (id < 1 || id > n)
        throw Error(Exit::usage, fmt::format("client {} (to drop at round {}) is outside [1, {}]", id, r, n));
      Round& v = vanish[id - 1];
      if (v != Round::none && v != r)
        throw Error(Exit::usage, fmt::format("client {} is listed to drop at round {} and at round {}", id,
                                             std::min(v, r), std::max(v, r)));
      v = r;
    }
  }
  if (!(cfg.dropout_fraction >= 0 && cfg.dropout_fraction <= 1))
    throw Error(Exit::usage, fmt::format("dropout fraction {} is outside [0, 1]", cfg.dropout_fraction));
  const Round random_round = dropout_round(cfg.dropout_round, active);
  if (cfg.dropout_fraction > 0) {
    std::vector<uint32_t> candidates;
    for (uint32_t id = 1; id <= n; ++id)
      if (vanish[id - 1] > random_round) candidates.push_back(id);
    const auto want = std::min<uint64_t>(static_cast<uint64_t>(std::llround(cfg.dropout_fraction * n)),
                                         candidates.size());
    SplitMix g{mix64(cfg.seed ^ 0x64726f706f757473ULL)};
    for (uint64_t i = 0; i < want; ++i) {
      uint64_t j = i + g.below(candidates.size() - i);
      std::swap(candidates[i], candidates[j]);
      vanish[candidates[i] - 1] = random_round;
    }
  }
  return vanish;
}

std::vector<uint64_t> sim_input(uint64_t seed, uint32_t id, const Params& p) {
  SplitMix g{mix64(seed * 0x9e3779b97f4a7c15ULL + mix64(0x696e707574ULL + id))};
  std::vector<uint64_t> x(p.length);
  if (p.quantized()) {
    // A quantized input as secagg-quantize encode makes it, of weight 1: element 0 the weight,
    // the others levels in [0, 2^bits - 1], so that the sum decodes (a simulated shard).
    x[0] = 1;
    for (size_t i = 1; i < x.size(); ++i) x[i] = g.below(uint64_t{1} << p.quant_bits);
    return x;
  }
  for (auto& e : x) e = g.below(p.modulus);
  return x;
}

Params with_sim_defaults(Params p) {
  if (p.neighbours == 0 && p.clients > 0) p.neighbours = p.clients - 1;
  if (p.threshold == 0)
    p.threshold = p.active() ? min_active_threshold(p.clients, p.neighbours, p.corrupt) : min_secure_threshold(p.neighbours + 1);
  return p;
}

SimReport run_simulation(const SimConfig& cfg) {
  Params p = with_sim_defaults(cfg.params);
  // An active session's CA is the simulation's own: it certifies every client below.
  Identity ca;
  if (p.active()) {
    ca = make_identity();
    p.ca_pk = ca.pk;
  }
  validate_params(p);
  const bool active = p.active();
  const std::vector<Round> vanish = plan_dropouts(cfg);
  // The limit every ratio is against: measured here, with nothing else of the run going on.
  const double gbps = measure_keystream_gbps(p.prg_kind(), cfg.keystream_probe_bytes);
  const uint32_t n = p.clients;
  const unsigned threads = std::max(1u, cfg.threads);
  // Enrollment, untimed and outside the session's wall time: each client's long-term identity and
  // the CA's certificate of it exist long before any session (secagg-keygen identity, certify).
  std::vector<Identity> identity(active ? n : 0);
  std::vector<Certificate> cert(active ? n : 0);
  parallel_for(identity.size(), threads, [&](size_t i) {
    identity[i] = make_identity();
    cert[i] = certify(ca, static_cast<uint32_t>(i + 1), identity[i].pk, 0);
  });
  const uint64_t now = unix_now();
  const double start = wall_ms();
  const Modulus ring = p.ring();
  const uint64_t L = p.length;

  SimReport rep;
  rep.params = p;
  rep.seed = cfg.seed;
  rep.threads = threads;
  rep.raw_input_bytes = packed_size(L, ring.bits());
  rep.keystream_gbps = gbps;
  const uint64_t word = mask_word_bytes(ring);
  rep.mask_word_bytes = static_cast<size_t>(word);

  // Progress weights: rough microseconds of work per phase, from the planned set sizes.
  auto planned = [&](Round r) {
    double c = 0;
    for (Round v : vanish) c += v > r;
    return c;
  };
  const double hold = std::min<double>(p.neighbours + 1.0, n);
  const double T = threads, Ld = static_cast<double>(L);
  const double dropped_before_2 = planned(Round::r1) - planned(Round::r2);
  // Measured on the development machine: ~40 us per X25519 agreement (with the share
  // encryption of round 1), ~0.7 ns per mask element added, ~3 ns per input element made; and in
  // active sessions ~30 us on the same scale per Ed25519 check (a certificate and an advert per
  // roster entry in round 1, a signature of U4 in round 4: with them, round 1's client CPU was
  // 2.5 times an honest-but-curious one's at n = 1000 on a 2-core machine).
  const double ed = active ? 30 : 0;
  Progress progress(cfg.progress,
                    {planned(Round::r0) * (60 + 2 * ed) / T, planned(Round::r1) * hold * (40 + 2 * ed) / T,
                     planned(Round::r2) * (hold * (40 + Ld * 0.0007) + Ld * 0.003) / T, planned(Round::r3) * ed / T,
                     planned(Round::r4) * hold * (1 + ed) / T,
                     dropped_before_2 * hold * 40 + (planned(Round::r2) + dropped_before_2 * hold) * Ld * 0.0007 / T});

  std::array<RoundData, kSlots> rd;  // by slot
  std::mutex refusal_mutex;

  // One client's step, on a worker thread: its CPU time and message size are recorded; a refusal
  // (Exit::aborted) leaves the client out of the round; any other failure is a bug.
  auto client_step = [&](RoundData& d, uint32_t id, const std::function<Bytes()>& f) -> Bytes {
    const double c0 = thread_cpu_ms();
    try {
      Bytes m = f();
      d.cpu[id - 1] = thread_cpu_ms() - c0;
      d.sent[id - 1] = m.size();
      return m;
    } catch (const Error& e) {
      if (e.code() != Exit::aborted)
        throw Error(Exit::software, fmt::format("client {} failed in round {} (a bug in secagg): {}", id, d.round,
                                                e.what()));
      std::lock_guard g(refusal_mutex);
      ++d.refused;
      if (rep.first_refusal.empty()) rep.first_refusal = fmt::format("client {}: {}", id, e.what());
      return {};
    }
  };
  // The server's step, with no client work running: process CPU and wall time. Returns false
  // (and records the abort) if the server aborted the session.
  auto server_step = [&](RoundData& d, const std::function<void()>& f) -> bool {
    const double c0 = process_cpu_ms(), w0 = wall_ms();
    bool ok = true;
    try {
      f();
    } catch (const Error& e) {
      if (e.code() != Exit::aborted)
        throw Error(Exit::software,
                    fmt::format("the server refused an honest client's message in round {} (a bug in secagg): {}",
                                d.round, e.what()));
      rep.outcome = SimOutcome::aborted;
      rep.abort_round = round_number(d.round);
      rep.message = e.what();
      ok = false;
    }
    d.server_cpu += process_cpu_ms() - c0;
    d.server_wall += wall_ms() - w0;
    return ok;
  };
  // Open the delivered messages in parallel (server side), freeing the bytes.
  // Threads only for a few MiB or more: starting one can cost milliseconds.
  auto threads_for = [&](uint64_t bytes) { return bytes >= (uint64_t{4} << 20) ? threads : 1u; };
  auto open_all = [&](std::vector<Bytes>& msgs, const std::vector<uint32_t>& ids, const char* name) {
    std::vector<Incoming> in(msgs.size());
    uint64_t bytes = 0;
    for (const auto& m : msgs) bytes += m.size();
    parallel_for(msgs.size(), threads_for(bytes), [&](size_t i) {
      if (msgs[i].empty()) return;
      in[i].origin = fmt::format("{}-{}.msg", name, ids[i]);
      in[i].env = open_envelope(std::move(msgs[i]), in[i].origin);
      release(msgs[i]);
    });
    std::vector<Incoming> out;
    out.reserve(in.size());
    for (auto& m : in)
      if (!m.origin.empty()) out.push_back(std::move(m));
    return out;
  };
  auto delivered_of = [](const std::vector<Bytes>& msgs, const std::vector<uint32_t>& ids) {
    std::vector<uint32_t> d;
    for (size_t i = 0; i < ids.size(); ++i)
      if (!msgs[i].empty()) d.push_back(ids[i]);
    return d;
  };
  auto participants = [&](const std::vector<uint32_t>& set, Round r) {
    std::vector<uint32_t> ids;
    for (uint32_t id : set)
      if (vanish[id - 1] > r) ids.push_back(id);
    return ids;
  };
  // A round's client side: every client of `ids` runs `step(id)` (its message, timed as its
  // own), on all threads; the messages by position in ids, and d.delivered set.
  auto run_clients = [&](RoundData& d, const std::vector<uint32_t>& ids, auto&& step) {
    const size_t stage = slot(d.round);  // the round's progress phase
    std::vector<Bytes> msgs(ids.size());
    std::atomic<size_t> done{0};
    progress.at(stage, 0, kStage[stage]);
    parallel_for(ids.size(), threads, [&](size_t i) {
      const uint32_t id = ids[i];
      msgs[i] = client_step(d, id, [&] { return step(id); });
      progress.at(stage, static_cast<double>(++done) / static_cast<double>(ids.size()), kStage[stage]);
    });
    d.delivered = delivered_of(msgs, ids);
    return msgs;
  };

  auto finish = [&]() -> SimReport {
    for (auto& d : rd)
      if (d.ran) rep.rounds.push_back(summarize(d, rep.raw_input_bytes, gbps));
    // Totals over the clients of the last round that ran: they took part in every earlier one.
    const RoundData* last = nullptr;
    for (auto& d : rd)
      if (d.ran) last = &d;
    RoundData tot;
    tot.init(Round::none, n);
    if (last) {
      tot.delivered = last->delivered;
      for (auto& d : rd) {
        if (!d.ran) continue;
        for (uint32_t id : tot.delivered) {
          tot.cpu[id - 1] += d.cpu[id - 1];
          tot.sent[id - 1] += d.sent[id - 1];
          tot.received[id - 1] += d.received[id - 1];
          tot.keystream[id - 1] += d.keystream[id - 1];
        }
        tot.server_cpu += d.server_cpu;
        tot.server_wall += d.server_wall;
        tot.wall += d.wall;
        tot.server_keystream += d.server_keystream;
        tot.agreements += d.agreements;
        tot.recover_cpu += d.recover_cpu;
        tot.recover_wall += d.recover_wall;
        tot.unmask_cpu += d.unmask_cpu;
        tot.unmask_wall += d.unmask_wall;
      }
    }
    rep.total = summarize(tot, rep.raw_input_bytes, gbps);
    rep.wall_ms = wall_ms() - start;
    progress.done();
    return rep;
  };

  // Setup: the clients read the parameters from the params message, as secagg-keygen does.
  const SessionId sid = cfg.session ? *cfg.session : new_session_id();
  rep.session = sid;
  const Bytes params_msg = encode(MsgType::params, sid, kServerId, kServerId, p);
  const Envelope params_env = open_envelope(params_msg, SessionDir::name(Marker::params));
  const Params cp = decode_body<Params>(params_env, SessionDir::name(Marker::params));
  std::vector<ClientState> st(n);
  ServerSession server(p, sid);
  // The size of each delivering client's state file after the round (not timed). In round 2 the
  // simulated state has let go of its copy of the masked input (below): a real one holds it, in a
  // byte field whose size tag is there either way.
  const auto record_states = [&](RoundData& d) {
    for (uint32_t id : d.delivered)
      d.state[id - 1] = encode(MsgType::client_state, sid, id, id, st[id - 1]).size() +
                        (d.round == Round::r2 ? d.sent[id - 1] : 0);
  };

  // Rounds 0, 1, 3 and 4: the clients of `set` still present each answer the server's last message
  // (client(id), timed as theirs, on all threads), then the server accepts what arrived and closes
  // the round; on_close gets what it produced. Returns false if the server aborted the session.
  constexpr const char* kOrigin[] = {"adv", "shares", "masked", "signature", "unmask"};
  auto answer_round = [&](Round r, const std::vector<uint32_t>& set, auto&& client, auto&& on_close,
                          const std::function<void(ServerSession::Step)>& on_step = {}) {
    RoundData& d = rd[slot(r)];
    d.init(r, n);
    const double w0 = wall_ms();
    const auto ids = participants(set, r);
    auto msgs = run_clients(d, ids, client);
    // Round 4's mask removal reports within its phase (only when someone listens: it is timed).
    ProgressFn removing;
    if (r == Round::r4 && cfg.progress)
      removing = [&progress](uint64_t done, uint64_t total) {
        progress.at(Progress::kUnmask, total ? static_cast<double>(done) / static_cast<double>(total) : 1.0,
                    kStage[Progress::kUnmask]);
      };
    bool ok = server_step(d, [&] {
      server.accept_all(open_all(msgs, ids, kOrigin[slot(r)]), threads);
      RoundResult res = server.close(threads, on_step, removing);
      if (cfg.on_marker) cfg.on_marker(r, res.marker);
      if (r != Round::r4)  // round 4's answer, the aggregate, is the server's
        for (uint32_t id : d.delivered) d.received[id - 1] = res.answer_size(id);
      record_states(d);
      on_close(res);
    });
    d.wall = wall_ms() - w0;
    return ok;
  };

  // The answer client id reads, opened and named by the session directory's file for it: in
  // SecAgg+ its own (per: the round's RoundResult::personal), made when it is read, else the
  // round's message to all.
  const auto open_own = [](const Bytes& whole, const std::function<Bytes(uint32_t)>& per, uint32_t id,
                           const std::string& origin) {
    return per ? open_envelope(per(id), origin) : open_envelope(whole, origin);
  };

  // Round 0: keys.
  Bytes roster_msg;
  std::function<Bytes(uint32_t)> window;  // SecAgg+: each client's own roster message, made when it is read
  {
    std::vector<uint32_t> all(n);
    for (uint32_t i = 0; i < n; ++i) all[i] = i + 1;
    const bool ok = answer_round(
        Round::r0, all,
        [&](uint32_t id) {
          if (!active) {
            st[id - 1] = client_keygen(cp, params_env.session, id);
          } else {
            // The client checks its own certificate against the session's CA and signs its keys
            // with its identity (attest): part of its timed step.
            const IdentityProof proof{identity[id - 1], cert[id - 1], fmt::format("client-{}.cert", id), now};
            st[id - 1] = client_keygen(cp, params_env.session, id, &proof);
          }
          return client_advertise(st[id - 1]);
        },
        [&](RoundResult& r) {
          roster_msg = std::move(r.marker);
          window = std::move(r.personal);
        });
    if (!ok) return finish();
    rep.u1 = static_cast<uint32_t>(server.roster().clients.size());
  }
  const std::vector<uint32_t> u1 = server.roster().ids();
  // The neighbour graph, for the keystream each step must expand (not timed: every party derives
  // it inside the library calls that are).
  const NeighbourGraph& graph = server.graph();

  // Round 1: shares.
  std::vector<uint32_t> u2;
  std::vector<Bytes> inbox_msg(n);
  {
    const bool ok = answer_round(
        Round::r1, u1,
        [&](uint32_t id) {
          const std::string origin =
              window ? SessionDir::personal_name(Round::r0, id) : SessionDir::name(Marker::roster);
          return client_share(st[id - 1], open_own(roster_msg, window, id, origin), origin);
        },
        [&](RoundResult& r) {
          u2 = std::move(r.in);
          for (auto& [v, inbox] : r.inboxes) inbox_msg[v - 1] = std::move(inbox);
        });
    if (!ok) return finish();
    rep.u2 = static_cast<uint32_t>(u2.size());
  }

  // Round 2: masked inputs, made in batches and summed by the server as they arrive.
  std::vector<uint32_t> u3;
  Bytes survivors_msg;
  std::function<Bytes(uint32_t)> survivors_for;
  std::vector<uint64_t> sum;
  std::vector<uint64_t> expected(L, 0);  // the plaintext sum of the inputs that reached the server
  {
    RoundData& d = rd[slot(Round::r2)];
    d.init(Round::r2, n);
    const double w0 = wall_ms();
    const auto ids = participants(u2, Round::r2);
    // Each client adds its self mask and one pairwise mask per neighbour in U2.
    for (uint32_t id : ids) {
      uint64_t masks = 1;
      for (uint32_t v : graph.closed(id)) masks += v != id && contains(u2, v);
      d.keystream[id - 1] = masks * L * word;
    }
    // Per client in flight: its input, the client's masked copy, the packed message, the
    // server's unpacked copy. Keep a batch within ~256 MiB, but at least two per thread, and a
    // multiple of the threads so that none idles at the end of a batch.
    const uint64_t per_client = 3 * 8 * L + packed_size(L, ring.bits()) + 1;
    uint64_t fit = std::max<uint64_t>(2 * threads, (uint64_t{256} << 20) / per_client);
    fit -= fit % threads;
    const size_t batch = static_cast<size_t>(std::max<uint64_t>(1, std::min<uint64_t>(ids.size(), fit)));
    size_t done = 0;
    progress.at(slot(Round::r2), 0, kStage[slot(Round::r2)]);
    for (size_t b0 = 0; b0 < ids.size(); b0 += batch) {
      const size_t cnt = std::min(batch, ids.size() - b0);
      const std::vector<uint32_t> bids(ids.begin() + static_cast<long>(b0), ids.begin() + static_cast<long>(b0 + cnt));
      std::vector<Bytes> msgs(cnt);
      std::vector<std::vector<uint64_t>> xs(cnt);
      std::atomic<size_t> batch_done{0};
      parallel_for(cnt, threads, [&](size_t i) {
        const uint32_t id = bids[i];
        xs[i] = cfg.input ? cfg.input(id, sid) : sim_input(cfg.seed, id, p);  // the input file: not timed
        const std::string origin = SessionDir::inbox_name(id);
        msgs[i] = client_step(d, id, [&] {
          Envelope env = open_envelope(inbox_msg[id - 1], origin);
          Bytes m = client_mask(st[id - 1], env, origin, xs[i], 1);
          // The state's copy of the message is for a client that runs its step again; a simulated
          // client never does, and n copies of a vector would dominate the simulator's memory.
          release(st[id - 1].sent);
          return m;
        });
        release(inbox_msg[id - 1]);
        progress.at(slot(Round::r2), static_cast<double>(done + ++batch_done) / static_cast<double>(ids.size()),
                    kStage[slot(Round::r2)]);
      });
      done += cnt;
      const auto delivered = delivered_of(msgs, bids);
      d.delivered.insert(d.delivered.end(), delivered.begin(), delivered.end());
      server_step(d, [&] {
        auto in = open_all(msgs, bids, "masked");
        server.accept_all(in, threads);
        for (auto& m : in) release(m.env.body);
      });
      for (size_t i = 0; i < cnt; ++i) {
        if (!std::binary_search(delivered.begin(), delivered.end(), bids[i])) continue;
        for (uint64_t e = 0; e < L; ++e) expected[e] = ring.add(expected[e], xs[i][e]);
      }
    }
    for (auto& b : inbox_msg) release(b);
    bool ok = server_step(d, [&] {
      RoundResult r = server.close(threads);
      if (cfg.on_marker) cfg.on_marker(Round::r2, r.marker);
      u3 = std::move(r.in);
      survivors_msg = std::move(r.marker);
      survivors_for = std::move(r.personal);
    });
    d.wall = wall_ms() - w0;
    if (!ok) return finish();
    rep.u3 = static_cast<uint32_t>(u3.size());
    for (uint32_t id : d.delivered)
      d.received[id - 1] = survivors_for ? survivors_for(id).size() : survivors_msg.size();
    record_states(d);
  }

  // Round 3, active sessions only: the clients of U3 still present sign U3; the server gathers
  // the signatures of U4 into the consistency message, each signer's answer.
  std::vector<uint32_t> u4;  // who round 4 waits for: U4 in an active session, U3 otherwise
  Bytes consistency_msg;
  std::function<Bytes(uint32_t)> consistency_for;
  if (active) {
    const bool ok = answer_round(
        Round::r3, u3,
        [&](uint32_t id) {
          const std::string origin = SessionDir::name(Marker::survivors);
          return client_sign(st[id - 1], open_own(survivors_msg, survivors_for, id, origin), origin);
        },
        [&](RoundResult& r) {
          u4 = std::move(r.in);
          consistency_msg = std::move(r.marker);
          consistency_for = std::move(r.personal);
        });
    if (!ok) return finish();
    rep.u4 = static_cast<uint32_t>(u4.size());
  } else {
    u4 = u3;
  }

  // Round 4: unmasking.
  {
    RoundData& d = rd[slot(Round::r4)];
    // The server removes |U3| self masks and, for each dropped client of U2 \ U3, one pairwise
    // mask per surviving neighbour (each needing an X25519 agreement).
    std::vector<uint32_t> dropped;
    std::set_difference(u2.begin(), u2.end(), u3.begin(), u3.end(), std::back_inserter(dropped));
    for (uint32_t x : dropped)
      for (uint32_t v : graph.closed(x)) d.agreements += v != x && contains(u3, v);
    d.server_keystream = (u3.size() + d.agreements) * L * word;
    // Round 4's server step in two timed parts: the Shamir reconstruction, then mask removal.
    double step_cpu = 0, step_wall = 0;
    auto on_step = [&](ServerSession::Step step) {
      switch (step) {
        case ServerSession::Step::reconstruct: break;
        case ServerSession::Step::remove_masks:
          d.recover_cpu = process_cpu_ms() - step_cpu;
          d.recover_wall = wall_ms() - step_wall;
          progress.at(Progress::kUnmask, 0, kStage[Progress::kUnmask]);
          break;
        case ServerSession::Step::done:
          d.unmask_cpu = process_cpu_ms() - step_cpu;
          d.unmask_wall = wall_ms() - step_wall;
          return;
      }
      step_cpu = process_cpu_ms();
      step_wall = wall_ms();
    };
    // A client of an active session reveals its shares only against the consistency message,
    // whose signatures it checks: opening it is part of its timed step.
    const auto unmask = [&](uint32_t id) {
      const std::string origin = SessionDir::name(Marker::survivors);
      const Envelope survivors = open_own(survivors_msg, survivors_for, id, origin);
      if (!active) return client_unmask(st[id - 1], survivors, origin);
      const std::string c_origin = SessionDir::name(Marker::consistency);
      const Envelope consistency = open_own(consistency_msg, consistency_for, id, c_origin);
      return client_unmask(st[id - 1], survivors, origin, &consistency, c_origin);
    };
    const bool ok = answer_round(
        Round::r4, u4, unmask,
        [&](RoundResult& r) {
          (active ? rep.u5 : rep.u4) = static_cast<uint32_t>(r.in.size());
          sum = std::move(r.aggregate);
        },
        on_step);
    std::vector<ClientState>().swap(st);
    if (!ok) return finish();
  }

  // The check.
  uint64_t wrong = 0, first = 0;
  for (uint64_t i = 0; i < L; ++i)
    if (sum[i] != expected[i] && wrong++ == 0) first = i;
  if (wrong) {
    rep.outcome = SimOutcome::mismatched;
    rep.message = fmt::format("the aggregate does not match the plaintext sum of U3: {} of {} elements differ, the "
                              "first is element {} ({}, expected {})",
                              wrong, L, first, sum[first], expected[first]);
  } else {
    rep.aggregate = std::move(sum);
  }
  return finish();
}

}  // namespace secagg

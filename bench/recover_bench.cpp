// make bench: what recover_secrets spends its time on.
//
// secagg-sim times recover_secrets (round 4: rebuild every self-mask seed of U3 and every
// dropped client's mask key from the responders' shares) as one call. This program runs a
// session through the library up to the round-4 responses (vectors of 16 elements: the
// masking is not what is measured), times recover_secrets itself (median of --reps calls, wall
// and all threads' CPU), and then times, on one thread, the parts that call is made of,
// replicating lib/protocol/server.cpp's steps:
//   verify   the Ed25519 signature of every response against the roster
//   decode   decode_body<UnmaskShares> of every response (cereal)
//   checks   for each responder, which owners it must answer for (graph.closed, set lookups)
//   deal     the first t shares of each secret, one merge pass over each response
//   shamir   shamir::reconstruct of every secret with a LagrangeCache: the arithmetic alone
//   keys     the X25519 public key of each recovered mask key (checked against the roster)
// The parts are replicas of the library's loops, not its code: their sum need not equal
// recover_secrets' CPU time exactly.
//
// Usage: recover_bench [--clients N] [--neighbours K] [--dropout F] [--reps R] [--threads T]
// Default: full SecAgg (K = N - 1), N = 500, no dropouts: the protocol paper's case.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "client.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "graph.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server_session.hpp"
#include "shamir.hpp"
#include "signature.hpp"

using namespace secagg;

namespace {

double clock_ms_monotonic() { return bench::clock_ms(CLOCK_MONOTONIC); }
double clock_ms_process() { return bench::clock_ms(CLOCK_PROCESS_CPUTIME_ID); }
double clock_ms_thread() { return bench::clock_ms(CLOCK_THREAD_CPUTIME_ID); }

template <class Clock, class F>
double median_ms(int reps, Clock&& clock, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double c0 = clock();
    f();
    t.push_back(clock() - c0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Options {
  uint32_t clients = 500;
  uint32_t neighbours = 0;  // 0: n - 1
  double dropout = 0;
  int reps = 5;
  unsigned threads = 0;
};

int run(const Options& o) {
  Params p;
  p.clients = o.clients;
  p.neighbours = o.neighbours ? o.neighbours : o.clients - 1;
  p.threshold = min_secure_threshold(p.neighbours + 1);
  p.modulus = uint64_t{1} << 24;
  p.length = 16;
  validate_params(p);
  const unsigned threads = o.threads ? o.threads : default_threads();
  const uint32_t n = p.clients;
  const uint32_t dropped_n = static_cast<uint32_t>(std::llround(o.dropout * n));
  const SessionId sid = new_session_id();

  // Rounds 0-2 (clients 1..dropped_n never send a masked input), then the responses of round 4.
  std::vector<ClientState> st(n);
  std::vector<Incoming> adverts(n), shares(n);
  parallel_for(n, threads, [&](size_t i) {
    st[i] = client_keygen(p, sid, static_cast<uint32_t>(i + 1));
    adverts[i] = {"adv", open_envelope(client_advertise(st[i]), "adv")};
  });
  const Roster roster = collect_keys(p, sid, adverts);
  const Bytes roster_msg = encode(MsgType::roster, sid, kServerId, kServerId, roster);
  parallel_for(n, threads, [&](size_t i) {
    shares[i] = {"shares", open_envelope(client_share(st[i], open_envelope(roster_msg, "roster"), "roster"), "shares")};
  });
  const ShareRound r1 = collect_shares(p, sid, roster, shares);
  ServerSession coll(p, sid, Round::r2, roster, r1.u2);
  const std::vector<uint64_t> x(p.length, 1);
  for (uint32_t i = dropped_n; i < n; ++i) {
    const Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, i + 1, r1.inboxes.at(i + 1)), "inbox");
    coll.accept({"masked", open_envelope(client_mask(st[i], inbox, "inbox", x, 1), "masked")});
  }
  const std::vector<uint32_t> u3 = coll.close(threads).in;
  const Bytes survivors = encode(MsgType::survivors, sid, kServerId, kServerId, IdList{u3});
  std::vector<Incoming> responses(n - dropped_n);
  parallel_for(responses.size(), threads, [&](size_t j) {
    ClientState& c = st[dropped_n + j];
    responses[j] = {"unmask", open_envelope(client_unmask(c, open_envelope(survivors, "survivors"), "survivors"), "unmask")};
  });

  // recover_secrets itself: wall time, and CPU time of all threads (it checks the responses and
  // rebuilds the secrets on every thread).
  size_t secrets = 0;
  const double t_wall = median_ms(o.reps, clock_ms_monotonic, [&] {
    Recovered rec = recover_secrets(p, sid, roster, r1.u2, u3, responses);
    secrets = rec.self_seeds.size() + rec.mask_keys.size();
  });
  const double t_cpu = median_ms(o.reps, clock_ms_process, [&] { recover_secrets(p, sid, roster, r1.u2, u3, responses); });
  // Its two library steps: checking the responses, then the reconstruction proper.
  auto round4 = [&] { return ServerSession(p, sid, Round::r4, roster, r1.u2, u3); };
  std::optional<ServerSession> checked;
  const double t_check = median_ms(o.reps, clock_ms_monotonic, [&] {
    checked.emplace(round4());
    checked->accept_all(responses, default_threads());
  });
  const double t_rebuild = median_ms(o.reps, clock_ms_monotonic, [&] {
    Recovered rec = checked->recover();
    asm volatile("" : : "r"(rec.self_seeds.data()) : "memory");
  });

  // Its parts, each on one thread, as the library does them.
  const double t_verify = median_ms(o.reps, clock_ms_thread, [&] {
    size_t ok = 0;
    for (const auto& m : responses) ok += signed_by(m.env, roster.find(m.env.sender)->sig_pk);
    if (ok != responses.size()) throw Error(Exit::software, "a response failed its signature check");
  });
  std::vector<UnmaskShares> bodies(responses.size());
  const double t_decode = median_ms(o.reps, clock_ms_thread, [&] {
    for (size_t i = 0; i < responses.size(); ++i) bodies[i] = decode_body<UnmaskShares>(responses[i].env, "unmask");
  });
  const NeighbourGraph graph(p, sid, roster);
  std::vector<uint32_t> dropped;
  std::set_difference(r1.u2.begin(), r1.u2.end(), u3.begin(), u3.end(), std::back_inserter(dropped));
  const double t_checks = median_ms(o.reps, clock_ms_thread, [&] {
    size_t want = 0;
    for (const auto& m : responses)
      for (uint32_t u : graph.closed(m.env.sender)) want += contains(u3, u) || contains(r1.u2, u);
    asm volatile("" : : "r"(want) : "memory");
  });
  // The shares of each secret, dealt as the library does: one merge pass over each response (in
  // id order) into per-owner slots, keeping the first t.
  std::vector<std::vector<shamir::Share>> self_slots, key_slots;
  const double t_deal = median_ms(o.reps, clock_ms_thread, [&] {
    self_slots.assign(u3.size(), {});
    key_slots.assign(dropped.size(), {});
    auto deal = [&](const std::vector<OwnedShare>& list, const std::vector<uint32_t>& owners,
                    std::vector<std::vector<shamir::Share>>& slots) {
      size_t j = 0;
      for (const auto& e : list) {
        while (j < owners.size() && owners[j] < e.owner) ++j;
        if (j < owners.size() && slots[j].size() < p.threshold) slots[j].push_back(e.share);
      }
    };
    for (const auto& b : bodies) {
      deal(b.self_mask, u3, self_slots);
      deal(b.mask_key, dropped, key_slots);
    }
  });
  size_t sets = 0;
  const double t_shamir = median_ms(o.reps, clock_ms_thread, [&] {
    shamir::LagrangeCache cache;
    for (const auto* slots : {&self_slots, &key_slots})
      for (const auto& s : *slots) {
        Secret32 secret = shamir::reconstruct(s, &cache);
        asm volatile("" : : "r"(secret.data()) : "memory");
      }
    sets = cache.size();
  });
  const double t_keys = median_ms(o.reps, clock_ms_thread, [&] {
    for (uint32_t d : dropped) {
      Key32 pk = x25519_public(Secret32{});
      asm volatile("" : : "r"(pk.data()), "r"(d) : "memory");
    }
  });

  fmt::print("recover_secrets breakdown: n = {}, k = {}, t = {}, {} dropped before round 2, {} responders, {} secrets "
             "({} shares each), {} threads, median of {}\n",
             n, p.neighbours, p.threshold, dropped_n, responses.size(), secrets, p.threshold, threads, o.reps);
  fmt::print("  {:<62} {:>9.3f} ms wall, {:.3f} ms CPU\n", "recover_secrets (the library call)", t_wall, t_cpu);
  fmt::print("  {:<62} {:>9.3f} ms wall\n", "  = accept_all (round 4: signatures, decoding, owners)", t_check);
  fmt::print("  {:<62} {:>9.3f} ms wall\n", "  + recover (the Shamir reconstruction)", t_rebuild);
  const double parts = t_verify + t_decode + t_checks + t_deal + t_shamir + t_keys;
  auto line = [&](const std::string& what, double t) {
    fmt::print("  {:<62} {:>9.3f} ms CPU {:>5.1f}%\n", what, t, 100 * t / t_cpu);
  };
  fmt::print("  its parts, one thread each (share of the call's CPU time):\n");
  line("  Ed25519 signature of each response", t_verify);
  line("  decode the responses (decode_body<UnmaskShares>)", t_decode);
  line("  check each response's owners (graph, set lookups)", t_checks);
  line("  deal the first t shares of each secret (merge pass)", t_deal);
  line(fmt::format("  Shamir arithmetic (reconstruct, {} Lagrange set(s))", sets), t_shamir);
  line("  X25519 public key of each recovered mask key", t_keys);
  line("  sum of the parts", parts);
  fmt::print("recover n={} k={} t={} dropped={} secrets={} threads={} recover_wall_ms={:.3f} recover_cpu_ms={:.3f} "
             "check_wall_ms={:.3f} reconstruct_wall_ms={:.3f} verify_ms={:.3f} decode_ms={:.3f} checks_ms={:.3f} "
             "deal_ms={:.3f} shamir_ms={:.3f} keys_ms={:.3f}\n",
             n, p.neighbours, p.threshold, dropped_n, secrets, threads, t_wall, t_cpu, t_check, t_rebuild, t_verify,
             t_decode, t_checks, t_deal, t_shamir, t_keys);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bench::Args args("recover_bench", argc, argv);
  for (std::string a; args.next(a);) {
    auto next = [&] { return args.value(); };
    if (a == "--clients") o.clients = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--neighbours") o.neighbours = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--dropout") o.dropout = std::stod(next());
    else if (a == "--reps") o.reps = std::stoi(next());
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else {
      std::fprintf(stderr, "usage: recover_bench [--clients N] [--neighbours K] [--dropout F] [--reps R] [--threads T]\n");
      return 64;
    }
  }
  if (o.reps < 1 || !(o.dropout >= 0 && o.dropout < 0.5)) {
    std::fprintf(stderr, "recover_bench: --reps must be at least 1 and --dropout in [0, 0.5)\n");
    return 64;
  }
  return bench::guarded_main("recover_bench", [&] { return run(o); });
}

// make bench: what recover_secrets spends its time on.
//
// secagg-sim times recover_secrets (round 4: rebuild every self-mask seed of U3 and every
// dropped client's mask key from the responders' shares) as one call. This program runs a
// session through the library up to the round-4 responses (vectors of 16 elements: the
// masking is not what is measured), times recover_secrets itself (median of --reps calls), and
// then times, outside it, the parts that call is made of, replicating lib/server.cpp's steps:
//   decode   decode_body<UnmaskShares> of every response (cereal)
//   checks   for each responder, which owners it must answer for (graph.closed, set lookups)
//   gather   for each secret, the first t responders' shares (std::map find + lower_bound)
//   shamir   shamir::reconstruct of every secret with a LagrangeCache: the arithmetic alone
// The parts are approximations of the library's loops, not the library's code: their sum need
// not equal recover_secrets' time exactly.
//
// Usage: recover_bench [--clients N] [--neighbours K] [--dropout F] [--reps R] [--threads T]
// Default: full SecAgg (K = N - 1), N = 500, no dropouts: the protocol paper's case.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "client.hpp"
#include "envelope.hpp"
#include "graph.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server.hpp"
#include "shamir.hpp"

using namespace secagg;

namespace {

double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

template <class F>
double median_ms(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double c0 = cpu_ms();
    f();
    t.push_back(cpu_ms() - c0);
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
  MaskedCollector coll(p, sid, roster, r1.u2);
  const std::vector<uint64_t> x(p.length, 1);
  for (uint32_t i = dropped_n; i < n; ++i) {
    const Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, i + 1, r1.inboxes.at(i + 1)), "inbox");
    coll.add({"masked", open_envelope(client_mask(st[i], inbox, "inbox", x, 1), "masked")});
  }
  const std::vector<uint32_t> u3 = coll.finish();
  const Bytes survivors = encode(MsgType::survivors, sid, kServerId, kServerId, IdList{u3});
  std::vector<Incoming> responses(n - dropped_n);
  parallel_for(responses.size(), threads, [&](size_t j) {
    ClientState& c = st[dropped_n + j];
    responses[j] = {"unmask", open_envelope(client_unmask(c, open_envelope(survivors, "survivors"), "survivors"), "unmask")};
  });

  // recover_secrets itself.
  size_t secrets = 0;
  const double t_recover = median_ms(o.reps, [&] {
    Recovered rec = recover_secrets(p, sid, roster, r1.u2, u3, responses);
    secrets = rec.self_seeds.size() + rec.mask_keys.size();
  });

  // Its parts.
  std::map<uint32_t, UnmaskShares> bodies;
  const double t_decode = median_ms(o.reps, [&] {
    bodies.clear();
    for (const auto& m : responses) bodies.emplace(m.env.sender, decode_body<UnmaskShares>(m.env, m.origin));
  });
  const NeighbourGraph graph(sid, roster, p.neighbours);
  std::vector<uint32_t> dropped;
  std::set_difference(r1.u2.begin(), r1.u2.end(), u3.begin(), u3.end(), std::back_inserter(dropped));
  const double t_checks = median_ms(o.reps, [&] {
    size_t want = 0;
    for (const auto& [v, b] : bodies)
      for (uint32_t u : graph.closed(v)) want += contains(u3, u) || contains(dropped, u);
    asm volatile("" : : "r"(want) : "memory");
  });
  // The shares of each secret, gathered as the library does: the first t responders of N[u].
  std::vector<std::vector<shamir::Share>> gathered;
  auto gather = [&] {
    gathered.clear();
    auto one = [&](uint32_t owner, bool self_mask) {
      std::vector<shamir::Share> s;
      for (uint32_t r : graph.closed(owner)) {
        auto it = bodies.find(r);
        if (it == bodies.end()) continue;
        const auto& list = self_mask ? it->second.self_mask : it->second.mask_key;
        auto e = std::lower_bound(list.begin(), list.end(), owner,
                                  [](const OwnedShare& a, uint32_t id) { return a.owner < id; });
        s.push_back(e->share);
        if (s.size() == p.threshold) break;
      }
      gathered.push_back(std::move(s));
    };
    for (uint32_t u : u3) one(u, true);
    for (uint32_t d : dropped) one(d, false);
  };
  const double t_gather = median_ms(o.reps, gather);
  size_t sets = 0;
  const double t_shamir = median_ms(o.reps, [&] {
    shamir::LagrangeCache cache;
    for (const auto& s : gathered) {
      Secret32 secret = shamir::reconstruct(s, &cache);
      asm volatile("" : : "r"(secret.data()) : "memory");
    }
    sets = cache.size();
  });

  fmt::print("recover_secrets breakdown: n = {}, k = {}, t = {}, {} dropped before round 2, {} responders, {} secrets "
             "({} shares each), CPU ms, median of {}\n",
             n, p.neighbours, p.threshold, dropped_n, responses.size(), secrets, p.threshold, o.reps);
  fmt::print("  {:<58} {:>9.3f}\n", "recover_secrets (the library call)", t_recover);
  const double parts = t_decode + t_checks + t_gather + t_shamir;
  auto line = [&](const char* what, double t) {
    fmt::print("  {:<58} {:>9.3f}  {:>5.1f}%\n", what, t, 100 * t / t_recover);
  };
  line("  decode the responses (decode_body<UnmaskShares>)", t_decode);
  line("  check each response's owners (graph, set lookups)", t_checks);
  line("  gather t shares per secret (map find + lower_bound)", t_gather);
  line(fmt::format("  Shamir arithmetic (reconstruct, {} Lagrange set(s))", sets).c_str(), t_shamir);
  line("  sum of the parts", parts);
  fmt::print("recover n={} k={} t={} dropped={} secrets={} recover_ms={:.3f} decode_ms={:.3f} checks_ms={:.3f} "
             "gather_ms={:.3f} shamir_ms={:.3f}\n",
             n, p.neighbours, p.threshold, dropped_n, secrets, t_recover, t_decode, t_checks, t_gather, t_shamir);
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
  try {
    crypto_init();
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recover_bench: %s\n", e.what());
    return 70;
  }
}

// make bench: the server's round 2 (checking and adding n masked inputs) against its floor.
//
// Builds n signed masked-input messages of `length` elements mod 2^bits (the bytes a server
// receives, as clients' secagg-mask writes them), then times, in the same run:
//   floor    what round 2 cannot avoid, on `threads` threads: BLAKE2b-256 of every message's
//            checksummed bytes (one message per thread at a time), then every message's packed
//            elements unpacked and added mod R into the sum (the threads split the elements,
//            tile by tile, so each adds into its own part of the sum). Its kernels are this
//            program's own plain loops, not the library's.
//   round2   the library's round 2 from those bytes, each message in a buffer of its own as a
//            server holds what it read or received (copied there before the clock starts):
//            open_envelope of every message on `threads` threads (the checksum; what
//            secagg-collect's reader and secagg-sim do), then
//            ServerSession::accept_all in batches of 2 x threads messages as secagg-collect feeds
//            them (the signature, the body, the elements, the sum), then close (U3).
//   open, accept   round2's two parts
//   hash, unpack_add   the floor's two parts on one thread (thread CPU time)
// Every figure is the median of `reps` runs, wall time (and process CPU time for round2);
// round2 / floor is issue 16's target (<= 1.5 on 2 threads). The sums of both are compared.
//
// Usage: round2_bench [--clients N] [--length L] [--bits B] [--threads T] [--reps R]
// Last line, for bench.py:
//   round2 n=.. length=.. bits=.. threads=.. reps=.. bytes=.. floor_ms=.. round2_ms=.. round2_cpu_ms=..
//          open_ms=.. accept_ms=.. hash_ms=.. unpack_add_ms=.. ratio=..
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "client.hpp"
#include "crypto.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server_session.hpp"
#include "thread_pool.hpp"

using namespace secagg;

namespace {

template <class F>
double median_ms(int reps, clockid_t clock, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const double c0 = bench::clock_ms(clock);
    f();
    t.push_back(bench::clock_ms(clock) - c0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// The floor's unpack-and-add: elements [first, first + count) of a packed vector of `bits`-bit
// elements (bits <= 56 here: an element lies in the 8 bytes from its first byte) added mod R
// (R = 2^bits here).
void plain_unpack_add(const uint8_t* packed, size_t packed_bytes, unsigned bits, uint64_t R, size_t first,
                      size_t count, uint64_t* sum) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  auto add = [&](size_t i, uint64_t w, size_t bit) { sum[i] = (sum[i] + ((w >> (bit % 8)) & mask)) & (R - 1); };
  size_t i = 0;
  // Whole 8-byte loads while they stay inside the vector, then the last elements byte by byte.
  for (size_t bit = first * bits; i < count && bit / 8 + 8 <= packed_bytes; ++i, bit += bits) {
    uint64_t w;
    std::memcpy(&w, packed + bit / 8, 8);
    add(i, w, bit);
  }
  for (; i < count; ++i) {
    const size_t bit = (first + i) * bits;
    uint64_t w = 0;
    std::memcpy(&w, packed + bit / 8, packed_bytes - bit / 8);
    add(i, w, bit);
  }
}

struct Options {
  uint32_t clients = 100;
  uint64_t length = 1000000;
  unsigned bits = 24;
  unsigned threads = 2;
  int reps = 7;
};

int run(const Options& o) {
  if (o.bits < 1 || o.bits > 56) throw Error(Exit::usage, "round2_bench: --bits must be in [1, 56]");
  Params p;
  p.clients = o.clients;
  p.neighbours = p.clients - 1;
  p.threshold = min_secure_threshold(p.clients);
  p.modulus = uint64_t{1} << o.bits;
  p.length = o.length;
  validate_params(p);
  const SessionId sid = new_session_id();
  const Modulus ring = p.ring();
  const uint32_t n = p.clients;
  const size_t L = p.length;
  const unsigned T = o.threads;

  // Round 0 (a roster with everyone's signing key), then every client's masked input: random
  // elements, signed as secagg-mask signs them.
  std::vector<ClientState> st(n);
  std::vector<Incoming> adverts(n);
  parallel_for(n, T, [&](size_t i) {
    st[i] = client_keygen(p, sid, static_cast<uint32_t>(i + 1));
    adverts[i] = {"adv", open_envelope(client_advertise(st[i]), "adv")};
  });
  const Roster roster = collect_keys(p, sid, adverts);
  std::vector<uint32_t> u2(n);
  for (uint32_t i = 0; i < n; ++i) u2[i] = i + 1;
  std::vector<Bytes> msgs(n);
  parallel_for(n, T, [&](size_t i) {
    std::vector<uint64_t> y(L);
    random_u64s(y.data(), y.size());
    for (auto& v : y) v &= p.modulus - 1;
    msgs[i] = encode_ring_vector(MsgType::masked_input, sid, static_cast<uint32_t>(i + 1), kServerId, ring, y,
                                 &st[i].sig_seed);
  });
  uint64_t bytes = 0;
  for (const auto& m : msgs) bytes += m.size();
  // Where the packed elements start in a message: after the header and RingVector's fields.
  const size_t packed_at = kHeaderBytes + 1 + 3 * 8;
  const size_t packed_bytes = msgs[0].size() - packed_at - kChecksumBytes - kSignatureBytes;
  auto checksummed = [&](const Bytes& m) { return std::span(m).first(m.size() - kChecksumBytes - kSignatureBytes); };

  // The floor.
  constexpr size_t kTile = 4096;
  std::vector<uint64_t> floor_sum;
  std::vector<Digest32> sums(n);
  auto floor = [&](unsigned threads) {
    floor_sum.assign(L, 0);
    parallel_for(n, threads, [&](size_t i) { sums[i] = blake2b_256(checksummed(msgs[i])); });
    const size_t tiles = (L + kTile - 1) / kTile;
    parallel_for(threads, threads, [&](size_t t) {
      for (size_t k = tiles * t / threads; k < tiles * (t + 1) / threads; ++k) {
        const size_t first = k * kTile, count = std::min(kTile, L - first);
        for (const auto& m : msgs)
          plain_unpack_add(m.data() + packed_at, packed_bytes, o.bits, p.modulus, first, count, floor_sum.data() + first);
      }
    });
  };
  const double t_floor = median_ms(o.reps, CLOCK_MONOTONIC, [&] { floor(T); });
  const double t_hash = median_ms(o.reps, CLOCK_THREAD_CPUTIME_ID, [&] {
    for (size_t i = 0; i < n; ++i) sums[i] = blake2b_256(checksummed(msgs[i]));
  });
  std::vector<uint64_t> one(L);
  const double t_add = median_ms(o.reps, CLOCK_THREAD_CPUTIME_ID, [&] {
    std::fill(one.begin(), one.end(), 0);
    for (const auto& m : msgs) plain_unpack_add(m.data() + packed_at, packed_bytes, o.bits, p.modulus, 0, L, one.data());
  });

  // The library's round 2.
  std::vector<uint64_t> lib_sum;
  double open_ms = 0, accept_ms = 0;
  std::vector<double> opens, accepts, cpus;
  std::vector<Bytes> received(n);
  const double t_round2 = median_ms(o.reps, CLOCK_MONOTONIC, [&] {
    // Each message as the server has it, in a buffer of its own (read from a file or a socket):
    // not timed.
    for (size_t i = 0; i < n; ++i) received[i] = msgs[i];
    const double w0 = bench::clock_ms(CLOCK_MONOTONIC), c0 = bench::clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    std::vector<Incoming> in(n);
    parallel_for(n, T, [&](size_t i) {
      in[i].origin = fmt::format("masked-{}.msg", i + 1);
      in[i].env = open_envelope(std::move(received[i]), in[i].origin);
    });
    const double w1 = bench::clock_ms(CLOCK_MONOTONIC);
    ServerSession e(p, sid, Round::r2, roster, u2);
    const size_t batch = 2 * size_t{T};
    for (size_t i = 0; i < in.size(); i += batch)
      e.accept_all(std::span(in).subspan(i, std::min(batch, in.size() - i)), T);
    lib_sum = e.masked_sum();
    RoundResult r = e.close(T);
    if (r.in.size() != n) throw Error(Exit::software, "round2_bench: the round did not take every masked input");
    const double w2 = bench::clock_ms(CLOCK_MONOTONIC);
    opens.push_back(w1 - w0);
    accepts.push_back(w2 - w1);
    cpus.push_back(bench::clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0);
  });
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  open_ms = median(opens);
  accept_ms = median(accepts);
  const double cpu_ms = median(cpus);
  if (lib_sum != floor_sum || one != floor_sum)
    throw Error(Exit::software, "round2_bench: the library's sum and the floor's differ");

  fmt::print("round 2 benchmark: {} masked inputs of {} elements, R = 2^{}, {:.1f} MB, {} thread(s), median of {}\n", n,
             L, o.bits, static_cast<double>(bytes) / 1e6, T, o.reps);
  fmt::print("  {:<66} {:>9.3f} ms wall\n", "floor: BLAKE2b of every message + unpack-and-add into the sum", t_floor);
  fmt::print("  {:<66} {:>9.3f} ms CPU\n", "  its parts on 1 thread: BLAKE2b-256 of every message", t_hash);
  fmt::print("  {:<66} {:>9.3f} ms CPU\n", "                         unpack and add every message", t_add);
  fmt::print("  {:<66} {:>9.3f} ms wall {:>8.2f}x floor ({:.3f} ms CPU)\n",
             "round 2 (open_envelope, accept_all in batches, close)", t_round2, t_round2 / t_floor, cpu_ms);
  fmt::print("  {:<66} {:>9.3f} ms wall\n", "  of which: open_envelope of every message", open_ms);
  fmt::print("  {:<66} {:>9.3f} ms wall\n", "            accept_all and close", accept_ms);
  fmt::print("round2 n={} length={} bits={} threads={} reps={} bytes={} floor_ms={:.3f} round2_ms={:.3f} "
             "round2_cpu_ms={:.3f} open_ms={:.3f} accept_ms={:.3f} hash_ms={:.3f} unpack_add_ms={:.3f} ratio={:.3f}\n",
             n, L, o.bits, T, o.reps, bytes, t_floor, t_round2, cpu_ms, open_ms, accept_ms, t_hash, t_add,
             t_round2 / t_floor);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bench::Args args("round2_bench", argc, argv);
  for (std::string a; args.next(a);) {
    auto next = [&] { return args.value(); };
    if (a == "--clients") o.clients = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--length") o.length = std::stoull(next());
    else if (a == "--bits") o.bits = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--reps") o.reps = std::stoi(next());
    else {
      std::fprintf(stderr,
                   "usage: round2_bench [--clients N] [--length L] [--bits B] [--threads T] [--reps R]\n");
      return 64;
    }
  }
  if (o.reps < 1 || o.threads < 1 || o.clients < 3) {
    std::fprintf(stderr, "round2_bench: --reps and --threads must be at least 1, --clients at least 3\n");
    return 64;
  }
  return bench::guarded_main("round2_bench", [&] { return run(o); });
}

// lib/protocol/sparse_union: the union encodings of sparse aggregation (issue 12) in both modes.
// Random sessions decode to exactly the true union, counts, maxima histogram and R_max, from sums
// taken mod R as the protocol takes them, over any subset of the clients; the field widths hold
// the worst sums the parameters allow; a table that cannot peel and a corrupted sum are refused,
// never read as a wrong union; the private view and sum do not depend on who chose what; bad
// client input is refused.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "sparse_union.hpp"

using namespace secagg;

namespace {

struct Client {
  uint32_t id = 0;
  std::vector<uint32_t> set;  // ascending
  float max = 0;
};

SessionId session_of(uint64_t seed) {
  SessionId sid{};
  std::mt19937_64 g(seed);
  for (auto& b : sid) b = static_cast<uint8_t>(g());
  return sid;
}

// The protocol's sum: element-wise, mod 2^bits.
std::vector<uint64_t> sum_of(const UnionSpec& s, const SessionId& sid, const std::vector<Client>& cs) {
  const uint64_t mask = (uint64_t{1} << union_modulus_bits(s)) - 1;
  std::vector<uint64_t> sum(union_vector_length(s), 0);
  for (const Client& c : cs) {
    const auto v = encode_union(s, sid, c.id, c.set, c.max);
    REQUIRE(v.size() == sum.size());
    REQUIRE(*std::max_element(v.begin(), v.end()) <= mask);
    for (size_t j = 0; j < v.size(); ++j) sum[j] = (sum[j] + v[j]) & mask;
  }
  return sum;
}

struct Truth {
  std::vector<uint32_t> indices, counts, histogram;
  float max = 0;
};

Truth truth_of(const std::vector<Client>& cs) {
  std::map<uint32_t, uint32_t> count;
  Truth t;
  t.histogram.assign(kMaxBuckets, 0);
  for (const Client& c : cs) {
    for (uint32_t x : c.set) ++count[x];
    ++t.histogram[max_bucket(c.max)];
    t.max = std::max(t.max, c.max);
  }
  for (auto [x, n] : count) {
    t.indices.push_back(x);
    t.counts.push_back(n);
  }
  return t;
}

// The true maximum rounded up to its power of two: the private mode's R_max.
double pow2_ceiling(float m) { return m == 0 ? 0.0 : std::exp2(std::ceil(std::log2(static_cast<double>(m)))); }

template <class F>
std::pair<Exit, std::string> failure(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {Exit::ok, ""};
}

// Floats over the whole range a residual's maximum can take: zero, subnormals, exact powers of two
// (the bucket edges), and values in between.
float random_max(std::mt19937_64& g) {
  switch (g() % 6) {
    case 0: return 0.0f;
    case 1: return std::ldexp(1.0f, static_cast<int>(g() % 277) - 149);  // up to 2^127
    case 2: return std::nextafter(std::ldexp(1.0f, static_cast<int>(g() % 254) - 126), 0.0f);
    case 3: return std::bit_cast<float>(static_cast<uint32_t>(1 + g() % 0x7f7fffff));
    default: return std::ldexp(1.0f + static_cast<float>(g() % 1000) / 1000.0f, static_cast<int>(g() % 40) - 20);
  }
}

std::vector<uint32_t> random_set(std::mt19937_64& g, uint64_t N, size_t k) {
  std::vector<uint32_t> s;
  if (k * 4 >= N) {  // dense: a random subset of [0, N)
    std::vector<uint32_t> all(N);
    std::iota(all.begin(), all.end(), 0u);
    std::shuffle(all.begin(), all.end(), g);
    s.assign(all.begin(), all.begin() + static_cast<long>(k));
  } else {
    while (s.size() < k) {
      s.push_back(static_cast<uint32_t>(g() % N));
      if (s.size() == k) {
        std::sort(s.begin(), s.end());
        s.erase(std::unique(s.begin(), s.end()), s.end());
      }
    }
  }
  std::sort(s.begin(), s.end());
  return s;
}

// n clients of one random session; overlap picks how their sets relate.
std::vector<Client> random_clients(std::mt19937_64& g, uint64_t N, uint32_t n, uint32_t per_client, int overlap) {
  std::vector<Client> cs(n);
  const std::vector<uint32_t> shared = random_set(g, N, per_client);
  const std::vector<uint32_t> pool = random_set(g, N, std::min<uint64_t>(N, 2 * uint64_t{per_client} + 3));
  for (uint32_t u = 0; u < n; ++u) {
    Client& c = cs[u];
    c.id = u + 1;
    c.max = random_max(g);
    const size_t k = g() % 8 == 0 ? g() % (per_client + 1) : per_client;  // some send fewer
    switch (overlap) {
      case 0:  // independent
        c.set = random_set(g, N, k);
        break;
      case 1:  // everyone the same set
        c.set = shared;
        break;
      default: {  // drawn from a small pool: heavy overlap
        std::vector<uint32_t> p = pool;
        std::shuffle(p.begin(), p.end(), g);
        c.set.assign(p.begin(), p.begin() + static_cast<long>(std::min(k, p.size())));
        std::sort(c.set.begin(), c.set.end());
      }
    }
  }
  return cs;
}

// The clients that did not drop out: every one, or a random subset (possibly empty).
std::vector<Client> survivors(std::mt19937_64& g, const std::vector<Client>& cs) {
  if (g() % 3 == 0) return cs;
  std::vector<Client> out;
  const uint64_t keep = g() % 100;
  for (const Client& c : cs)
    if (g() % 100 < keep) out.push_back(c);
  return out;
}

void check_view(const UnionView& v, const Truth& t, UnionMode mode) {
  CHECK(v.indices == t.indices);
  CHECK(v.counts == t.counts);
  CHECK(v.histogram == t.histogram);
  CHECK(v.clients == std::accumulate(t.histogram.begin(), t.histogram.end(), 0u));
  if (mode == UnionMode::private_)
    CHECK(v.r_max == pow2_ceiling(t.max));
  else
    CHECK(v.r_max == static_cast<double>(t.max));
}

}  // namespace

TEST_CASE("sparse union: max buckets") {
  CHECK(max_bucket(0.0f) == 0);
  CHECK(max_bucket(-0.0f) == 0);
  const auto e = [](float m) { return bucket_exponent(max_bucket(m)); };
  CHECK(e(1.0f) == 0);
  CHECK(e(1.5f) == 1);
  CHECK(e(2.0f) == 1);
  CHECK(e(std::nextafter(2.0f, 3.0f)) == 2);
  CHECK(e(0.75f) == 0);
  CHECK(e(0.5f) == -1);
  CHECK(e(std::numeric_limits<float>::denorm_min()) == -149);
  CHECK(e(std::numeric_limits<float>::max()) == 128);
  CHECK(max_bucket(std::numeric_limits<float>::max()) == kMaxBuckets - 1);
  // The definition: the smallest e with m <= 2^e, over the whole float range.
  std::mt19937_64 g(7);
  for (int i = 0; i < 20000; ++i) {
    const float m = random_max(g);
    if (m == 0) continue;
    const int b = e(m);
    CHECK(static_cast<double>(m) <= std::ldexp(1.0, b));
    CHECK(static_cast<double>(m) > std::ldexp(1.0, b - 1));
  }
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), -1.0f,
                    -std::numeric_limits<float>::denorm_min()})
    CHECK(failure([&] { max_bucket(bad); }).first == Exit::data);
}

TEST_CASE("sparse union: random sessions decode exactly, both modes") {
  std::mt19937_64 g(20240612);
  int cases = 0, retried = 0;
  for (int i = 0; i < 400; ++i) {
    const uint32_t n = 2 + static_cast<uint32_t>(g() % 199);
    const uint64_t N = std::max<uint64_t>(1, static_cast<uint64_t>(std::exp2(static_cast<double>(g() % 2000) / 100.0)));
    // Up to min(N, 2000) indices per client, and about 4 x 10^4 per case to keep the test quick
    // (the largest cases are in the next test).
    const uint32_t cap = static_cast<uint32_t>(std::min<uint64_t>({N, 2000, std::max<uint64_t>(1, 40000 / n)}));
    const uint32_t per_client = 1 + static_cast<uint32_t>(g() % cap);
    const int overlap = static_cast<int>(g() % 3);
    const std::vector<Client> all = random_clients(g, N, n, per_client, overlap);
    const std::vector<Client> in = survivors(g, all);
    const Truth t = truth_of(in);
    for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
      CAPTURE(i);
      CAPTURE(n);
      CAPTURE(N);
      CAPTURE(per_client);
      CAPTURE(overlap);
      CAPTURE(in.size());
      double factor = kDefaultCellsFactor;
      uint64_t seed = g();
      for (int attempt = 0;; ++attempt) {
        const UnionSpec s = size_union(mode, N, n, per_client, factor);
        const SessionId sid = session_of(seed);
        const auto sum = sum_of(s, sid, in);
        const auto [code, what] = failure([&] {
          const UnionView v = decode_union(s, sid, sum);
          check_view(v, t, mode);
          if (mode == UnionMode::plain) {
            std::vector<uint32_t> ids;
            for (const Client& c : in) ids.push_back(c.id);
            CHECK(v.client_ids == ids);
            for (size_t j = 0; j < in.size() && j < v.per_client.size(); ++j) {
              CHECK(v.per_client[j] == in[j].set);
              CHECK(v.per_client_max[j] == in[j].max);
            }
          } else {
            CHECK(v.client_ids.empty());
            CHECK(v.per_client.empty());
          }
        });
        if (code == Exit::ok) break;
        // Only the private table may fail to peel, and only with the documented retry: a new
        // session (new positions) with twice the cells.
        REQUIRE(mode == UnionMode::private_);
        REQUIRE(code == Exit::data);
        REQUIRE(what.find("--union-cells-factor") != std::string::npos);
        REQUIRE(attempt < 3);
        ++retried;
        factor *= 2;
        seed = g();
      }
      ++cases;
    }
  }
  MESSAGE(cases << " cases decoded exactly; " << retried << " private tables needed the retry");
  // The failure rate at the default size is small (docs/sparse.md, "The private union").
  CHECK(retried * 20 <= cases);
}

TEST_CASE("sparse union: no field overflows at the widest sums the parameters allow") {
  // Every client of n chooses the same indices (a pure cell then holds n copies of one index, the
  // largest count, index sum and check sum there can be) with the largest maximum, at the largest N
  // this n allows, and at N = 1 and N = 2^32. Identical vectors sum to n times one.
  for (uint32_t n : {1u, 2u, 3u, 100u, 1000u, 65535u, 65536u, uint32_t{1} << 20}) {
    std::vector<uint64_t> Ns = {1, 2, 1000000};
    // The largest N a private union of n clients allows (the check hash needs 16 bits).
    uint64_t lo = 1, hi = uint64_t{1} << 32;
    if (failure([&] { size_union(UnionMode::private_, hi, n, 1); }).first == Exit::ok) {
      lo = hi;
    } else {
      while (lo + 1 < hi) {
        const uint64_t mid = lo + (hi - lo) / 2;
        if (failure([&] { size_union(UnionMode::private_, mid, n, 1); }).first == Exit::ok)
          lo = mid;
        else
          hi = mid;
      }
      // One more is refused, with a usage error naming n and N.
      const auto [code, what] = failure([&] { size_union(UnionMode::private_, lo + 1, n, 1); });
      CHECK(code == Exit::usage);
      CHECK(what.find(std::to_string(n)) != std::string::npos);
      CHECK(what.find(std::to_string(lo + 1)) != std::string::npos);
    }
    Ns.push_back(lo);
    Ns.push_back(uint64_t{1} << 32);
    for (uint64_t N : Ns) {
      for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
        CAPTURE(n);
        CAPTURE(N);
        const std::string mode_name = union_mode_name(mode);
    CAPTURE(mode_name);
        const uint32_t per_client = static_cast<uint32_t>(std::min<uint64_t>(N, 3));
        if (mode == UnionMode::private_ && N > lo) {
          CHECK(failure([&] { size_union(mode, N, n, per_client); }).first == Exit::usage);
          continue;
        }
        const UnionSpec s = size_union(mode, N, n, per_client);
        CHECK(union_modulus_bits(s) <= 62);
        if (mode == UnionMode::private_) {
          CHECK(s.hash_bits >= 16);
          CHECK(s.count_bits + s.index_bits + s.hash_bits <= s.modulus_bits);
          CHECK(s.cells % 3 == 0);
        }
        std::vector<uint32_t> set;  // the top indices: the largest index sums
        for (uint64_t x = N - per_client; x < N; ++x) set.push_back(static_cast<uint32_t>(x));
        const SessionId sid = session_of(N ^ n);
        const uint64_t mask = (uint64_t{1} << union_modulus_bits(s)) - 1;
        std::vector<uint64_t> sum;
        if (mode == UnionMode::private_) {
          const auto one = encode_union(s, sid, 1, set, std::numeric_limits<float>::max());
          for (uint64_t v : one) sum.push_back((v * n) & mask);
        } else if (n <= 1000) {
          std::vector<Client> cs;
          for (uint32_t u = 1; u <= n; ++u) cs.push_back({u, set, std::numeric_limits<float>::max()});
          sum = sum_of(s, sid, cs);
        } else {
          continue;  // the plain vector of 2^20 clients is large; its slots do not add up
        }
        const UnionView v = decode_union(s, sid, sum);
        CHECK(v.indices == set);
        CHECK(v.counts == std::vector<uint32_t>(set.size(), n));
        CHECK(v.clients == n);
        CHECK(v.histogram[kMaxBuckets - 1] == n);
        REQUIRE(v.top_bucket.has_value());
        CHECK(*v.top_bucket == 128);
        CHECK(v.r_max == (mode == UnionMode::private_ ? std::ldexp(1.0, 128)
                                                       : static_cast<double>(std::numeric_limits<float>::max())));
      }
    }
  }
  // Some sizes the report quotes (docs/sparse.md): N = 10^6, n = 100.
  const UnionSpec a = size_union(UnionMode::private_, 1000000, 100, 100);
  CHECK(a.cells == 15000);
  CHECK(a.count_bits == 7);
  CHECK(a.index_bits == 27);
  CHECK(a.hash_bits == 21);
  CHECK(union_modulus_bits(a) == 62);
  CHECK(union_vector_length(a) == 15000 + 35 + 1);
  const UnionSpec b = size_union(UnionMode::plain, 1000000, 100, 100);
  CHECK(union_modulus_bits(b) == 32);
  CHECK(union_vector_length(b) == 100 * 101);
}

TEST_CASE("sparse union: a table that does not peel, and corrupted sums, are refused") {
  std::mt19937_64 g(99);
  SUBCASE("too many distinct indices for the table") {
    // A tiny cells factor: the floor table, too small for 50 x 20 distinct indices (a table of
    // three sub-tables needs about 1.22 cells per index).
    const UnionSpec s = size_union(UnionMode::private_, 1000000, 50, 20, 0.01);
    CHECK(s.cells < 1200);
    const SessionId sid = session_of(1);
    const auto cs = random_clients(g, 1000000, 50, 20, 0);
    const auto [code, what] = failure([&] { decode_union(s, sid, sum_of(s, sid, cs)); });
    CHECK(code == Exit::data);
    CHECK(what.find("does not decode") != std::string::npos);
    CHECK(what.find("--union-cells-factor 0.02") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
  SUBCASE("the sum of more clients than the table was sized for") {
    const UnionSpec s = size_union(UnionMode::private_, 1000000, 10, 50);  // 10 x 50 indices
    const SessionId sid = session_of(2);
    auto cs = random_clients(g, 1000000, 10, 50, 0);
    for (int extra = 0; extra < 4; ++extra)  // four times as many sets (the ids repeat)
      for (Client c : random_clients(g, 1000000, 10, 50, 0)) cs.push_back(c);
    const auto [code, what] = failure([&] { decode_union(s, sid, sum_of(s, sid, cs)); });
    CHECK(code == Exit::data);
    CHECK(what.find("--union-cells-factor 3") != std::string::npos);
  }
  SUBCASE("a sum of another session does not peel") {
    const UnionSpec s = size_union(UnionMode::private_, 1000000, 20, 30);
    const auto cs = random_clients(g, 1000000, 20, 30, 0);
    CHECK(failure([&] { decode_union(s, session_of(4), sum_of(s, session_of(3), cs)); }).first == Exit::data);
  }
  SUBCASE("wrong length, elements not below R") {
    for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
      const UnionSpec s = size_union(mode, 1000, 5, 4);
      std::vector<uint64_t> sum(union_vector_length(s) + 1, 0);
      CHECK(failure([&] { decode_union(s, session_of(5), sum); }).first == Exit::data);
      sum.pop_back();
      sum[3] = uint64_t{1} << union_modulus_bits(s);
      const auto [code, what] = failure([&] { decode_union(s, session_of(5), sum, "U/aggregate.vec"); });
      CHECK(code == Exit::data);
      CHECK(what.rfind("U/aggregate.vec: element 3", 0) == 0);
    }
  }
  SUBCASE("one element of a private sum changed: refused, or (histogram) the union still exact") {
    // (The plain encoding has no redundancy: a changed slot reads as another index set.)
    int refused = 0, runs = 0;
    for (int i = 0; i < 300; ++i) {
      const UnionMode mode = UnionMode::private_;
      const uint32_t n = 2 + static_cast<uint32_t>(g() % 60);
      const uint64_t N = 1 + g() % 100000;
      const uint32_t per_client = 1 + static_cast<uint32_t>(g() % std::min<uint64_t>(N, 100));
      const auto cs = random_clients(g, N, n, per_client, static_cast<int>(g() % 3));
      const UnionSpec s = size_union(mode, N, n, per_client, 3.0);  // large: it must decode untouched
      const SessionId sid = session_of(g());
      auto sum = sum_of(s, sid, cs);
      const Truth t = truth_of(cs);
      REQUIRE(decode_union(s, sid, sum).indices == t.indices);
      const uint64_t mask = (uint64_t{1} << union_modulus_bits(s)) - 1;
      // Cells (or a plain client's slots) mostly, the histogram and totals too.
      const size_t j = g() % 4 == 0 ? union_vector_length(s) - 1 - g() % std::min<uint64_t>(40, s.length)
                                     : g() % union_vector_length(s);
      uint64_t changed = g() % 2 ? (sum[j] + 1 + g() % 1000) & mask : g() & mask;
      if (changed == sum[j]) changed = (changed + 1) & mask;
      sum[j] = changed;
      CAPTURE(i);
      CAPTURE(j);
      ++runs;
      const auto [code, what] = failure([&] {
        const UnionView v = decode_union(s, sid, sum);
        // A changed histogram count may go unnoticed (its counts have no redundancy beyond their
        // total); the union and its counts never do.
        CHECK(j >= s.cells);
        CHECK(v.indices == t.indices);
        CHECK(v.counts == t.counts);
      });
      if (code != Exit::ok) {
        CHECK(code == Exit::data);
        CHECK(what.find('\n') == std::string::npos);
        ++refused;
      }
    }
    MESSAGE(refused << " of " << runs << " corrupted sums refused; the rest decoded to the true union");
    CHECK(refused * 10 >= runs * 9);
  }
}

TEST_CASE("sparse union: the private view does not depend on who chose what") {
  std::mt19937_64 g(4242);
  for (int i = 0; i < 40; ++i) {
    const uint32_t n = 2 + static_cast<uint32_t>(g() % 50);
    const uint64_t N = 1 + g() % 100000;
    const uint32_t per_client = 1 + static_cast<uint32_t>(g() % std::min<uint64_t>(N, 50));
    // A profile: how many clients chose each index, as two different assignments of the same
    // (index, client) pairs to clients, and maxima with the same buckets but other values.
    std::vector<Client> a(n), b(n);
    for (uint32_t u = 0; u < n; ++u) a[u].id = b[u].id = u + 1;
    // At most per_client indices: each client can then take any of them.
    const auto pool = random_set(g, N, per_client);
    std::vector<uint32_t> load_a(n, 0), load_b(n, 0);
    for (uint32_t x : pool) {
      const uint32_t c = 1 + static_cast<uint32_t>(g() % n);
      for (auto [cs, load] : {std::pair{&a, &load_a}, std::pair{&b, &load_b}}) {
        std::vector<uint32_t> order(n);
        std::iota(order.begin(), order.end(), 0u);
        std::shuffle(order.begin(), order.end(), g);
        uint32_t placed = 0;
        for (uint32_t u : order)
          if (placed < c && (*load)[u] < per_client) {
            (*cs)[u].set.push_back(x);
            ++(*load)[u];
            ++placed;
          }
        REQUIRE(placed == c);
      }
    }
    std::vector<int> exps(n);
    for (int& e : exps) e = static_cast<int>(g() % 60) - 30;
    std::vector<uint32_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0u);
    std::shuffle(perm.begin(), perm.end(), g);
    for (uint32_t u = 0; u < n; ++u) {
      // Bucket e holds (2^(e-1), 2^e]: two different values in it, on different clients.
      a[u].max = std::ldexp(0.75f, exps[u]);
      b[perm[u]].max = std::ldexp(0.6f, exps[u]);
    }
    const bool same_sets = [&] {
      for (uint32_t u = 0; u < n; ++u)
        if (a[u].set != b[u].set || a[u].max != b[u].max) return false;
      return true;
    }();
    CAPTURE(i);
    for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
      const UnionSpec s = size_union(mode, N, n, per_client, 3.0);
      const SessionId sid = session_of(g());
      const auto sa = sum_of(s, sid, a), sb = sum_of(s, sid, b);
      const UnionView va = decode_union(s, sid, sa), vb = decode_union(s, sid, sb);
      CHECK(va.indices == vb.indices);
      CHECK(va.counts == vb.counts);
      CHECK(va.histogram == vb.histogram);
      if (mode == UnionMode::private_) {
        // The server's whole view: the sum, and everything decoded from it.
        CHECK(sa == sb);
        CHECK(va.clients == vb.clients);
        CHECK(va.top_bucket == vb.top_bucket);
        CHECK(va.r_max == vb.r_max);
      } else if (!same_sets) {
        // The plain sum names each client's set and maximum: the two differ (the check above can fail).
        CHECK(sa != sb);
        CHECK(va.per_client_max != vb.per_client_max);
      }
    }
  }
}

TEST_CASE("sparse union: bad client input") {
  for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
    const std::string mode_name = union_mode_name(mode);
    CAPTURE(mode_name);
    const UnionSpec s = size_union(mode, 100, 4, 3);
    const SessionId sid = session_of(6);
    const auto bad = [&](uint32_t id, std::vector<uint32_t> set, float max, const char* words) {
      const auto [code, what] = failure([&] { encode_union(s, sid, id, set, max); });
      CHECK(code == Exit::data);
      CHECK(what.find(words) != std::string::npos);
      CHECK(what.find('\n') == std::string::npos);
    };
    bad(1, {5, 3}, 1.0f, "not ascending: 3 follows 5");
    bad(1, {3, 3}, 1.0f, "index 3 is given twice");
    bad(1, {3, 100}, 1.0f, "index 100 is not below the model length N = 100");
    bad(1, {1, 2, 3, 4}, 1.0f, "4 indices, more than the 3 per client");
    bad(0, {1}, 1.0f, "client id 0 is outside [1, n = 4]");
    bad(5, {1}, 1.0f, "client id 5 is outside [1, n = 4]");
    bad(1, {1}, std::numeric_limits<float>::quiet_NaN(), "not a finite number");
    bad(1, {1}, std::numeric_limits<float>::infinity(), "not a finite number");
    bad(1, {1}, -2.0f, "below zero");
    // The good ones around them: none, all, the last index, the last client.
    CHECK(encode_union(s, sid, 4, std::vector<uint32_t>{}, 0.0f).size() == union_vector_length(s));
    CHECK(encode_union(s, sid, 1, std::vector<uint32_t>{0, 50, 99}, 1e30f).size() == union_vector_length(s));
  }
  // Parameters: a usage error naming the value.
  CHECK(failure([] { size_union(UnionMode::private_, 0, 4, 1); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, (uint64_t{1} << 32) + 1, 4, 1); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, 100, 0, 1); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, 100, 4, 0); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, 100, 4, 101); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, 100, 4, 1, 0.0); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::private_, 100, 4, 1, std::nan("")); }).first == Exit::usage);
  CHECK(failure([] { size_union(UnionMode::plain, uint64_t{1} << 32, 1u << 20, 2000); }).first == Exit::usage);
}

TEST_CASE("sparse union: sizes and timings at N = 10^6, n = 100") {
  // Measurements for docs/sparse.md; no timed assertion, but every decode is checked.
  std::mt19937_64 g(1);
  for (uint64_t K : {10000u, 1000u}) {
    const uint32_t n = 100, per_client = static_cast<uint32_t>(K / n);
    const auto cs = random_clients(g, 1000000, n, per_client, 0);
    const Truth t = truth_of(cs);
    for (UnionMode mode : {UnionMode::private_, UnionMode::plain}) {
      const UnionSpec s = size_union(mode, 1000000, n, per_client);
      using clock = std::chrono::steady_clock;
      clock::time_point t0, t1, t2;
      UnionView v;
      // A table that does not peel (about 0.3% of sessions here) is retried, as documented, in a
      // new session; a larger table is not needed for that.
      for (uint64_t seed = K;; ++seed) {
        const SessionId sid = session_of(seed);
        t0 = clock::now();
        const auto sum = sum_of(s, sid, cs);
        t1 = clock::now();
        const auto [code, what] = failure([&] { v = decode_union(s, sid, sum); });
        t2 = clock::now();
        if (code == Exit::ok) break;
        MESSAGE("retried: " << what);
        REQUIRE(seed < K + 3);
      }
      check_view(v, t, mode);
      const double bytes = static_cast<double>(union_vector_length(s)) * union_modulus_bits(s) / 8;
      MESSAGE(std::string(union_mode_name(mode)) << " K = " << K << ": " << union_vector_length(s) << " elements of "
                                    << union_modulus_bits(s) << " bits = " << bytes << " bytes per client; encode "
                                    << std::chrono::duration<double, std::micro>(t1 - t0).count() / n
                                    << " us per client (with the summing), decode "
                                    << std::chrono::duration<double, std::milli>(t2 - t1).count() << " ms");
    }
  }
}

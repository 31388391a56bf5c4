#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "error.hpp"
#include "exit_of.hpp"
#include "random.hpp"
#include "shamir.hpp"

using namespace secagg;
using namespace secagg::shamir;

namespace {

Secret32 random_secret() {
  Secret32 s;
  random_bytes(s.data(), s.size());
  return s;
}

std::vector<uint32_t> iota_xs(uint32_t n) {
  std::vector<uint32_t> xs(n);
  std::iota(xs.begin(), xs.end(), 1u);
  return xs;
}

// The exit code of the Error that f throws (Exit::ok if it throws nothing).
template <class F>
Exit error_code(F&& f) {
  return test::exit_of(std::forward<F>(f));
}

uint64_t mul(uint64_t a, uint64_t b) {
  __extension__ typedef unsigned __int128 u128;
  return static_cast<uint64_t>(static_cast<u128>(a) * b % kPrime);
}

// Calls f on every size-k subset of [0, n) (as a sorted index vector).
template <class F>
void for_each_subset(size_t n, size_t k, F&& f) {
  std::vector<bool> pick(n, false);
  std::fill(pick.begin(), pick.begin() + static_cast<std::ptrdiff_t>(k), true);
  do {
    std::vector<size_t> idx;
    for (size_t i = 0; i < n; ++i)
      if (pick[i]) idx.push_back(i);
    f(idx);
  } while (std::prev_permutation(pick.begin(), pick.end()));
}

std::vector<Share> select(const std::vector<Share>& shares, const std::vector<size_t>& idx) {
  std::vector<Share> out;
  for (size_t i : idx) out.push_back(shares[i]);
  return out;
}

// k distinct random indices out of [0, n), in random order.
std::vector<size_t> random_subset(size_t n, size_t k) {
  std::vector<size_t> idx(n);
  std::iota(idx.begin(), idx.end(), size_t{0});
  for (size_t i = 0; i < k; ++i) {
    size_t j = i + random_u64() % (n - i);
    std::swap(idx[i], idx[j]);
  }
  idx.resize(k);
  return idx;
}

// True if the shares reconstruct to `secret`; false if they give another secret or are
// rejected as inconsistent (Exit::data).
bool gives(std::span<const Share> shares, const Secret32& secret) {
  try {
    return reconstruct(shares) == secret;
  } catch (const Error& e) {
    if (e.code() != Exit::data) throw;
    return false;
  }
}

}  // namespace

TEST_CASE("shamir: every t-subset reconstructs (small cases)") {
  for (auto nt : {std::pair<uint32_t, unsigned>{5, 3}, {6, 4}, {4, 4}, {3, 1}}) {
    const uint32_t n = nt.first;
    const unsigned t = nt.second;
    CAPTURE(n);
    CAPTURE(t);
    Secret32 secret = random_secret();
    auto xs = iota_xs(n);
    auto shares = split(secret, t, xs);
    REQUIRE(shares.size() == n);
    for (size_t i = 0; i < n; ++i) {
      CHECK(shares[i].x == xs[i]);
      for (uint64_t y : shares[i].y) CHECK(y < kPrime);
    }
    size_t subsets = 0;
    for_each_subset(n, t, [&](const std::vector<size_t>& idx) {
      auto sub = select(shares, idx);
      CHECK(reconstruct(sub) == secret);
      std::reverse(sub.begin(), sub.end());  // order does not matter
      CHECK(reconstruct(sub) == secret);
      ++subsets;
    });
    CHECK(subsets > 0);
  }
}

TEST_CASE("shamir: large ids, random subsets, more than t shares") {
  std::vector<uint32_t> xs;
  for (uint32_t i = 0; i < 46; ++i) xs.push_back(1000 + 7919 * i);
  xs.push_back(1048576);  // 2^20
  xs.push_back(1048575);
  xs.push_back(kMaxX);    // 2^31 - 1
  xs.push_back(kMaxX - 1);
  REQUIRE(xs.size() == 50);
  const unsigned t = 26;
  Secret32 secret = random_secret();
  auto shares = split(secret, t, xs);
  LagrangeCache cache;
  for (int trial = 0; trial < 30; ++trial) {
    auto sub = select(shares, random_subset(50, t));
    CHECK(reconstruct(sub) == secret);
    CHECK(reconstruct(sub, &cache) == secret);
  }
  // The subset holding the extreme ids.
  auto sub = select(shares, {46, 47, 48, 49, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21});
  CHECK(reconstruct(sub) == secret);
  // More than t: t + 1, ..., all n.
  for (size_t k : {27, 40, 50}) CHECK(reconstruct(select(shares, random_subset(50, k))) == secret);
  CHECK(reconstruct(shares) == secret);
}

TEST_CASE("shamir: fewer than t shares do not give the secret") {
  auto xs = iota_xs(8);
  for (int trial = 0; trial < 20; ++trial) {
    Secret32 secret = random_secret();
    auto shares = split(secret, 5, xs);
    auto sub = select(shares, random_subset(8, 4));
    // The result is (close to) uniform in the field per chunk, so it is almost always an
    // invalid encoding; if it happens to decode, it must not be the secret (2^-61 odds).
    CHECK_FALSE(gives(sub, secret));
  }
}

TEST_CASE("shamir: threshold 1 shares are the chunks themselves") {
  Secret32 secret;
  for (size_t i = 0; i < 32; ++i) secret.b[i] = static_cast<uint8_t>(i + 1);
  std::vector<uint32_t> xs{1, 99, kMaxX};
  auto shares = split(secret, 1, xs);
  for (const auto& s : shares) {
    CHECK(s.y[0] == 0x07060504030201u);
    CHECK(s.y[1] == 0x0e0d0c0b0a0908u);
    CHECK(s.y[2] == 0x1514131211100fu);
    CHECK(s.y[3] == 0x1c1b1a19181716u);
    CHECK(s.y[4] == 0x201f1e1du);
    std::vector<Share> one{s};
    CHECK(reconstruct(one) == secret);
  }
}

TEST_CASE("shamir: shares are evaluations of a degree t-1 polynomial") {
  // For t = 2 the shares at x = 1, 2, 3 are collinear: y1 - 2 y2 + y3 = 0.
  Secret32 secret = random_secret();
  std::vector<uint32_t> xs{1, 2, 3};
  auto sh = split(secret, 2, xs);
  for (size_t c = 0; c < kChunks; ++c) {
    uint64_t lhs = (sh[0].y[c] + sh[2].y[c]) % kPrime;
    CHECK(lhs == mul(2, sh[1].y[c]));
  }
}

TEST_CASE("shamir: all-zero and all-ones secrets") {
  for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xff}}) {
    Secret32 secret;
    secret.b.fill(fill);
    std::vector<uint32_t> xs{5, 17, 1048576, kMaxX, 2};
    auto shares = split(secret, 3, xs);
    for_each_subset(5, 3, [&](const std::vector<size_t>& idx) { CHECK(reconstruct(select(shares, idx)) == secret); });
    CHECK(reconstruct(shares) == secret);
  }
}

TEST_CASE("shamir: bad split arguments") {
  Secret32 secret = random_secret();
  auto xs = iota_xs(5);
  CHECK(error_code([&] { split(secret, 0, xs); }) == Exit::usage);
  CHECK(error_code([&] { split(secret, 6, xs); }) == Exit::usage);
  CHECK(error_code([&] { split(secret, 1, std::span<const uint32_t>{}); }) == Exit::usage);
  std::vector<uint32_t> dup{1, 2, 3, 2};
  CHECK(error_code([&] { split(secret, 2, dup); }) == Exit::usage);
  std::vector<uint32_t> zero{0, 1, 2};
  CHECK(error_code([&] { split(secret, 2, zero); }) == Exit::usage);
  std::vector<uint32_t> big{1, 2, kMaxX + 1};
  CHECK(error_code([&] { split(secret, 2, big); }) == Exit::usage);
  CHECK(split(secret, 5, xs).size() == 5);
}

TEST_CASE("shamir: bad shares in reconstruct") {
  Secret32 secret = random_secret();
  auto xs = iota_xs(6);
  auto shares = split(secret, 3, xs);
  SUBCASE("duplicated x") {
    std::vector<Share> sub{shares[0], shares[1], shares[1]};
    CHECK(error_code([&] { reconstruct(sub); }) == Exit::data);
    LagrangeCache cache;
    CHECK(error_code([&] { reconstruct(sub, &cache); }) == Exit::data);
    CHECK(cache.size() == 0);
    sub[2].y[0] ^= 1;  // same x, different y: still rejected
    CHECK(error_code([&] { reconstruct(sub); }) == Exit::data);
  }
  SUBCASE("x out of range") {
    std::vector<Share> sub{shares[0], shares[1], shares[2]};
    sub[1].x = 0;
    CHECK(error_code([&] { reconstruct(sub); }) == Exit::data);
  }
  SUBCASE("y not a field element") {
    std::vector<Share> sub{shares[0], shares[1], shares[2]};
    sub[2].y[3] = kPrime;
    CHECK(error_code([&] { reconstruct(sub); }) == Exit::data);
    sub[2].y[3] = ~uint64_t{0};
    CHECK(error_code([&] { reconstruct(sub); }) == Exit::data);
  }
  SUBCASE("tampered y") {
    for (size_t who = 0; who < 3; ++who)
      for (size_t c = 0; c < kChunks; ++c)
        for (uint64_t delta : {uint64_t{1}, uint64_t{1} << 40, kPrime - 1}) {
          std::vector<Share> sub{shares[0], shares[2], shares[4]};
          sub[who].y[c] = (sub[who].y[c] + delta) % kPrime;
          CHECK_FALSE(gives(sub, secret));
        }
  }
  SUBCASE("tampered y with more than t shares is detected or wrong") {
    std::vector<Share> sub = shares;
    sub[5].y[4] = (sub[5].y[4] + 12345) % kPrime;
    CHECK_FALSE(gives(sub, secret));
  }
  SUBCASE("no shares") {
    CHECK(error_code([&] { reconstruct(std::span<const Share>{}); }) == Exit::data);
  }
}

TEST_CASE("shamir: lagrange_at_zero known answers and identities") {
  std::vector<uint32_t> two{1, 2};
  CHECK(lagrange_at_zero(two) == std::vector<uint64_t>{2, kPrime - 1});
  std::vector<uint32_t> three{1, 2, 3};
  CHECK(lagrange_at_zero(three) == std::vector<uint64_t>{3, kPrime - 3, 1});
  std::vector<uint32_t> one{77};
  CHECK(lagrange_at_zero(one) == std::vector<uint64_t>{1});
  CHECK(lagrange_at_zero(std::span<const uint32_t>{}).empty());

  // sum_i c_i x_i^k is 1 for k = 0 and 0 for 1 <= k < t.
  std::vector<uint32_t> xs;
  for (uint32_t i = 0; i < 40; ++i) xs.push_back(static_cast<uint32_t>(random_u64() % kMaxX) + 1);
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  auto c = lagrange_at_zero(xs);
  REQUIRE(c.size() == xs.size());
  for (size_t k = 0; k < xs.size(); ++k) {
    uint64_t sum = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      uint64_t p = 1;
      for (size_t e = 0; e < k; ++e) p = mul(p, xs[i]);
      sum = (sum + mul(c[i], p)) % kPrime;
    }
    CHECK(sum == (k == 0 ? 1u : 0u));
  }

  std::vector<uint32_t> dup{3, 4, 3};
  CHECK(error_code([&] { lagrange_at_zero(dup); }) == Exit::data);
  std::vector<uint32_t> zero{0, 4};
  CHECK(error_code([&] { lagrange_at_zero(zero); }) == Exit::data);
}

TEST_CASE("shamir: LagrangeCache") {
  LagrangeCache cache;
  CHECK(cache.size() == 0);
  std::vector<uint32_t> a{4, 9, 1048576, kMaxX};
  std::vector<uint32_t> b{9, 4, 1048576, kMaxX};  // same set, other order: its own entry
  const auto& ca = cache.at_zero(a);
  CHECK(ca == lagrange_at_zero(a));
  CHECK(cache.size() == 1);
  const auto& ca2 = cache.at_zero(a);
  CHECK(&ca2 == &ca);  // served from the cache
  CHECK(cache.size() == 1);
  const auto& cb = cache.at_zero(b);
  CHECK(cb == lagrange_at_zero(b));
  CHECK(cb[0] == ca[1]);
  CHECK(cb[1] == ca[0]);
  CHECK(cache.size() == 2);

  // Reconstructing many secrets from the same responders fills one entry.
  auto xs = iota_xs(10);
  LagrangeCache c2;
  for (int i = 0; i < 5; ++i) {
    Secret32 secret = random_secret();
    auto shares = split(secret, 4, xs);
    std::vector<Share> sub{shares[1], shares[3], shares[5], shares[7]};
    CHECK(reconstruct(sub, &c2) == secret);
  }
  CHECK(c2.size() == 1);
}

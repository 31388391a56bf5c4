// Mask expansion: the sampling rule of mask.hpp against an independent
// reference, slices against the whole, plus/minus, the range [0, R), and a
// coarse uniformity check.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "error.hpp"
#include "mask.hpp"
#include "modulus.hpp"
#include "prg.hpp"

using namespace secagg;

namespace {

constexpr PrgKind kKinds[] = {PrgKind::aes128ctr, PrgKind::chacha20};

const uint64_t kModuli[] = {
    2,
    3,
    7,
    1000003,                  // prime, <= 2^24: 8-byte words
    (uint64_t{1} << 24) - 3,  // just below 2^24: still 8-byte words
    (uint64_t{1} << 24) + 1,  // just above 2^24: 16-byte words
    uint64_t{1} << 16,
    uint64_t{1} << 32,  // the largest 4-byte-word power of two
    uint64_t{1} << 33,
    (uint64_t{1} << 32) - 5,  // not a power of two, > 2^24
    uint64_t{1} << 62,
    (uint64_t{1} << 62) - 57,
};

__extension__ typedef unsigned __int128 u128;

struct Seed {
  uint8_t b[32];
  explicit Seed(uint8_t start = 0, uint8_t step = 1) {
    for (int i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(start + step * i);
  }
};

// floor(w * R / 2^(8L)) for the L-byte little-endian word w, by schoolbook
// multiplication in 32-bit limbs (deliberately not the library's formula).
uint64_t mul_shift(const uint8_t* p, size_t L, uint64_t R) {
  uint32_t w[4] = {}, prod[6] = {};
  const size_t nw = L / 4;
  for (size_t k = 0; k < nw; ++k)
    w[k] = static_cast<uint32_t>(p[4 * k]) | static_cast<uint32_t>(p[4 * k + 1]) << 8 |
           static_cast<uint32_t>(p[4 * k + 2]) << 16 | static_cast<uint32_t>(p[4 * k + 3]) << 24;
  const uint32_t r[2] = {static_cast<uint32_t>(R), static_cast<uint32_t>(R >> 32)};
  for (size_t i = 0; i < nw; ++i) {
    uint64_t carry = 0;
    for (size_t j = 0; j < 2; ++j) {
      uint64_t t = uint64_t{w[i]} * r[j] + prod[i + j] + carry;
      prod[i + j] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    prod[i + 2] = static_cast<uint32_t>(carry);
  }
  return uint64_t{prod[nw]} | uint64_t{prod[nw + 1]} << 32;
}

uint64_t le(const uint8_t* p, size_t L) {
  uint64_t v = 0;
  for (size_t k = 0; k < L; ++k) v |= uint64_t{p[k]} << (8 * k);
  return v;
}

// The documented rule, element by element, straight from the keystream.
std::vector<uint64_t> reference_mask(PrgKind kind, const Seed& s, uint64_t R, uint64_t begin,
                                     uint64_t end) {
  const bool pow2 = (R & (R - 1)) == 0;
  const size_t L = pow2 ? (R <= (uint64_t{1} << 32) ? 4 : 8) : (R <= (uint64_t{1} << 24) ? 8 : 16);
  std::vector<uint8_t> ks((end - begin) * L);
  Keystream k(kind, s.b);
  k.generate(begin * L, ks.data(), ks.size());
  std::vector<uint64_t> out;
  for (uint64_t i = 0; i < end - begin; ++i) {
    const uint8_t* w = ks.data() + i * L;
    out.push_back(pow2 ? le(w, L) % R : mul_shift(w, L, R));
  }
  return out;
}

uint64_t add_mod(uint64_t a, uint64_t b, uint64_t R) {
  return static_cast<uint64_t>((static_cast<u128>(a) + b) % R);
}

struct Lcg {
  uint64_t x;
  uint64_t next() {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x ^ (x >> 29);
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

double chi_squared(const std::vector<uint64_t>& counts, double expected_each) {
  double chi = 0;
  for (uint64_t c : counts) chi += (c - expected_each) * (c - expected_each) / expected_each;
  return chi;
}

}  // namespace

TEST_CASE("mask_word_bytes follows the table in mask.hpp") {
  auto wb = [](uint64_t R) { return mask_word_bytes(Modulus::make(R)); };
  CHECK(wb(2) == 4);
  CHECK(wb(uint64_t{1} << 16) == 4);
  CHECK(wb(uint64_t{1} << 24) == 4);
  CHECK(wb(uint64_t{1} << 32) == 4);
  CHECK(wb(uint64_t{1} << 33) == 8);
  CHECK(wb(uint64_t{1} << 62) == 8);
  CHECK(wb(3) == 8);
  CHECK(wb(1000003) == 8);
  CHECK(wb((uint64_t{1} << 24) - 1) == 8);
  CHECK(wb((uint64_t{1} << 24) + 1) == 16);
  CHECK(wb((uint64_t{1} << 32) - 5) == 16);
  CHECK(wb((uint64_t{1} << 62) - 57) == 16);
}

TEST_CASE("expand_mask matches the documented sampling rule, and stays in [0, R)") {
  for (PrgKind kind : kKinds) {
    for (uint64_t R : kModuli) {
      CAPTURE(prg_name(kind));
      CAPTURE(R);
      Seed s(static_cast<uint8_t>(R), 5);
      Modulus m = Modulus::make(R);
      auto got = expand_mask(kind, s.b, m, 0, 3000);
      CHECK(got == reference_mask(kind, s, R, 0, 3000));
      CHECK(std::all_of(got.begin(), got.end(), [R](uint64_t v) { return v < R; }));
      // An unaligned range far out (AES: past 2^32 blocks; both: a partial first block).
      uint64_t far = kind == PrgKind::aes128ctr ? (uint64_t{1} << 50) + 3 : 12345677;
      CHECK(expand_mask(kind, s.b, m, far, far + 300) ==
            reference_mask(kind, s, R, far, far + 300));
    }
  }
}

TEST_CASE("add_mask over slices equals expand_mask over the whole range") {
  const uint64_t N = 20000;  // several internal chunks for every word size
  for (PrgKind kind : kKinds) {
    for (uint64_t R : kModuli) {
      CAPTURE(prg_name(kind));
      CAPTURE(R);
      Seed s(3, static_cast<uint8_t>(R % 251));
      Modulus m = Modulus::make(R);
      auto whole = expand_mask(kind, s.b, m, 0, N);
      Lcg rng{R};

      // Slices with random ends, and ends at and around the chunk boundaries
      // (1024, 2048 or 4096 elements) and PRG block boundaries.
      std::vector<std::pair<uint64_t, uint64_t>> slices = {
          {0, N},       {1, N},       {0, 1},       {1, 2},        {3, 5},
          {1023, 1025}, {1024, 3000}, {2047, 2049}, {4095, 4097},  {4096, 8192},
          {4097, 8193}, {5, 12289},   {N - 1, N},   {N / 2, N / 2}};
      for (int t = 0; t < 30; ++t) {
        uint64_t b = rng.below(N), e = b + rng.below(N - b + 1);
        slices.emplace_back(b, e);
      }
      for (const auto& slice : slices) {
        const uint64_t b = slice.first, e = slice.second;
        CAPTURE(b);
        CAPTURE(e);
        CHECK(expand_mask(kind, s.b, m, b, e) ==
              std::vector<uint64_t>(whole.begin() + b, whole.begin() + e));

        std::vector<uint64_t> acc(e - b), orig;
        for (auto& a : acc) a = rng.below(R);
        orig = acc;
        add_mask(kind, s.b, m, Sign::plus, acc.data(), b, e);
        bool ok = true;
        for (uint64_t i = b; i < e; ++i) ok = ok && acc[i - b] == add_mod(orig[i - b], whole[i], R);
        CHECK(ok);
        CHECK(std::all_of(acc.begin(), acc.end(), [R](uint64_t v) { return v < R; }));
        add_mask(kind, s.b, m, Sign::minus, acc.data(), b, e);
        CHECK(acc == orig);
      }

      // The whole range assembled from consecutive odd-sized slices.
      std::vector<uint64_t> acc(N, 0);
      for (uint64_t b = 0; b < N;) {
        uint64_t e = std::min(N, b + 1 + rng.below(3000));
        add_mask(kind, s.b, m, Sign::plus, acc.data() + b, b, e);
        b = e;
      }
      CHECK(acc == whole);
    }
  }
}

TEST_CASE("Sign::minus subtracts the mask") {
  for (PrgKind kind : kKinds) {
    for (uint64_t R : kModuli) {
      CAPTURE(prg_name(kind));
      CAPTURE(R);
      Seed s(9, 9);
      Modulus m = Modulus::make(R);
      auto mask = expand_mask(kind, s.b, m, 10, 2010);
      std::vector<uint64_t> acc(2000, 0);
      add_mask(kind, s.b, m, Sign::minus, acc.data(), 10, 2010);
      bool ok = true;
      for (size_t i = 0; i < acc.size(); ++i) ok = ok && acc[i] == (R - mask[i]) % R;
      CHECK(ok);
      // Extremes of the accumulator: R - 1 plus, 0 minus.
      std::vector<uint64_t> hi(2000, R - 1), lo(2000, 0);
      add_mask(kind, s.b, m, Sign::plus, hi.data(), 10, 2010);
      add_mask(kind, s.b, m, Sign::minus, lo.data(), 10, 2010);
      for (size_t i = 0; i < hi.size(); ++i) {
        ok = ok && hi[i] == add_mod(R - 1, mask[i], R) && hi[i] < R;
        ok = ok && lo[i] == (R - mask[i]) % R;
      }
      CHECK(ok);
    }
  }
}

TEST_CASE("Different PRGs and different seeds give different masks") {
  Seed s(1, 1), t(1, 1);
  t.b[0] ^= 1;
  for (uint64_t R : kModuli) {
    CAPTURE(R);
    Modulus m = Modulus::make(R);
    auto a = expand_mask(PrgKind::aes128ctr, s.b, m, 0, 256);
    auto c = expand_mask(PrgKind::chacha20, s.b, m, 0, 256);
    CHECK(a != c);
    CHECK(a != expand_mask(PrgKind::aes128ctr, t.b, m, 0, 256));
    CHECK(c != expand_mask(PrgKind::chacha20, t.b, m, 0, 256));
  }
}

TEST_CASE("Masks look uniform (chi-squared, 200k samples)") {
  const uint64_t N = 200000;
  // Small R: one bin per value. With these fixed seeds the statistic is
  // deterministic; the bounds sit above the 1e-9 tail of chi-squared (about 53
  // for 6 degrees of freedom, 56 for 7, 74 for 15) yet far below what a
  // grossly biased sampler scores (see the last check).
  for (PrgKind kind : kKinds) {
    CAPTURE(prg_name(kind));
    for (uint64_t R : {uint64_t{7}, uint64_t{8}, uint64_t{3}, uint64_t{2}}) {
      CAPTURE(R);
      Seed s(42, 3);
      auto v = expand_mask(kind, s.b, Modulus::make(R), 0, N);
      std::vector<uint64_t> counts(R, 0);
      for (uint64_t x : v) ++counts[x];
      CHECK(chi_squared(counts, double(N) / R) < 60.0);
    }
    // Large R: 16 bins by the top of the range, so a sampler that misses part
    // of [0, R) or favours one end fails.
    for (uint64_t R : {uint64_t{1000003}, (uint64_t{1} << 32) - 5, (uint64_t{1} << 62) - 57,
                       uint64_t{1} << 62, uint64_t{1} << 32}) {
      CAPTURE(R);
      Seed s(7, 11);
      auto v = expand_mask(kind, s.b, Modulus::make(R), 0, N);
      std::vector<uint64_t> counts(16, 0);
      for (uint64_t x : v) ++counts[static_cast<size_t>((static_cast<u128>(x) * 16) / R)];
      CHECK(chi_squared(counts, double(N) / 16) < 80.0);
    }
  }
  // The bound is not vacuous: an always-zero sampler and "(low 3 bits) mod 7"
  // (0 twice as likely) both fail it by far.
  std::vector<uint64_t> zero(7, 0);
  zero[0] = N;
  CHECK(chi_squared(zero, double(N) / 7) > 1000.0);
  auto v = expand_mask(PrgKind::aes128ctr, Seed(42, 3).b, Modulus::make(8), 0, N);
  std::vector<uint64_t> biased(7, 0);
  for (uint64_t x : v) ++biased[x % 7];
  CHECK(chi_squared(biased, double(N) / 7) > 1000.0);
}

TEST_CASE("add_mask: argument checks and the chacha20 stream limit") {
  Seed s;
  std::vector<uint64_t> acc(4, 0);
  auto code_of = [&](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.code();
    }
    return Exit::ok;
  };
  Modulus m = Modulus::make(uint64_t{1} << 32);  // 4-byte words
  CHECK(code_of([&] { add_mask(PrgKind::aes128ctr, s.b, m, Sign::plus, acc.data(), 5, 4); }) ==
        Exit::usage);
  CHECK(code_of([&] { expand_mask(PrgKind::aes128ctr, s.b, m, 5, 4); }) == Exit::usage);
  CHECK(code_of([&] {
          add_mask(PrgKind::aes128ctr, s.b, Modulus{1}, Sign::plus, acc.data(), 0, 4);
        }) == Exit::usage);
  CHECK(code_of([&] {
          add_mask(PrgKind::aes128ctr, s.b, Modulus{kMaxModulus + 1}, Sign::plus, acc.data(), 0, 4);
        }) == Exit::usage);
  // An empty range touches nothing.
  add_mask(PrgKind::aes128ctr, s.b, m, Sign::plus, nullptr, 7, 7);
  CHECK(expand_mask(PrgKind::chacha20, s.b, m, 7, 7).empty());
  // Element indices whose byte offset does not fit in 64 bits.
  CHECK(code_of([&] {
          add_mask(PrgKind::aes128ctr, s.b, m, Sign::plus, acc.data(), ~uint64_t{0} - 4,
                   ~uint64_t{0});
        }) == Exit::usage);
  // chacha20: 4-byte words, so element 2^36 starts at byte 2^38, past the stream.
  const uint64_t last = (uint64_t{1} << 36) - 1;
  CHECK(code_of([&] {
          add_mask(PrgKind::chacha20, s.b, m, Sign::plus, acc.data(), last - 3, last + 1);
        }) == Exit::ok);
  CHECK(code_of([&] {
          add_mask(PrgKind::chacha20, s.b, m, Sign::plus, acc.data(), last - 2, last + 2);
        }) == Exit::usage);
  // aes128ctr has room for any element index whose offset fits in 64 bits.
  CHECK(code_of([&] {
          add_mask(PrgKind::aes128ctr, s.b, m, Sign::plus, acc.data(), last - 2, last + 2);
        }) == Exit::ok);
}

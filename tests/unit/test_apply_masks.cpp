// apply_masks must add every seed's mask to every element of the range, however the range is
// split between threads (a slicing bug once left the last elements of a vector unmasked).
#include <doctest/doctest.h>

#include "error.hpp"
#include "mask.hpp"
#include "pack.hpp"
#include "protocol.hpp"
#include "random.hpp"

using namespace secagg;

TEST_CASE("apply_masks covers every element for any length, offset and thread count") {
  const Modulus m = Modulus::from_bits(16);
  std::vector<SignedSeed> seeds(3);
  for (size_t i = 0; i < seeds.size(); ++i) {
    random_bytes(seeds[i].seed.data(), 32);
    seeds[i].sign = i == 1 ? Sign::minus : Sign::plus;
  }
  const uint64_t c = 16384;  // apply_masks' chunk
  for (uint64_t n : {uint64_t{1}, c - 1, c, c + 1, 2 * c - 1, 2 * c, 2 * c + 1, 3 * c + 7, 4 * c + 1, 4 * c + 2,
                     5 * c - 3, 8 * c + 5}) {
    for (uint64_t begin : {uint64_t{0}, uint64_t{5}, c + 3}) {
      std::vector<uint64_t> want(n, 0);
      for (const auto& s : seeds) {
        auto mask = expand_mask(PrgKind::aes128ctr, s.seed.data(), m, begin, begin + n);
        for (uint64_t i = 0; i < n; ++i) want[i] = s.sign == Sign::plus ? m.add(want[i], mask[i]) : m.sub(want[i], mask[i]);
      }
      for (unsigned threads : {1u, 2u, 3u, 4u, 7u}) {
        std::vector<uint64_t> got(n, 0);
        apply_masks(PrgKind::aes128ctr, m, seeds, got.data(), begin, begin + n, threads);
        CAPTURE(n);
        CAPTURE(begin);
        CAPTURE(threads);
        CHECK(got == want);
      }
    }
  }
}

// add_masks has three paths (32-bit tiles for R <= 2^32 a power of two, 64-bit tiles above,
// per-seed modular adds for other R); each must equal the single-seed reference add_mask.
TEST_CASE("add_masks equals the sum of single-seed masks for every modulus class and both PRGs") {
  std::vector<SignedSeed> seeds(5);
  for (size_t i = 0; i < seeds.size(); ++i) {
    random_bytes(seeds[i].seed.data(), 32);
    seeds[i].sign = i % 2 ? Sign::minus : Sign::plus;
  }
  for (uint64_t R : {uint64_t{2}, uint64_t{1} << 16, uint64_t{1} << 32, uint64_t{1} << 33, uint64_t{1} << 62,
                     uint64_t{1000003}, (uint64_t{1} << 40) + 15}) {
    const Modulus m = Modulus::make(R);
    for (PrgKind prg : {PrgKind::aes128ctr, PrgKind::chacha20}) {
      for (uint64_t n : {uint64_t{1}, uint64_t{17}, uint64_t{4096}, uint64_t{4097}, uint64_t{20000}}) {
        for (uint64_t begin : {uint64_t{0}, uint64_t{3}, uint64_t{4099}}) {
          std::vector<uint64_t> start(n), want(n);
          for (uint64_t i = 0; i < n; ++i) start[i] = want[i] = (i * 2654435761u) % R;
          for (const auto& s : seeds) add_mask(prg, s.seed.data(), m, s.sign, want.data(), begin, begin + n);
          std::vector<uint64_t> got = start;
          add_masks(prg, m, seeds, got.data(), begin, begin + n);
          CAPTURE(R);
          CAPTURE(n);
          CAPTURE(begin);
          CHECK(got == want);
        }
      }
    }
  }
}

// client_mask builds y = x + masks packed inside its message (apply_masks_packed); it must be
// exactly pack(x + masks) for every modulus class, length around tile and slice edges, and
// thread count.
TEST_CASE("apply_masks_packed equals packing apply_masks' result") {
  std::vector<SignedSeed> seeds(3);
  for (size_t i = 0; i < seeds.size(); ++i) {
    random_bytes(seeds[i].seed.data(), 32);
    seeds[i].sign = i == 1 ? Sign::minus : Sign::plus;
  }
  for (uint64_t R : {uint64_t{2}, uint64_t{1} << 13, uint64_t{1} << 32, uint64_t{1} << 45, uint64_t{1000003},
                     (uint64_t{1} << 40) + 15}) {
    const Modulus m = Modulus::make(R);
    for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, uint64_t{4097}, uint64_t{32768}, uint64_t{40001}}) {
      std::vector<uint64_t> x(n);
      for (uint64_t i = 0; i < n; ++i) x[i] = (i * 0x9E3779B97F4A7C15ull) % R;
      std::vector<uint64_t> y = x;
      apply_masks(PrgKind::aes128ctr, m, seeds, y.data(), 0, n, 1);
      const Bytes want = pack(y, m.bits());
      for (unsigned threads : {1u, 2u, 3u}) {
        Bytes got(want.size(), 0xee);
        apply_masks_packed(PrgKind::aes128ctr, m, seeds, x, got.data(), threads);
        CAPTURE(R);
        CAPTURE(n);
        CAPTURE(threads);
        CHECK(got == want);
      }
    }
  }
}

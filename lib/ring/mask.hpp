// Mask expansion: element i of the mask of a seed is sampled uniformly (or
// within statistical distance 2^-40) from [0, R) using a fixed-size word of
// keystream at a fixed offset, so any element range can be expanded alone.
//
//  R a power of two, R <= 2^32: 4-byte words, masked to the low bits (exact).
//  R a power of two, R >  2^32: 8-byte words, masked (exact).
//  other R <= 2^24:             8-byte word w, floor(w * R / 2^64) (distance <= R/2^64 <= 2^-40).
//  other R >  2^24:             16-byte word w, floor(w * R / 2^128) (distance <= R/2^128 < 2^-66).
// Words are read little-endian.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bytes.hpp"
#include "modulus.hpp"
#include "prg.hpp"
#include "progress.hpp"

namespace secagg {

size_t mask_word_bytes(Modulus m);

enum class Sign : int { plus = 1, minus = -1 };

// For i in [begin, end): acc[i - begin] = acc[i - begin] +/- mask_i (mod R).
// acc elements must already lie in [0, R). Expansion is fused with the add in
// cache-sized chunks, so the whole mask is never materialised.
void add_mask(PrgKind kind, const uint8_t seed[32], Modulus m, Sign sign, uint64_t* acc,
              uint64_t begin, uint64_t end);

// One mask of a sum: the seed it expands and whether it is added or subtracted.
struct SignedSeed {
  Secret32 seed;
  Sign sign = Sign::plus;
};

// For i in [begin, end): acc[i - begin] += sum over seeds of sign * mask_i (mod R), on the
// calling thread. For power-of-two R the masks are summed in a 16 KiB tile of wrapping 32- or
// 64-bit words (R divides 2^32 or 2^64, so wrapping is exact mod R) while the tile and the
// keystream block both sit in L1, and each seed's stream runs on without re-keying; acc is
// touched once per tile, not once per seed. The elements finished are added to `progress`, if
// given, in batches of tens of thousands.
void add_masks(PrgKind kind, Modulus m, std::span<const SignedSeed> seeds, uint64_t* acc, uint64_t begin,
               uint64_t end, ProgressCounter* progress = nullptr);

// The same added to x[i - begin] (elements in [0, R)) and written packed (pack.hpp) at
// `packed`, the byte of element `begin`: a masked input is never held as a whole vector of
// 64-bit words. begin * bits(R) must be a multiple of 8.
void add_masks_packed(PrgKind kind, Modulus m, std::span<const SignedSeed> seeds, const uint64_t* x, uint64_t begin,
                      uint64_t end, uint8_t* packed, ProgressCounter* progress = nullptr);

// The mask itself, elements [begin, end) (tests and tools that show it).
std::vector<uint64_t> expand_mask(PrgKind kind, const uint8_t seed[32], Modulus m, uint64_t begin,
                                  uint64_t end);

// Add the sign(u, v) * PRG(seed) masks for many seeds into acc over [0, length), splitting the
// range between `threads` threads and working in cache-sized chunks. `progress` (if set) hears
// the elements finished, of end - begin.
void apply_masks(PrgKind prg, Modulus m, std::span<const SignedSeed> seeds, uint64_t* acc, uint64_t begin,
                 uint64_t end, unsigned threads, const ProgressFn& progress = {});
// y = x + those masks, written packed (pack.hpp) at `packed` (packed_size(x.size(), bits(R))
// bytes) on `threads` threads: the masked input is built inside its message. `progress` as above,
// of x.size().
void apply_masks_packed(PrgKind prg, Modulus m, std::span<const SignedSeed> seeds, std::span<const uint64_t> x,
                        uint8_t* packed, unsigned threads, const ProgressFn& progress = {});

}  // namespace secagg

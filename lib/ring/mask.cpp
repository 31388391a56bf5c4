#include "mask.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include <sodium.h>

#include "error.hpp"
#include "pack.hpp"
#include "thread_pool.hpp"
#include "uint128.hpp"

namespace secagg {
namespace {

// Keystream is expanded into this many bytes of stack at a time and added
// into acc at once, while both are still in L1/L2. A multiple of 64, so every
// chunk after the first starts on a PRG block boundary.
constexpr size_t kChunkBytes = 16384;

// Elements per vectorized group (see the tile kernels).
constexpr size_t kGroup = 16;

inline uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

// The kernels: acc[i] = acc[i] +/- sample(word i of ks) for i in [0, n).
// Written as plain loops over memcpy loads so that the compiler vectorizes
// the power-of-two ones; __restrict tells it acc and the buffer do not overlap.

// Tile kernels for power-of-two R (add_masks): tile[j] +/-= word j of ks, wrapping in T (exact
// mod R, since R divides 2^(8 sizeof T)), and acc[j] = (acc[j] + tile[j]) & mask. Fixed-count
// inner loops of kGroup: -O2's "very cheap" vectorizer cost model only vectorizes loops whose
// trip count is a known multiple of the vector width.
template <class T>
inline T load_word(const uint8_t* p) {
  if constexpr (sizeof(T) == 4)
    return load_le32(p);
  else
    return load_le64(p);
}

template <class T, bool Minus>
[[gnu::always_inline]] inline void tile_body(T* __restrict tile, const uint8_t* __restrict ks, size_t n) {
  size_t i = 0;
  for (; i + kGroup <= n; i += kGroup) {
    T* __restrict a = tile + i;
    const uint8_t* __restrict k = ks + sizeof(T) * i;
    for (size_t j = 0; j < kGroup; ++j) {
      T w = load_word<T>(k + sizeof(T) * j);
      a[j] = Minus ? T(a[j] - w) : T(a[j] + w);
    }
  }
  for (; i < n; ++i) {
    T w = load_word<T>(ks + sizeof(T) * i);
    tile[i] = Minus ? T(tile[i] - w) : T(tile[i] + w);
  }
}

template <class T>
[[gnu::always_inline]] inline void flush_body(uint64_t* __restrict acc, const T* __restrict tile, size_t n,
                                              uint64_t mask) {
  size_t i = 0;
  for (; i + kGroup <= n; i += kGroup)
    for (size_t j = 0; j < kGroup; ++j) acc[i + j] = (acc[i + j] + tile[i + j]) & mask;
  for (; i < n; ++i) acc[i] = (acc[i] + tile[i]) & mask;
}

template <class T, bool Minus>
void tile_add(T* __restrict tile, const uint8_t* __restrict ks, size_t n) {
  tile_body<T, Minus>(tile, ks, n);
}
template <class T>
void tile_flush(uint64_t* __restrict acc, const T* __restrict tile, size_t n, uint64_t mask) {
  flush_body<T>(acc, tile, n, mask);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define SECAGG_MASK_AVX2 1
// The tile loops compiled for AVX2 (8 lanes of 32 bits instead of SSE2's 4), chosen at run
// time: the portable build targets baseline x86-64.
template <class T, bool Minus>
__attribute__((target("avx2"))) void tile_add_avx2(T* __restrict tile, const uint8_t* __restrict ks, size_t n) {
  tile_body<T, Minus>(tile, ks, n);
}
template <class T>
__attribute__((target("avx2"))) void tile_flush_avx2(uint64_t* __restrict acc, const T* __restrict tile, size_t n,
                                                     uint64_t mask) {
  flush_body<T>(acc, tile, n, mask);
}

bool cpu_has_avx2() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
}
#endif

// Other R <= 2^24: 8-byte word w, floor(w * R / 2^64). Scalar: x86 has no
// vector 64x64->128 multiply, and GCC's auto-vectorized emulation in 32-bit lanes measured
// slower than one MUL per element.
template <bool Minus>
void kernel_mulhi_64(uint64_t* __restrict acc, const uint8_t* __restrict ks, size_t n,
                     Modulus m) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = static_cast<uint64_t>((static_cast<u128>(load_le64(ks + 8 * i)) * m.R) >> 64);
    acc[i] = Minus ? m.sub(acc[i], x) : m.add(acc[i], x);
  }
}

// Other R > 2^24: 16-byte word w = hi * 2^64 + lo, floor(w * R / 2^128),
// exactly: floor((hi*R*2^64 + lo*R) / 2^128) = floor((hi*R + floor(lo*R / 2^64)) / 2^64),
// and hi*R + (lo*R >> 64) < 2^126 + 2^62 fits in 128 bits.
template <bool Minus>
void kernel_mulhi_128(uint64_t* __restrict acc, const uint8_t* __restrict ks, size_t n,
                      Modulus m) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t lo = load_le64(ks + 16 * i);
    uint64_t hi = load_le64(ks + 16 * i + 8);
    u128 t = static_cast<u128>(hi) * m.R + ((static_cast<u128>(lo) * m.R) >> 64);
    uint64_t x = static_cast<uint64_t>(t >> 64);
    acc[i] = Minus ? m.sub(acc[i], x) : m.add(acc[i], x);
  }
}

using Kernel = void (*)(uint64_t* __restrict, const uint8_t* __restrict, size_t, Modulus);

void check_range(Modulus m, uint64_t begin, uint64_t end) {
  if (m.R < 2 || m.R > kMaxModulus)
    throw Error(Exit::usage, "modulus " + std::to_string(m.R) + " is outside [2, 2^62]");
  if (begin > end)
    throw Error(Exit::usage, "mask range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                 ") is reversed");
}


// Wipes the keystream buffer however add_mask leaves.
struct Wipe {
  void* p;
  size_t n;
  ~Wipe() { sodium_memzero(p, n); }
};

}  // namespace

size_t mask_word_bytes(Modulus m) {
  if (m.pow2()) return m.R <= (uint64_t{1} << 32) ? 4 : 8;
  return m.R <= (uint64_t{1} << 24) ? 8 : 16;
}

void add_mask(PrgKind kind, const uint8_t seed[32], Modulus m, Sign sign, uint64_t* acc,
              uint64_t begin, uint64_t end) {
  check_range(m, begin, end);
  if (begin == end) return;
  const size_t wb = mask_word_bytes(m);
  if (end > std::numeric_limits<uint64_t>::max() / wb)
    throw Error(Exit::usage, "mask range end " + std::to_string(end) + " is too large");
  if (m.pow2()) {  // the tiled path of add_masks, with one seed
    SignedSeed one;
    std::memcpy(one.seed.data(), seed, 32);
    one.sign = sign;
    add_masks(kind, m, std::span<const SignedSeed>(&one, 1), acc, begin, end);
    return;
  }

  const bool minus = sign == Sign::minus;
  const Kernel kernel = wb == 8 ? (minus ? kernel_mulhi_64<true> : kernel_mulhi_64<false>)
                                : (minus ? kernel_mulhi_128<true> : kernel_mulhi_128<false>);

  Keystream ks(kind, seed);
  alignas(64) uint8_t buf[kChunkBytes];
  const uint64_t per = kChunkBytes / wb;  // elements per chunk
  // Wipe only what the stream was written to: short ranges are common (callers
  // tile the vector so the accumulator stays in cache across seeds).
  Wipe wipe{buf, static_cast<size_t>(std::min(end - begin, per) * wb)};
  uint64_t i = begin;
  while (i < end) {
    // Chunks end on multiples of `per` elements (kChunkBytes bytes of stream),
    // so only the first one can start inside a PRG block.
    uint64_t stop = std::min(end, (i / per + 1) * per);
    size_t count = static_cast<size_t>(stop - i);
    ks.generate(i * wb, buf, count * wb);
    kernel(acc + (i - begin), buf, count, m);
    i = stop;
  }
}

namespace {

// Calls emit(i, tile, n) for each tile [i, i + n) of [begin, end) once the tile holds the sum of
// every seed's mask over it (wrapping in T).
template <class T, class Emit>
void for_each_mask_tile(PrgKind kind, std::span<const SignedSeed> seeds, uint64_t begin, uint64_t end, Emit&& emit) {
  using Add = void (*)(T* __restrict, const uint8_t* __restrict, size_t);
  Add plus = tile_add<T, false>, minus = tile_add<T, true>;
#ifdef SECAGG_MASK_AVX2
  if (cpu_has_avx2()) {
    plus = tile_add_avx2<T, false>;
    minus = tile_add_avx2<T, true>;
  }
#endif
  if (end > std::numeric_limits<uint64_t>::max() / sizeof(T))
    throw Error(Exit::usage, "mask range end " + std::to_string(end) + " is too large");
  // One stream per seed for the whole range: consecutive tiles continue its counter, so a seed
  // is keyed once, not once per tile.
  std::vector<Keystream> streams;
  streams.reserve(seeds.size());
  for (const auto& s : seeds) streams.emplace_back(kind, s.seed.data());

  constexpr size_t kTile = kChunkBytes / sizeof(T);
  alignas(64) T tile[kTile];
  alignas(64) uint8_t buf[kChunkBytes];
  const size_t first = static_cast<size_t>(std::min<uint64_t>(end - begin, kTile));
  Wipe wipe_tile{tile, first * sizeof(T)}, wipe_buf{buf, first * sizeof(T)};
  for (uint64_t i = begin; i < end; i += kTile) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(end - i, kTile));
    std::memset(tile, 0, n * sizeof(T));
    for (size_t k = 0; k < seeds.size(); ++k) {
      streams[k].generate(i * sizeof(T), buf, n * sizeof(T));
      (seeds[k].sign == Sign::minus ? minus : plus)(tile, buf, n);
    }
    emit(i, static_cast<const T*>(tile), n);
  }
}

template <class T>
using Flush = void (*)(uint64_t* __restrict, const T* __restrict, size_t, uint64_t);

template <class T>
Flush<T> flush_kernel() {
#ifdef SECAGG_MASK_AVX2
  if (cpu_has_avx2()) return tile_flush_avx2<T>;
#endif
  return tile_flush<T>;
}

// Elements per step of add_masks for other R: 128 KiB of accumulator, in L2 across seeds.
constexpr uint64_t kModChunk = 16384;

// Finished elements go to the progress counter in batches of at least this many (16 tiles or
// more), so that a progress callback costs nothing measurable next to the expansion.
constexpr uint64_t kReportElements = 65536;

struct BatchedProgress {
  ProgressCounter* counter;
  uint64_t pending = 0;
  void add(uint64_t n) {
    if (!counter) return;
    pending += n;
    if (pending >= kReportElements) flush();
  }
  void flush() {
    if (counter && pending) counter->add(pending);
    pending = 0;
  }
};

}  // namespace

namespace {

// Adds every seed's mask to [begin, end) one piece [i, i + n) at a time: open(i, n) gives where
// the piece's n elements (in [0, R)) are, the masks are added there, then close(i, n). Power-of-
// two R sums the masks in a tile first; other R add each mask in turn, in pieces of `piece`.
// Finished elements are added to `progress`, if given.
template <class Open, class Close>
void add_masks_by_piece(PrgKind kind, Modulus m, std::span<const SignedSeed> seeds, uint64_t begin, uint64_t end,
                        uint64_t piece, ProgressCounter* progress, Open&& open, Close&& close) {
  const uint64_t mask = m.R - 1;
  BatchedProgress done{progress};
  auto tiles = [&](auto word) {
    using T = decltype(word);
    const Flush<T> flush = flush_kernel<T>();
    for_each_mask_tile<T>(kind, seeds, begin, end, [&](uint64_t i, const T* tile, size_t n) {
      flush(open(i, n), tile, n, mask);
      close(i, n);
      done.add(n);
    });
  };
  if (m.pow2() && mask_word_bytes(m) == 4) {
    tiles(uint32_t{});
  } else if (m.pow2()) {
    tiles(uint64_t{});
  } else {
    for (uint64_t c = begin; c < end; c += piece) {
      const size_t n = static_cast<size_t>(std::min(end - c, piece));
      uint64_t* at = open(c, n);
      for (const auto& s : seeds) add_mask(kind, s.seed.data(), m, s.sign, at, c, c + n);
      close(c, n);
      done.add(n);
    }
  }
  done.flush();
}

}  // namespace

void add_masks(PrgKind kind, Modulus m, std::span<const SignedSeed> seeds, uint64_t* acc, uint64_t begin,
               uint64_t end, ProgressCounter* progress) {
  check_range(m, begin, end);
  if (begin == end || seeds.empty()) return;
  add_masks_by_piece(
      kind, m, seeds, begin, end, kModChunk, progress, [&](uint64_t i, size_t) { return acc + (i - begin); },
      [](uint64_t, size_t) {});
}

void add_masks_packed(PrgKind kind, Modulus m, std::span<const SignedSeed> seeds, const uint64_t* x, uint64_t begin,
                      uint64_t end, uint8_t* packed, ProgressCounter* progress) {
  check_range(m, begin, end);
  const unsigned bits = m.bits();
  if (begin * bits % 8 != 0)
    throw Error(Exit::usage, "packed mask range starts at element " + std::to_string(begin) +
                                 ", inside a byte of the packed vector");
  if (begin == end) return;
  // y for one piece at a time: x plus the piece's masks, packed while it is in L1. Pieces (and
  // tiles, at most kY elements) are multiples of 8 elements, so each starts on a whole byte.
  constexpr size_t kY = kChunkBytes / sizeof(uint32_t);
  static_assert(kY % 8 == 0 && kChunkBytes / sizeof(uint64_t) % 8 == 0, "pieces must start on whole bytes");
  alignas(64) uint64_t y[kY];
  add_masks_by_piece(
      kind, m, seeds, begin, end, kY, progress,
      [&](uint64_t i, size_t n) {
        std::memcpy(y, x + (i - begin), n * sizeof(uint64_t));
        return static_cast<uint64_t*>(y);
      },
      [&](uint64_t i, size_t n) {
        pack_into(std::span<const uint64_t>(y, n), bits, packed + (i - begin) * bits / 8);
      });
}

std::vector<uint64_t> expand_mask(PrgKind kind, const uint8_t seed[32], Modulus m, uint64_t begin,
                                  uint64_t end) {
  if (begin > end)
    throw Error(Exit::usage, "mask range [" + std::to_string(begin) + ", " + std::to_string(end) +
                                 ") is reversed");
  std::vector<uint64_t> out(static_cast<size_t>(end - begin), 0);
  add_mask(kind, seed, m, Sign::plus, out.data(), begin, end);
  return out;
}

namespace {

// Splits [begin, end) into one contiguous slice per thread, so each keeps its own part of the
// vector in its cache. Slices are whole multiples of kChunk elements (the last may be shorter),
// so threads never share a cache line, and a slice of a packed vector starts on a whole byte.
template <class F>
void for_each_slice(uint64_t begin, uint64_t end, unsigned threads, F&& work) {
  constexpr uint64_t kChunk = 16384;
  const uint64_t n = end > begin ? end - begin : 0;
  if (threads <= 1 || n < 2 * kChunk) {
    work(begin, end);
    return;
  }
  const uint64_t chunks = (n + kChunk - 1) / kChunk;
  threads = static_cast<unsigned>(std::min<uint64_t>(threads, chunks));
  const uint64_t per = (chunks + threads - 1) / threads * kChunk;
  parallel_for(threads, threads, [&](size_t i) {
    uint64_t lo = begin + i * per, hi = std::min(end, lo + per);
    if (lo < hi) work(lo, hi);
  });
}

}  // namespace

void apply_masks(PrgKind prg, Modulus m, std::span<const SignedSeed> seeds, uint64_t* acc, uint64_t begin,
                 uint64_t end, unsigned threads, const ProgressFn& progress) {
  if (seeds.empty()) return;
  ProgressCounter done(progress, end > begin ? end - begin : 0);
  ProgressCounter* counter = done ? &done : nullptr;
  for_each_slice(begin, end, threads,
                 [&](uint64_t lo, uint64_t hi) { add_masks(prg, m, seeds, acc + (lo - begin), lo, hi, counter); });
}

void apply_masks_packed(PrgKind prg, Modulus m, std::span<const SignedSeed> seeds, std::span<const uint64_t> x,
                        uint8_t* packed, unsigned threads, const ProgressFn& progress) {
  const unsigned bits = m.bits();
  ProgressCounter done(progress, x.size());
  ProgressCounter* counter = done ? &done : nullptr;
  for_each_slice(0, x.size(), threads, [&](uint64_t lo, uint64_t hi) {
    add_masks_packed(prg, m, seeds, x.data() + lo, lo, hi, packed + lo * bits / 8, counter);
  });
}

}  // namespace secagg

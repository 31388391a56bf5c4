#include "pack.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "error.hpp"
#include "thread_pool.hpp"
#include "uint128.hpp"

namespace secagg {
namespace {

void check_bits(unsigned bits) {
  if (bits < 1 || bits > 64)
    throw Error(Exit::software, "bit width " + std::to_string(bits) + " is outside [1, 64]");
}

// ceil(n * bits / 8) without intermediate overflow; false if it does not fit in size_t.
bool size_for(size_t n, unsigned bits, size_t& out) {
  const size_t q = n / 8, r = n % 8;  // n * bits / 8 = q * bits + r * bits / 8
  const size_t tail = (r * bits + 7) / 8;
  if (q > (std::numeric_limits<size_t>::max() - tail) / bits) return false;
  out = q * bits + tail;
  return true;
}

template <class T>
inline void store_le(uint8_t* p, T v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &v, sizeof v);
  } else {
    for (size_t i = 0; i < sizeof v; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  }
}

template <class T>
inline T load_le(const uint8_t* p) {
  T v;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof v);
  } else {
    v = 0;
    for (size_t i = 0; i < sizeof v; ++i) v |= static_cast<T>(p[i]) << (8 * i);
  }
  return v;
}

// Little-endian load of the k < 8 bytes at p.
inline uint64_t load_le_partial(const uint8_t* p, size_t k) {
  uint64_t v = 0;
  for (size_t i = 0; i < k; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

[[noreturn]] void too_wide(std::span<const uint64_t> v, unsigned bits) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] >> bits != 0)
      throw Error(Exit::software, "cannot pack element " + std::to_string(i) + " (value " + std::to_string(v[i]) +
                                      ") in " + std::to_string(bits) + " bits");
  throw Error(Exit::software, "cannot pack a vector in " + std::to_string(bits) + " bits");
}

// Whole-byte widths: each element is a little-endian T.
template <class T>
void pack_words(std::span<const uint64_t> v, uint8_t* dst) {
  uint64_t over = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if constexpr (sizeof(T) < 8) over |= v[i] >> (8 * sizeof(T));
    store_le(dst + i * sizeof(T), static_cast<T>(v[i]));
  }
  if (over != 0) too_wide(v, 8 * sizeof(T));
}

// Other whole-byte widths (24, 40, 48, 56 bits): B bytes per element, written as 8-byte stores in
// increasing order, each one's high bytes (zero when the element fits) overwritten by the next;
// the last elements byte by byte, so nothing is written past this vector's n * B bytes.
template <unsigned B>
void pack_bytes(std::span<const uint64_t> v, uint8_t* dst) {
  const size_t n = v.size();
  uint64_t over = 0;
  size_t i = 0;
  for (; i < n && i * B + 8 <= n * B; ++i) {
    over |= v[i] >> (8 * B);
    store_le(dst + i * B, v[i]);
  }
  for (; i < n; ++i) {
    over |= v[i] >> (8 * B);
    for (unsigned k = 0; k < B; ++k) dst[i * B + k] = static_cast<uint8_t>(v[i] >> (8 * k));
  }
  if (over != 0) too_wide(v, 8 * B);
}

template <class T>
void unpack_words(const uint8_t* src, std::vector<uint64_t>& out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = load_le<T>(src + i * sizeof(T));
}

}  // namespace

size_t packed_size(size_t n, unsigned bits) {
  check_bits(bits);
  size_t size;
  if (!size_for(n, bits, size))
    throw Error(Exit::software, std::to_string(n) + " elements of " + std::to_string(bits) + " bits do not fit in memory");
  return size;
}

Bytes pack(std::span<const uint64_t> v, unsigned bits) {
  Bytes out(packed_size(v.size(), bits));
  pack_into(v, bits, out.data());
  return out;
}

void pack_into(std::span<const uint64_t> v, unsigned bits, uint8_t* dst) {
  check_bits(bits);
  switch (bits) {
    case 8: pack_words<uint8_t>(v, dst); return;
    case 16: pack_words<uint16_t>(v, dst); return;
    case 32: pack_words<uint32_t>(v, dst); return;
    case 64: pack_words<uint64_t>(v, dst); return;
    case 24: pack_bytes<3>(v, dst); return;
    case 40: pack_bytes<5>(v, dst); return;
    case 48: pack_bytes<6>(v, dst); return;
    case 56: pack_bytes<7>(v, dst); return;
    default: break;
  }
  // bits < 64 here. A bit buffer of up to 127 bits; the low 64 go out whenever they are full.
  uint64_t over = 0;
  u128 acc = 0;
  unsigned nacc = 0;  // < 64 between elements
  for (uint64_t x : v) {
    over |= x >> bits;
    acc |= static_cast<u128>(x) << nacc;
    nacc += bits;
    if (nacc >= 64) {
      store_le(dst, static_cast<uint64_t>(acc));
      dst += 8;
      acc >>= 64;
      nacc -= 64;
    }
  }
  if (over != 0) too_wide(v, bits);
  for (; nacc > 0; nacc = nacc > 8 ? nacc - 8 : 0) {
    *dst++ = static_cast<uint8_t>(acc);
    acc >>= 8;
  }
}

void check_packed(std::span<const uint8_t> data, size_t n, unsigned bits) {
  check_bits(bits);
  size_t expected = 0;
  const bool fits = size_for(n, bits, expected);
  if (!fits || data.size() != expected)
    throw Error(Exit::data, "packed vector of " + std::to_string(n) + " elements of " + std::to_string(bits) +
                                " bits should be " + (fits ? std::to_string(expected) : std::string("over 2^64")) +
                                " bytes, but is " + std::to_string(data.size()) + " bytes");
  // n * bits mod 8: the used bits of the last byte; the rest must be zero padding.
  if (const unsigned used = static_cast<unsigned>((n % 8) * bits % 8); used != 0 && data.back() >> used != 0)
    throw Error(Exit::data, "packed vector has nonzero padding bits");
}

std::vector<uint64_t> unpack(std::span<const uint8_t> data, size_t n, unsigned bits) {
  check_packed(data, n, bits);
  std::vector<uint64_t> out(n);
  const uint8_t* src = data.data();
  switch (bits) {
    case 8: unpack_words<uint8_t>(src, out); return out;
    case 16: unpack_words<uint16_t>(src, out); return out;
    case 32: unpack_words<uint32_t>(src, out); return out;
    case 64: unpack_words<uint64_t>(src, out); return out;
    default: break;
  }
  const uint64_t mask = (uint64_t{1} << bits) - 1;  // bits < 64 here
  size_t i = 0;
  if (bits <= 56) {
    // Each element lies within the 8 bytes starting at its first byte: independent
    // unaligned loads, as long as those 8 bytes are inside the data.
    size_t bit = 0;
    for (; i < n && bit / 8 + 8 <= data.size(); ++i, bit += bits)
      out[i] = (load_le<uint64_t>(src + bit / 8) >> (bit % 8)) & mask;
    src += bit / 8;
    // Continue with a bit buffer from the byte that holds element i's first bit.
    const unsigned skip = static_cast<unsigned>(bit % 8);
    if (i < n) {
      const size_t left = static_cast<size_t>(data.data() + data.size() - src);
      u128 acc = load_le_partial(src, left);
      acc >>= skip;
      for (; i < n; ++i) {
        out[i] = static_cast<uint64_t>(acc) & mask;
        acc >>= bits;
      }
    }
    return out;
  }
  // 57..63 bits: a streaming bit buffer.
  const uint8_t* end = data.data() + data.size();
  u128 acc = 0;
  unsigned nacc = 0;
  for (; i < n; ++i) {
    if (nacc < bits) {
      if (end - src >= 8) {
        acc |= static_cast<u128>(load_le<uint64_t>(src)) << nacc;
        src += 8;
        nacc += 64;
      } else {
        const size_t left = static_cast<size_t>(end - src);
        acc |= static_cast<u128>(load_le_partial(src, left)) << nacc;
        src = end;
        nacc += static_cast<unsigned>(8 * left);
      }
    }
    out[i] = static_cast<uint64_t>(acc) & mask;
    acc >>= bits;
    nacc -= bits;
  }
  return out;
}

namespace {

// Element `bit / bits` of a packed vector of `size` bytes, its first bit at `bit`: any width, any
// position (the slow path, for the last elements and widths above 56 bits).
inline uint64_t element_at(const uint8_t* data, size_t size, size_t bit, unsigned bits, uint64_t mask) {
  const size_t at = bit / 8;
  const unsigned shift = static_cast<unsigned>(bit % 8);
  const size_t left = size - at;
  const uint64_t lo = left >= 8 ? load_le<uint64_t>(data + at) : load_le_partial(data + at, left);
  if (shift + bits <= 64) return (lo >> shift) & mask;
  // 57 to 63 bits, not byte-aligned: the element's last bits are in a ninth byte.
  return ((lo >> shift) | (uint64_t{data[at + 8]} << (64 - shift))) & mask;
}

// sum[i] = add(sum[i], element first + i) for i < count. Bits is the width when known at compile
// time (the common ones), 0 otherwise.
template <unsigned Bits, class Add>
void unpack_add_range(const uint8_t* data, size_t size, unsigned bits, size_t first, size_t count, uint64_t* sum,
                      Add add) {
  if constexpr (Bits != 0) bits = Bits;
  const uint64_t mask = bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  size_t i = 0, bit = first * bits;
  if (bits <= 56) {
    // Each element lies within the 8 bytes from its first byte: one unaligned load each, while
    // those 8 bytes are inside the data.
    for (; i < count && bit / 8 + 8 <= size; ++i, bit += bits)
      sum[i] = add(sum[i], (load_le<uint64_t>(data + bit / 8) >> (bit % 8)) & mask);
  }
  for (; i < count; ++i, bit += bits) sum[i] = add(sum[i], element_at(data, size, bit, bits, mask));
}

template <class Add>
void unpack_add_any(const uint8_t* data, size_t size, unsigned bits, size_t first, size_t count, uint64_t* sum,
                    Add add) {
  switch (bits) {
    case 8: return unpack_add_range<8>(data, size, bits, first, count, sum, add);
    case 16: return unpack_add_range<16>(data, size, bits, first, count, sum, add);
    case 24: return unpack_add_range<24>(data, size, bits, first, count, sum, add);
    case 32: return unpack_add_range<32>(data, size, bits, first, count, sum, add);
    default: return unpack_add_range<0>(data, size, bits, first, count, sum, add);
  }
}

}  // namespace

void unpack_add(std::span<uint64_t> sum, std::span<const std::span<const uint8_t>> vectors, Modulus m,
                unsigned threads) {
  const unsigned bits = m.bits();
  const size_t n = sum.size();
  for (const auto& v : vectors) check_packed(v, n, bits);
  if (vectors.empty() || n == 0) return;
  // Tiles of the sum that stay in L1 while every vector's part of it is added; the threads take
  // whole runs of tiles, so each adds into its own part of the sum.
  constexpr size_t kTile = 2048;
  const size_t tiles = (n + kTile - 1) / kTile;
  const size_t workers = std::max<size_t>(1, std::min<size_t>(threads, tiles));
  const uint64_t R = m.R;
  parallel_for(workers, static_cast<unsigned>(workers), [&](size_t w) {
    for (size_t k = tiles * w / workers; k < tiles * (w + 1) / workers; ++k) {
      const size_t first = k * kTile, count = std::min(kTile, n - first);
      uint64_t* acc = sum.data() + first;
      for (const auto& v : vectors) {
        if (m.pow2())
          unpack_add_any(v.data(), v.size(), bits, first, count, acc,
                         [R](uint64_t a, uint64_t b) { return (a + b) & (R - 1); });
        else
          unpack_add_any(v.data(), v.size(), bits, first, count, acc, [m](uint64_t a, uint64_t b) { return m.add(a, b); });
      }
    }
  });
}

size_t first_outside(std::span<const uint8_t> data, size_t n, Modulus m) {
  const unsigned bits = m.bits();
  check_packed(data, n, bits);
  if (m.pow2()) return n;  // bits(R) bits hold exactly [0, R)
  constexpr size_t kTile = 2048;
  uint64_t tile[kTile];
  for (size_t first = 0; first < n; first += kTile) {
    const size_t count = std::min(kTile, n - first);
    std::fill_n(tile, count, 0);
    unpack_add_any(data.data(), data.size(), bits, first, count, tile, [](uint64_t, uint64_t b) { return b; });
    for (size_t i = 0; i < count; ++i)
      if (tile[i] >= m.R) return first + i;
  }
  return n;
}

}  // namespace secagg

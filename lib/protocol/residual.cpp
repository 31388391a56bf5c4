#include "residual.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <functional>
#include <numeric>

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "le.hpp"

namespace secagg::ssga {
namespace {

const char* dtype_name(npy::Dtype d) { return d == npy::Dtype::f32 ? "float32" : "float64"; }

std::string shape_text(const std::vector<uint64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ")";
}

template <class F>
void check_finite(const std::vector<F>& v, const std::string& origin) {
  // The common case (all finite) in one branch-free pass; the index only on failure.
  bool ok = true;
  for (F x : v) ok &= std::isfinite(x);
  if (ok) return;
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw Error(Exit::data, fmt::format("{}: residual entry {} is {}", origin, i, static_cast<double>(v[i])));
}

template <class F>
void add_into(std::vector<F>& r, std::span<const double> u, const std::string& r_origin,
              const std::string& u_origin) {
  bool ok = true;
  for (size_t i = 0; i < r.size(); ++i) {
    F s = static_cast<F>(static_cast<double>(r[i]) + u[i]);
    r[i] = s;
    ok &= std::isfinite(s);
  }
  if (ok) return;
  for (size_t i = 0; i < u.size(); ++i)
    if (!std::isfinite(u[i])) throw Error(Exit::data, fmt::format("{}: update entry {} is {}", u_origin, i, u[i]));
  for (size_t i = 0; i < r.size(); ++i)
    if (!std::isfinite(r[i]))
      throw Error(Exit::data, fmt::format("{}: residual entry {} overflows {} once the update ({}) is added", r_origin,
                                          i, dtype_name(sizeof(F) == 4 ? npy::Dtype::f32 : npy::Dtype::f64),
                                          u_origin));
}

// |x| as an unsigned integer that orders like |x| for every non-NaN float: the IEEE 754 bits with
// the sign cleared (so -0 and 0 are one key).
template <class F>
struct Key;
template <>
struct Key<float> {
  using type = uint32_t;
  static type of(float x) { return std::bit_cast<uint32_t>(x) & 0x7fffffffu; }
  static double value(type k) { return static_cast<double>(std::bit_cast<float>(k)); }
};
template <>
struct Key<double> {
  using type = uint64_t;
  static type of(double x) { return std::bit_cast<uint64_t>(x) & 0x7fffffffffffffffull; }
  static double value(type k) { return std::bit_cast<double>(k); }
};

constexpr unsigned kBinBits = 16;

template <class F>
TopK top_of(const std::vector<F>& r, uint32_t k) {
  using K = typename Key<F>::type;
  // The top kBinBits of the key below its (always clear) sign bit: the exponent and the leading
  // mantissa bits. A 2^16-entry histogram (256 KiB) stays in L2, and a bin is 1/256 of a binade
  // for float32 (1/32 for float64), so the threshold's bin is usually a tiny fraction of N.
  constexpr unsigned kShift = sizeof(K) * 8 - 1 - kBinBits;
  size_t n = r.size();
  TopK out;
  if (n == 0) return out;
  if (k >= n) {
    out.indices.resize(n);
    std::iota(out.indices.begin(), out.indices.end(), uint32_t{0});
    K m = 0;
    for (F x : r) m = std::max(m, Key<F>::of(x));
    out.max_abs = Key<F>::value(m);
    return out;
  }

  std::vector<uint32_t> hist(size_t{1} << kBinBits, 0);
  for (F x : r) ++hist[Key<F>::of(x) >> kShift];
  // The bin b holding the k-th largest key; `above` keys lie in higher bins.
  size_t above = 0, b = hist.size() - 1;
  while (above + hist[b] < k) above += hist[b--];
  size_t need = k - above;  // 1 <= need <= hist[b]

  // One ordered pass: the indices at or above bin b (in index order), and bin b's keys.
  K lo = static_cast<K>(static_cast<K>(b) << kShift);
  std::vector<uint32_t> cand;
  cand.reserve(above + hist[b]);
  std::vector<K> bin;
  bin.reserve(hist[b]);
  for (size_t i = 0; i < n; ++i) {
    K key = Key<F>::of(r[i]);
    if (key >= lo) {
      cand.push_back(static_cast<uint32_t>(i));
      if ((key >> kShift) == b) bin.push_back(key);
    }
  }
  // The threshold t: the need-th largest key of bin b. All keys above t are taken, and of those
  // equal to t the first `ties` in index order.
  std::nth_element(bin.begin(), bin.begin() + static_cast<std::ptrdiff_t>(need - 1), bin.end(), std::greater<K>());
  K t = bin[need - 1];
  size_t greater_in_bin = 0;
  for (K key : bin) greater_in_bin += key > t;
  size_t ties = need - greater_in_bin;

  out.indices.reserve(k);
  K m = 0;
  for (uint32_t i : cand) {
    K key = Key<F>::of(r[i]);
    if (key > t || (key == t && ties > 0)) {
      if (key == t) --ties;
      out.indices.push_back(i);
      m = std::max(m, key);
    }
  }
  out.max_abs = Key<F>::value(m);
  return out;
}

void check_indices(size_t n, std::span<const uint32_t> indices, const std::string& origin) {
  for (uint32_t j : indices)
    if (j >= n)
      throw Error(Exit::data, fmt::format("{}: index {} is out of range: the residual has {} entries", origin, j, n));
}

}  // namespace

Residual zero_residual(size_t n, npy::Dtype dtype, const std::string& origin) {
  if (n > npy::kMaxElements)
    throw Error(Exit::data, fmt::format("{}: a residual of {} entries is longer than the 2^30 accepted", origin, n));
  Residual r;
  r.dtype = dtype;
  r.origin = origin;
  if (dtype == npy::Dtype::f32)
    r.f32.assign(n, 0.0f);
  else
    r.f64.assign(n, 0.0);
  return r;
}

Residual parse_residual(std::span<const uint8_t> bytes, size_t expected_length, const std::string& origin) {
  if (!npy::looks_like_npy(bytes))
    throw Error(Exit::data, origin + ": a residual file must be a .npy array (float32 or float64)");
  npy::Header h = npy::parse_header(bytes, origin);
  if (h.shape.size() != 1)
    throw Error(Exit::data, fmt::format("{}: a residual is a one-dimensional array, this one has shape {}", origin,
                                        shape_text(h.shape)));
  if (expected_length != 0 && h.count != expected_length)
    throw Error(Exit::data, fmt::format("{}: the residual has {} entries, expected {}", origin, h.count,
                                        expected_length));
  Residual r;
  r.dtype = h.dtype;
  r.origin = origin;
  const uint8_t* p = bytes.data() + h.data_offset;
  size_t n = static_cast<size_t>(h.count);
  if (h.dtype == npy::Dtype::f32) {
    r.f32.resize(n);
    for (size_t i = 0; i < n; ++i, p += 4) {
      uint32_t v = le::get32(p);
      r.f32[i] = std::bit_cast<float>(h.big_endian ? __builtin_bswap32(v) : v);
    }
    check_finite(r.f32, origin);
  } else {
    r.f64.resize(n);
    for (size_t i = 0; i < n; ++i, p += 8) {
      uint64_t v = le::get64(p);
      r.f64[i] = std::bit_cast<double>(h.big_endian ? __builtin_bswap64(v) : v);
    }
    check_finite(r.f64, origin);
  }
  return r;
}

Residual load_residual(const std::string& path, size_t expected_length, npy::Dtype if_missing) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    if (expected_length == 0)
      throw Error(Exit::usage, path + ": no residual file yet, and no length to start one with");
    return zero_residual(expected_length, if_missing, path);
  }
  // A header (at most npy::kMaxHeaderBytes plus its preamble) and 8 bytes an entry at most.
  uint64_t bound = expected_length == 0 ? kMaxReadBytes : uint64_t{expected_length} * 8 + npy::kMaxHeaderBytes + 12;
  return parse_residual(read_file(path, bound), expected_length, path);
}

Bytes residual_npy(const Residual& r) {
  return r.dtype == npy::Dtype::f32 ? npy::write_floats(std::span<const float>(r.f32))
                                    : npy::write_floats(std::span<const double>(r.f64), npy::Dtype::f64);
}

void save_residual(const std::string& path, const Residual& r) { write_file_atomic(path, residual_npy(r), 0600); }

void add_update(Residual& r, std::span<const double> update, const std::string& update_origin) {
  if (update.size() != r.size())
    throw Error(Exit::data, fmt::format("{}: the update has {} entries, the residual ({}) {}", update_origin,
                                        update.size(), r.origin, r.size()));
  if (r.dtype == npy::Dtype::f32)
    add_into(r.f32, update, r.origin, update_origin);
  else
    add_into(r.f64, update, r.origin, update_origin);
}

TopK select_top(const Residual& r, uint32_t k) {
  if (k == 0) throw Error(Exit::usage, "the number of entries to select must be at least 1");
  return r.dtype == npy::Dtype::f32 ? top_of(r.f32, k) : top_of(r.f64, k);
}

std::vector<double> gather(const Residual& r, std::span<const uint32_t> indices, const std::string& origin) {
  check_indices(r.size(), indices, origin);
  std::vector<double> out(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) out[i] = r.at(indices[i]);
  return out;
}

void settle(Residual& r, std::span<const uint32_t> indices, const std::string& origin) {
  check_indices(r.size(), indices, origin);
  if (r.dtype == npy::Dtype::f32)
    for (uint32_t j : indices) r.f32[j] = 0.0f;
  else
    for (uint32_t j : indices) r.f64[j] = 0.0;
}

}  // namespace secagg::ssga

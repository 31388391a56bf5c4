// A client's side of sparse secure aggregation (van Rooij et al., SSGA, "Residual"): the residual
// R_k it keeps between rounds, the top entries it proposes for the union M, and the settling of
// R_k once M has been sent. Per round:
//
//   Residual r = load_residual(path, N, dtype);   // zeros if the file does not exist yet
//   add_update(r, update, update_origin);         // R_k += update_k
//   TopK t = select_top(r, per_client);           // i_k and the client's max |R_k|
//   save_residual(path, r);
//   ... the union session agrees on M, the value session sends gather(r, M) ...
//   settle(r, M, origin); save_residual(path, r); // R_k[M] = 0; entries not sent stay
//
// A residual file is a one-dimensional .npy array, float32 or float64, and keeps its dtype from
// round to round. It is private client data (it tells which parameters the client's data moved
// and how far): it is written with mode 0600, atomically (a failed save leaves the old file).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "npy.hpp"

namespace secagg::ssga {

// The values live in f32 or f64, as dtype says (the other vector is empty): a float32 residual
// stays float32 in memory, half the bytes for select_top to scan. Every value is finite.
struct Residual {
  npy::Dtype dtype = npy::Dtype::f32;
  std::vector<float> f32;
  std::vector<double> f64;
  std::string origin;  // the file it came from, for errors

  size_t size() const { return dtype == npy::Dtype::f32 ? f32.size() : f64.size(); }
  double at(size_t i) const { return dtype == npy::Dtype::f32 ? static_cast<double>(f32[i]) : f64[i]; }
};

// n zeros of the dtype. n above npy::kMaxElements is Error(Exit::data) naming origin (indices
// must fit 32 bits).
Residual zero_residual(size_t n, npy::Dtype dtype, const std::string& origin);

// Parse a residual file's bytes. Error(Exit::data) naming origin: not a .npy file, a dtype other
// than float32/float64 (either byte order), a shape other than (n,), a length other than
// expected_length (0: any), a NaN or infinite entry (its index is named).
Residual parse_residual(std::span<const uint8_t> bytes, size_t expected_length, const std::string& origin);

// The residual file at path, or, if no file exists there (ENOENT), expected_length zeros of
// if_missing (the caller passes the update's length and dtype). Read errors are read_file's
// (Exit::noinput, noperm, ioerr); contents as parse_residual. A missing file with
// expected_length 0 is Error(Exit::usage): there is no length to start from.
Residual load_residual(const std::string& path, size_t expected_length, npy::Dtype if_missing);

// The .npy bytes: version 1.0, little-endian, shape (n,), r's dtype.
Bytes residual_npy(const Residual& r);

// Writes residual_npy(r) to path with write_file_atomic, mode 0600 (also when replacing a file
// of another mode): the file is the old one or the new one, never a mixture.
void save_residual(const std::string& path, const Residual& r);

// R_k += update, entry by entry, as numpy's `r += u` computes it: in float64 and rounded to the
// residual's dtype. The residual keeps its dtype: a float64 update is rounded into a float32
// residual (once, after the addition), a float32 update converts exactly into a float64 one.
// (update holds doubles: floats.hpp and npy.hpp read either dtype into them exactly.)
// Error(Exit::data): an update of another length or with a NaN or infinite entry (naming
// update_origin and the index), or a sum that overflows the residual's dtype (naming r.origin).
// On error r is partly updated and must not be saved; its file is untouched until save_residual.
void add_update(Residual& r, std::span<const double> update, const std::string& update_origin);

struct TopK {
  std::vector<uint32_t> indices;  // ascending, no repeats: i_k
  double max_abs = 0;             // max |R_k| over all entries, = |R_k[top index]|
};

// The k entries of largest |R_k|, exactly min(k, N) of them. Ties in |value| go to the lower index,
// so the result is a function of the residual alone (no randomness, no dependence on the
// selection algorithm). Entries that are zero (or -0) take part like any other: when fewer than
// k entries are non-zero the rest of i_k are zeros at the lowest indices. That keeps |i_k| = k
// every round, so the union sketch is sized by K alone and its total count says nothing about
// how sparse a client's residual is; sending a zero is harmless (it adds nothing to the sum and
// settling it changes nothing). k = 0 is Error(Exit::usage).
// O(N): a 2^16-bin histogram of the top bits of |x| finds the bin of the k-th largest magnitude,
// nth_element within that bin gives the exact threshold, and one ordered pass over the entries
// at or above the bin picks the result (|x| compares as its bit pattern with the sign cleared).
TopK select_top(const Residual& r, uint32_t k);

// R_k[j] for j in indices, in their order, as doubles (the values encode sends). An index >= N
// is Error(Exit::data) naming origin (the selection's file).
std::vector<double> gather(const Residual& r, std::span<const uint32_t> indices, const std::string& origin);

// R_k[j] = 0 for j in indices (the agreed union M): those entries were sent. Every index is
// checked (< N, Error(Exit::data) naming origin) before any entry changes.
void settle(Residual& r, std::span<const uint32_t> indices, const std::string& origin);

}  // namespace secagg::ssga

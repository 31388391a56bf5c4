// The union of the clients' top-k index sets and the largest of their maxima, computed with a
// secure sum (van Rooij et al., SSGA: "the shared mask" and "the adaptive maximum"; issue 12).
// Each client encodes its index set i_k (sorted, in [0, N), at most per_client of them) and its
// largest |residual| m_k as a vector of ring elements below R = 2^bits; the protocol sums the
// vectors of the surviving clients mod R, and decode_union reads the union from the sum.
//
// UnionMode::private_ (docs/sparse.md, "The private union"): the server learns how many clients
// chose each index and a histogram of the maxima by power-of-two bucket, never who chose what.
// The vector is
//
//   [ m IBLT cells | histogram elements | totals ]
//
// An IBLT of m cells in three sub-tables of m/3; index x lands in one cell of each, at positions
// from a BLAKE2b hash keyed per session, and adds to each the ring element
//
//   E(x) = 1 + x * 2^a + h(x) * 2^(a+b)          (count | index sum | check sum)
//
// with a = bit width of n, b = bit width of n (N - 1) and h a hash_bits-wide keyed check hash.
// A cell holding one distinct index x chosen by c <= n clients is c E(x): its three fields hold
// c, c x and c h(x) without carrying into each other, so it can be read ("pure"); a cell holding
// several is read as nothing, and subtracting c E(x) mod R removes x exactly whatever carries the
// mixture made. Decoding peels pure cells until none is left; it succeeds only if every cell
// ends zero and the totals (below) match.
// The histogram packs one a-bit count per bucket, floor(bits / a) of them per element. The last
// element is 1 + |i_k| 2^a mod R per client: the number of clients in its low a bits, the number of
// (client, index) pairs above, both checked against what the table and histogram decode to.
//
// UnionMode::plain (the paper's behaviour, for comparison): client u owns slots
// [(u - 1)(per_client + 1), u (per_client + 1)): its indices + 1 in ascending order (0 = unused),
// then the float32 bits of its maximum + 1 (0 = the client is not in the sum). R = 2^32, or
// 2^bitwidth(N) if larger. The server learns every client's set and maximum.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "envelope.hpp"
#include "messages.hpp"

namespace secagg {

enum class UnionMode : uint8_t { plain = 1, private_ = 2 };

// "plain" / "private".
const char* union_mode_name(UnionMode m);

// The maxima histogram: bucket 0 holds m == 0; bucket 1 + (e + 149) holds the m > 0 whose
// smallest e with m <= 2^e is e, for e in [-149, 128] (every finite non-negative float).
inline constexpr int kMinMaxExponent = -149, kMaxMaxExponent = 128;
inline constexpr size_t kMaxBuckets = 2 + kMaxMaxExponent - kMinMaxExponent;
// Error(Exit::data) for NaN, infinite or negative m.
size_t max_bucket(float m);
// The e of a bucket >= 1.
int bucket_exponent(size_t bucket);

// The IBLT's size: m = the larger of kMinCells and
//   (cells_factor / kDefaultCellsFactor) x max(1.5 U, 3 cbrt(U^2 / (2 kPairFailure)))
// rounded up to a multiple of 3, U = min(N, n x per_client) the union bound. The commonest reason
// a table of U distinct indices does not decode is two of them sharing all three cells,
// probability about (U^2 / 2) (3 / m)^3: 1.5 U cells alone leave it at several percent for a few
// hundred indices, so the second term keeps it near kPairFailure at the default factor, and a
// retry with twice the factor divides it by 8 (docs/sparse.md, "The private union").
inline constexpr double kDefaultCellsFactor = 1.5;
inline constexpr uint32_t kMinCells = 24;
inline constexpr double kPairFailure = 0.005;

struct UnionSpec {
  UnionMode mode = UnionMode::private_;
  uint64_t model_length = 0;  // N
  uint32_t clients = 0;       // n
  uint32_t per_client = 0;    // the most indices one client sends: floor(K / n)
  unsigned modulus_bits = 0;  // R = 2^modulus_bits
  uint64_t length = 0;        // ring elements per vector

  // private_ only.
  double cells_factor = 0;
  uint32_t cells = 0;          // m, a multiple of 3
  unsigned count_bits = 0;     // a
  unsigned index_bits = 0;     // b
  unsigned hash_bits = 0;      // the check hash's width (the check field is modulus_bits - a - b)
  unsigned hist_per_element = 0;
  uint32_t hist_elements = 0;
};

// The spec of a union session. Error(Exit::usage), one line naming the value, for N outside
// [1, 2^32], n outside [1, 2^20], per_client outside [1, N], a cells_factor that is not a finite
// number in (0, 64], a vector longer than kMaxLength, and (private) n and N that leave fewer
// than 16 bits for the check hash.
UnionSpec size_union(UnionMode mode, uint64_t model_length, uint32_t clients, uint32_t per_client,
                     double cells_factor = kDefaultCellsFactor);
// The spec a union session's parameters describe (sparse union_plain or union_private, with the
// union_cells setup chose). Error(Exit::usage), one line, if they describe none, or if the
// session's length or modulus is not the spec's.
UnionSpec union_spec(const Params& p);
inline uint64_t union_vector_length(const UnionSpec& s) { return s.length; }
inline unsigned union_modulus_bits(const UnionSpec& s) { return s.modulus_bits; }

// One client's union vector (union_vector_length elements, each below 2^union_modulus_bits).
// Error(Exit::data), one line, for a client id outside [1, n], indices that are not strictly
// ascending or not below N, more than per_client of them, and a NaN, infinite or negative max_abs.
std::vector<uint64_t> encode_union(const UnionSpec& s, const SessionId& sid, uint32_t client_id,
                                   std::span<const uint32_t> sorted_indices, float max_abs);

struct UnionView {
  std::vector<uint32_t> indices;    // the union M, ascending
  std::vector<uint32_t> counts;     // counts[j]: the clients that chose indices[j]
  std::vector<uint32_t> histogram;  // kMaxBuckets entries: the clients per max_bucket
  uint32_t clients = 0;             // clients in the sum: the histogram's total
  std::optional<int> top_bucket;    // the exponent of the highest bucket above zero, if any
  double r_max = 0;                 // private_: 2^top_bucket (0 if none); plain: the exact maximum

  // plain only, aligned: the ids of the clients in the sum, ascending, with their sets and maxima.
  std::vector<uint32_t> client_ids;
  std::vector<std::vector<uint32_t>> per_client;
  std::vector<float> per_client_max;
};

// Decodes a sum mod 2^union_modulus_bits of union vectors. Error(Exit::data), one line starting
// with origin, for a sum of the wrong length or with an element not below R, a sum no set of
// clients' vectors can give, and (private_) a table that does not peel: too many distinct
// indices or a corrupted sum, with the retry (a new union session with a larger
// --union-cells-factor). It never returns a partial union.
UnionView decode_union(const UnionSpec& s, const SessionId& sid, std::span<const uint64_t> sum,
                       const std::string& origin = "union sum");

}  // namespace secagg

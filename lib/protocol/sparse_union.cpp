#include "sparse_union.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "crypto.hpp"
#include "error.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "uint128.hpp"

namespace secagg {

const char* union_mode_name(UnionMode m) { return m == UnionMode::plain ? "plain" : "private"; }

size_t max_bucket(float m) {
  if (std::isnan(m) || std::isinf(m)) throw Error(Exit::data, fmt::format("the maximum |residual| is {}, not a finite number", m));
  if (m < 0) throw Error(Exit::data, fmt::format("the maximum |residual| is {}, below zero", m));
  if (m == 0) return 0;
  int e = 0;
  const double f = std::frexp(static_cast<double>(m), &e);  // m = f 2^e, f in [0.5, 1)
  if (f == 0.5) --e;                                        // m is 2^(e-1) exactly
  return static_cast<size_t>(1 + (e - kMinMaxExponent));
}

int bucket_exponent(size_t bucket) { return static_cast<int>(bucket) - 1 + kMinMaxExponent; }

namespace {

constexpr unsigned kRingBits = 62;  // the widest ring (Modulus: R <= 2^62)
constexpr unsigned kMinHashBits = 16, kMaxHashBits = 32;
constexpr double kMaxCellsFactor = 64;

unsigned width(uint64_t v) { return static_cast<unsigned>(std::bit_width(v)); }

}  // namespace

UnionSpec size_union(UnionMode mode, uint64_t model_length, uint32_t clients, uint32_t per_client,
                     double cells_factor) {
  if (mode != UnionMode::plain && mode != UnionMode::private_)
    throw Error(Exit::usage, fmt::format("union mode {} is neither plain nor private", static_cast<unsigned>(mode)));
  if (model_length < 1 || model_length > (uint64_t{1} << 32))
    throw Error(Exit::usage, fmt::format("model length N = {} is outside [1, 2^32]", model_length));
  if (clients < 1 || clients > kMaxClients)
    throw Error(Exit::usage, fmt::format("clients n = {} is outside [1, {}]", clients, kMaxClients));
  if (per_client < 1 || per_client > model_length)
    throw Error(Exit::usage, fmt::format("indices per client floor(K / n) = {} is outside [1, N = {}] (K below n?)",
                                         per_client, model_length));
  UnionSpec s;
  s.mode = mode;
  s.model_length = model_length;
  s.clients = clients;
  s.per_client = per_client;

  if (mode == UnionMode::plain) {
    // Indices + 1 go up to N; a maximum's float32 bits + 1 stay below 2^31.
    s.modulus_bits = std::max(32u, width(model_length));
    s.length = uint64_t{clients} * (uint64_t{per_client} + 1);
    if (s.length > kMaxLength)
      throw Error(Exit::usage, fmt::format("a plain union of n = {} clients x (floor(K / n) + 1) = {} slots needs {} "
                                           "elements, above the limit 2^30",
                                           clients, uint64_t{per_client} + 1, s.length));
    return s;
  }

  if (!(cells_factor > 0 && cells_factor <= kMaxCellsFactor))
    throw Error(Exit::usage, fmt::format("union cells factor {} is not a number in (0, {}]", cells_factor, kMaxCellsFactor));
  s.cells_factor = cells_factor;
  const uint64_t bound = std::min<uint64_t>(model_length, uint64_t{clients} * per_client);  // U
  const double u = static_cast<double>(bound);
  const double want = std::ceil(cells_factor / kDefaultCellsFactor *
                                std::max(kDefaultCellsFactor * u, 3 * std::cbrt(u * u / (2 * kPairFailure))));
  if (want > static_cast<double>(kMaxLength))
    throw Error(Exit::usage, fmt::format("a union table of {} x {} indices is above the limit of 2^30 elements",
                                         cells_factor, bound));
  uint64_t m = std::max<uint64_t>(kMinCells, static_cast<uint64_t>(want));
  m = (m + 2) / 3 * 3;
  s.cells = static_cast<uint32_t>(m);

  // Every field holds the sum of what n clients put in one pure cell, so none carries.
  s.count_bits = width(clients);
  s.index_bits = std::max(1u, width(uint64_t{clients} * (model_length - 1)));
  const unsigned used = s.count_bits + s.index_bits;
  const unsigned room = used < kRingBits ? kRingBits - used : 0;
  unsigned h = kMaxHashBits;
  while (h >= kMinHashBits && width(uint64_t{clients} * ((uint64_t{1} << h) - 1)) > room) --h;
  if (h < kMinHashBits)
    throw Error(Exit::usage, fmt::format("a private union of n = {} clients over N = {} indices leaves {} bits for the "
                                         "check hash of its table, below the 16 it needs: use fewer clients or a "
                                         "plain union",
                                         clients, model_length, room >= s.count_bits ? room - s.count_bits : 0));
  s.hash_bits = h;
  s.modulus_bits = used + width(uint64_t{clients} * ((uint64_t{1} << h) - 1));
  s.hist_per_element = s.modulus_bits / s.count_bits;
  s.hist_elements = static_cast<uint32_t>((kMaxBuckets + s.hist_per_element - 1) / s.hist_per_element);
  s.length = m + s.hist_elements + 1;
  if (s.length > kMaxLength)
    throw Error(Exit::usage, fmt::format("a union table of {} cells is above the limit of 2^30 elements", m));
  return s;
}

UnionSpec union_spec(const Params& p) {
  if (p.sparse != SparseKind::union_plain && p.sparse != SparseKind::union_private)
    throw Error(Exit::usage, fmt::format("a {} session is not a union session", sparse_name(p.sparse)));
  const UnionMode mode = p.sparse == SparseKind::union_plain ? UnionMode::plain : UnionMode::private_;
  // The field widths depend on n and N only; the table's size is the one setup chose.
  UnionSpec s = size_union(mode, p.model_length, p.clients, p.per_client);
  if (mode == UnionMode::private_) {
    if (p.union_cells < kMinCells || p.union_cells % 3 != 0)
      throw Error(Exit::usage, fmt::format("union cells {} is not a multiple of 3 of at least {}", p.union_cells,
                                           kMinCells));
    s.cells_factor = 0;  // not recorded: the cells are
    s.cells = p.union_cells;
    s.length = uint64_t{s.cells} + s.hist_elements + 1;
  }
  if (p.length != s.length || p.modulus != (uint64_t{1} << s.modulus_bits))
    throw Error(Exit::usage, fmt::format("a {} session of N = {}, {} clients and {} indices each has vectors of {} "
                                         "elements mod 2^{}, not {} mod {}",
                                         sparse_name(p.sparse), p.model_length, p.clients, p.per_client, s.length,
                                         s.modulus_bits, p.length, p.modulus));
  return s;
}

namespace {

constexpr std::string_view kHashLabel = "secagg/v1 sparse-union";

struct HashKey {
  Digest32 key;
};

// Public to every party (the session id is): it makes the cells an index lands in, and its
// check hash, differ from session to session, so that a retry re-draws the table.
HashKey hash_key(const SessionId& sid) {
  std::vector<uint8_t> in(kHashLabel.begin(), kHashLabel.end());
  in.push_back(0);
  in.insert(in.end(), sid.begin(), sid.end());
  return {blake2b_256(in)};
}

struct Slots {
  uint64_t pos[3];   // absolute cell numbers, one in each sub-table
  uint64_t element;  // E(x)
};

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Slots slots_of(const UnionSpec& s, const HashKey& k, uint64_t x) {
  uint8_t in[8];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(x >> (8 * i));
  const Digest32 d = blake2b_256_keyed(k.key, in);
  const uint64_t third = s.cells / 3;
  Slots r;
  for (int t = 0; t < 3; ++t)
    r.pos[t] = uint64_t(t) * third + static_cast<uint64_t>((u128{le64(d.data() + 8 * t)} * third) >> 64);
  const uint64_t check = le64(d.data() + 24) >> (64 - s.hash_bits);
  r.element = 1 + (x << s.count_bits) + (check << (s.count_bits + s.index_bits));
  return r;
}

void check_client_input(const UnionSpec& s, uint32_t client_id, std::span<const uint32_t> idx, float max_abs) {
  if (client_id < 1 || client_id > s.clients)
    throw Error(Exit::data, fmt::format("client id {} is outside [1, n = {}]", client_id, s.clients));
  if (idx.size() > s.per_client)
    throw Error(Exit::data, fmt::format("{} indices, more than the {} per client of this union session", idx.size(),
                                        s.per_client));
  for (size_t j = 0; j < idx.size(); ++j) {
    if (idx[j] >= s.model_length)
      throw Error(Exit::data, fmt::format("index {} is not below the model length N = {}", idx[j], s.model_length));
    if (j > 0 && idx[j] == idx[j - 1]) throw Error(Exit::data, fmt::format("index {} is given twice", idx[j]));
    if (j > 0 && idx[j] < idx[j - 1])
      throw Error(Exit::data, fmt::format("indices are not ascending: {} follows {}", idx[j], idx[j - 1]));
  }
  max_bucket(max_abs);  // refuses NaN, infinities and negative values
}

// The histogram, clients, top bucket and r_max from the histogram counts.
void finish_histogram(UnionView& v) {
  v.clients = 0;
  for (uint32_t c : v.histogram) v.clients += c;
  for (size_t b = kMaxBuckets; b-- > 1;)
    if (v.histogram[b] != 0) {
      v.top_bucket = bucket_exponent(b);
      break;
    }
}

[[noreturn]] void not_a_sum(const std::string& origin, const std::string& what) {
  throw Error(Exit::data, fmt::format("{}: not a sum of this union session's vectors: {}", origin, what));
}

void check_sum_shape(const UnionSpec& s, std::span<const uint64_t> sum, const std::string& origin) {
  if (sum.size() != s.length)
    throw Error(Exit::data, fmt::format("{}: {} elements, the {} union session's vectors have {}", origin, sum.size(),
                                        union_mode_name(s.mode), s.length));
  const uint64_t R = uint64_t{1} << s.modulus_bits;
  for (size_t j = 0; j < sum.size(); ++j)
    if (sum[j] >= R)
      throw Error(Exit::data, fmt::format("{}: element {} is {}, not below R = 2^{}", origin, j, sum[j], s.modulus_bits));
}

std::vector<uint64_t> encode_private(const UnionSpec& s, const SessionId& sid, std::span<const uint32_t> idx,
                                     float max_abs) {
  std::vector<uint64_t> v(s.length, 0);
  const uint64_t mask = (uint64_t{1} << s.modulus_bits) - 1;
  if (!idx.empty()) {
    const HashKey k = hash_key(sid);
    for (uint32_t x : idx) {
      const Slots sl = slots_of(s, k, x);
      // Two of one client's indices may share a cell: the cell is their sum mod R.
      for (uint64_t p : sl.pos) v[p] = (v[p] + sl.element) & mask;
    }
  }
  const size_t b = max_bucket(max_abs);
  v[s.cells + b / s.hist_per_element] = uint64_t{1} << (s.count_bits * (b % s.hist_per_element));
  // The client count (the histogram's total, in the low a bits: it cannot wrap there) and above
  // it the number of (client, index) pairs, mod R: the table's own total, checked after peeling.
  v[s.length - 1] = ((uint64_t{idx.size()} << s.count_bits) | 1) & mask;
  return v;
}

std::vector<uint64_t> encode_plain(const UnionSpec& s, uint32_t client_id, std::span<const uint32_t> idx,
                                   float max_abs) {
  std::vector<uint64_t> v(s.length, 0);
  const uint64_t base = uint64_t{client_id - 1} * (uint64_t{s.per_client} + 1);
  for (size_t j = 0; j < idx.size(); ++j) v[base + j] = uint64_t{idx[j]} + 1;
  const float m = max_abs == 0 ? 0.0f : max_abs;  // -0 is +0: the sign bit would read as negative
  v[base + s.per_client] = uint64_t{std::bit_cast<uint32_t>(m)} + 1;
  return v;
}

UnionView decode_private(const UnionSpec& s, const SessionId& sid, std::span<const uint64_t> sum,
                         const std::string& origin) {
  const uint64_t mask = (uint64_t{1} << s.modulus_bits) - 1;
  const uint64_t count_mask = (uint64_t{1} << s.count_bits) - 1, index_mask = (uint64_t{1} << s.index_bits) - 1;
  const uint64_t m = s.cells, third = m / 3;
  const HashKey k = hash_key(sid);

  std::vector<uint64_t> cell(sum.begin(), sum.begin() + m);
  std::vector<uint32_t> todo(m);
  for (uint32_t j = 0; j < m; ++j) todo[j] = static_cast<uint32_t>(m - 1 - j);
  std::vector<std::pair<uint32_t, uint32_t>> found;  // (index, clients)
  bool overrun = false;
  while (!todo.empty()) {
    const uint32_t j = todo.back();
    todo.pop_back();
    const uint64_t v = cell[j];
    const uint64_t c = v & count_mask;
    if (c == 0 || c > s.clients) continue;
    const uint64_t index_sum = (v >> s.count_bits) & index_mask;
    if (index_sum % c != 0) continue;
    const uint64_t x = index_sum / c;
    if (x >= s.model_length) continue;
    const Slots sl = slots_of(s, k, x);
    // Pure: exactly c copies of E(x), and j one of x's cells. The check hash makes a mixed cell
    // pass with probability about 2^-hash_bits x 3 / m (docs/sparse.md).
    if (sl.pos[j / third] != j || v != c * sl.element) continue;
    // A table that decodes never peels more indices than it has cells (a peeled cell stays
    // empty); more means a corrupted sum that would otherwise keep peeling.
    if (found.size() == m) {
      overrun = true;
      break;
    }
    found.emplace_back(static_cast<uint32_t>(x), static_cast<uint32_t>(c));
    const uint64_t remove = c * sl.element;
    for (uint64_t p : sl.pos) {
      cell[p] = (cell[p] - remove) & mask;
      if (p != j) todo.push_back(static_cast<uint32_t>(p));
    }
  }
  const size_t left = overrun ? m : static_cast<size_t>(std::count_if(cell.begin(), cell.end(), [](uint64_t c) { return c != 0; }));
  if (left != 0)
    throw Error(Exit::data,
                fmt::format("{}: the private union table does not decode ({} of its {} cells still hold indices after "
                            "peeling): more distinct indices than it holds, or a corrupted sum; no union is given. "
                            "Retry with a new union session and a larger table, e.g. --union-cells-factor {} (twice {})",
                            origin, left, m, 2 * s.cells_factor, s.cells_factor));

  UnionView view;
  std::sort(found.begin(), found.end());
  view.indices.reserve(found.size());
  view.counts.reserve(found.size());
  uint64_t pairs = 0;
  for (size_t j = 0; j < found.size(); ++j) {
    if (j > 0 && found[j].first == found[j - 1].first)
      not_a_sum(origin, fmt::format("index {} peeled twice", found[j].first));
    view.indices.push_back(found[j].first);
    view.counts.push_back(found[j].second);
    pairs += found[j].second;
  }

  view.histogram.assign(kMaxBuckets, 0);
  for (uint32_t e = 0; e < s.hist_elements; ++e) {
    uint64_t v = sum[m + e];
    for (unsigned f = 0; f < s.hist_per_element; ++f, v >>= s.count_bits) {
      const size_t b = size_t{e} * s.hist_per_element + f;
      const uint64_t c = v & count_mask;
      if (b < kMaxBuckets)
        view.histogram[b] = static_cast<uint32_t>(c);
      else if (c != 0)
        not_a_sum(origin, fmt::format("histogram element {} has a count beyond the last bucket", m + e));
    }
    if (v != 0) not_a_sum(origin, fmt::format("histogram element {} has bits above its counts", m + e));
  }
  finish_histogram(view);
  if (view.clients > s.clients)
    not_a_sum(origin, fmt::format("its histogram counts {} clients, more than n = {}", view.clients, s.clients));
  const uint64_t totals = sum[s.length - 1];
  if ((totals & count_mask) != view.clients)
    not_a_sum(origin, fmt::format("its histogram counts {} clients, its client count {}", view.clients,
                                  totals & count_mask));
  if (((pairs << s.count_bits) & mask) != (totals & ~count_mask))
    not_a_sum(origin, fmt::format("the table holds {} (client, index) pairs, its pair count says {}", pairs,
                                  totals >> s.count_bits));
  for (size_t j = 0; j < view.counts.size(); ++j)
    if (view.counts[j] > view.clients)
      not_a_sum(origin, fmt::format("index {} has {} clients, the histogram {}", view.indices[j], view.counts[j],
                                    view.clients));
  if (pairs > uint64_t{view.clients} * s.per_client)
    not_a_sum(origin, fmt::format("{} (client, index) pairs from {} clients of at most {} indices", pairs,
                                  view.clients, s.per_client));
  view.r_max = view.top_bucket ? std::ldexp(1.0, *view.top_bucket) : 0.0;
  return view;
}

UnionView decode_plain(const UnionSpec& s, std::span<const uint64_t> sum, const std::string& origin) {
  UnionView view;
  view.histogram.assign(kMaxBuckets, 0);
  const uint64_t slots = uint64_t{s.per_client} + 1;
  std::vector<uint32_t> all;
  for (uint32_t u = 1; u <= s.clients; ++u) {
    const std::span<const uint64_t> mine = sum.subspan((u - 1) * slots, slots);
    const uint64_t max_slot = mine[s.per_client];
    if (max_slot == 0) {
      if (std::any_of(mine.begin(), mine.end(), [](uint64_t v) { return v != 0; }))
        not_a_sum(origin, fmt::format("client {} has indices but no maximum", u));
      continue;
    }
    // The bits of a finite non-negative float32, + 1.
    if (max_slot - 1 > std::bit_cast<uint32_t>(std::numeric_limits<float>::max()))
      not_a_sum(origin, fmt::format("client {}'s maximum slot {} is not a finite non-negative float32", u, max_slot));
    const float mx = std::bit_cast<float>(static_cast<uint32_t>(max_slot - 1));
    std::vector<uint32_t> set;
    for (uint32_t j = 0; j < s.per_client && mine[j] != 0; ++j) {
      if (mine[j] > s.model_length)
        not_a_sum(origin, fmt::format("client {}'s index slot holds {}, above N = {}", u, mine[j], s.model_length));
      if (!set.empty() && mine[j] - 1 <= set.back())
        not_a_sum(origin, fmt::format("client {}'s indices are not ascending", u));
      set.push_back(static_cast<uint32_t>(mine[j] - 1));
    }
    for (size_t j = set.size(); j < s.per_client; ++j)
      if (mine[j] != 0) not_a_sum(origin, fmt::format("client {} has an index after an unused slot", u));
    all.insert(all.end(), set.begin(), set.end());
    ++view.histogram[max_bucket(mx)];
    view.client_ids.push_back(u);
    view.per_client.push_back(std::move(set));
    view.per_client_max.push_back(mx);
    view.r_max = std::max(view.r_max, static_cast<double>(mx));
  }
  std::sort(all.begin(), all.end());
  for (size_t j = 0; j < all.size(); ++j) {
    if (j > 0 && all[j] == all[j - 1])
      ++view.counts.back();
    else {
      view.indices.push_back(all[j]);
      view.counts.push_back(1);
    }
  }
  finish_histogram(view);
  return view;
}

}  // namespace

std::vector<uint64_t> encode_union(const UnionSpec& s, const SessionId& sid, uint32_t client_id,
                                   std::span<const uint32_t> sorted_indices, float max_abs) {
  check_client_input(s, client_id, sorted_indices, max_abs);
  return s.mode == UnionMode::plain ? encode_plain(s, client_id, sorted_indices, max_abs)
                                    : encode_private(s, sid, sorted_indices, max_abs);
}

UnionView decode_union(const UnionSpec& s, const SessionId& sid, std::span<const uint64_t> sum,
                       const std::string& origin) {
  check_sum_shape(s, sum, origin);
  return s.mode == UnionMode::plain ? decode_plain(s, sum, origin) : decode_private(s, sid, sum, origin);
}

}  // namespace secagg

#include "consistency.hpp"

#include <algorithm>
#include <iterator>

#include "protocol.hpp"

namespace secagg {

std::vector<uint32_t> signed_view(std::span<const uint32_t> u3, std::span<const uint32_t> closed) {
  std::vector<uint32_t> out;
  std::set_intersection(u3.begin(), u3.end(), closed.begin(), closed.end(), std::back_inserter(out));
  return out;
}

uint32_t count_common(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  uint32_t n = 0;
  for (auto i = a.begin(), j = b.begin(); i != a.end() && j != b.end();)
    if (*i < *j) ++i;
    else if (*j < *i) ++j;
    else ++n, ++i, ++j;
  return n;
}

std::vector<uint32_t> quorum_owners(const LocalGraph& g, std::span<const uint32_t> u3, std::span<const uint32_t> u2,
                                    uint32_t u) {
  std::vector<uint32_t> out(u2.begin(), u2.end());
  if (g.full()) {
    out.insert(out.end(), u3.begin(), u3.end());
  } else {
    for (uint32_t v : g.closed(u))
      for (uint32_t w : g.closed(v))
        if (contains(u3, w)) out.push_back(w);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace secagg

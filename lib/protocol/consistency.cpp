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

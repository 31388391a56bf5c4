#include "id_ranges.hpp"

#include <fmt/format.h>

namespace secagg {

IdRanges ranges_of(const std::vector<uint32_t>& sorted) {
  IdRanges r;
  for (uint32_t id : sorted)
    if (!r.empty() && r.back().second + 1 == id) r.back().second = id;
    else r.push_back({id, id});
  return r;
}

std::string format_ranges(const IdRanges& r, size_t max_runs) {
  std::string out;
  size_t shown = 0;
  for (const auto& [lo, hi] : r) {
    if (shown == max_runs) break;
    if (!out.empty()) out += ", ";
    out += lo == hi ? fmt::format("{}", lo) : fmt::format("{}-{}", lo, hi);
    ++shown;
  }
  if (shown < r.size()) {
    uint64_t ids = 0;
    for (size_t i = shown; i < r.size(); ++i) ids += uint64_t{r[i].second} - r[i].first + 1;
    out += fmt::format(", ... (+{} runs, {} ids)", r.size() - shown, ids);
  }
  return out;
}

}  // namespace secagg

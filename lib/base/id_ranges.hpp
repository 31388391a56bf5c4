// Sets of client ids as runs of consecutive ids, "1-3, 5": a line about a thousand clients stays
// short (secagg-collect's round lines and its status).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace secagg {

using IdRanges = std::vector<std::pair<uint32_t, uint32_t>>;

// The runs of a sorted list of ids.
IdRanges ranges_of(const std::vector<uint32_t>& sorted);
// "1-3, 5"; with max_runs, the runs after the first max_runs are counted instead of listed:
// "1-3, 5, ... (+2 runs, 7 ids)". Empty for no ids.
std::string format_ranges(const IdRanges& r, size_t max_runs = SIZE_MAX);

}  // namespace secagg

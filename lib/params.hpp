// Session parameters: the bounds every party checks (DESIGN.md section 8).
#pragma once
#include <string>

#include "messages.hpp"

namespace secagg {

inline constexpr uint64_t kMaxLength = uint64_t{1} << 30;

// Throws Error(Exit::usage) naming the bound a parameter set breaks:
// 2 <= n <= 2^20; 1 <= t <= n; t > n/2 (the protocol paper's bound for an
// honest-but-curious server) unless insecure_threshold is set; R in [2, 2^62];
// 1 <= length <= 2^30; a known PRG; neighbours == n - 1 (full SecAgg).
void validate_params(const Params& p);

// The smallest threshold that meets the T1 bound t > n/2.
uint32_t min_secure_threshold(uint32_t n);

}  // namespace secagg

// Seconds as the command line and the messages give them, and the milliseconds the network code
// waits in.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>

namespace secagg {

inline double to_seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

// Rounded to the nearest millisecond. Capped at 10^9 s (about 32 years): a larger option value
// would overflow a deadline, now plus the wait in steady_clock's 64-bit nanoseconds.
inline std::chrono::milliseconds from_seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(std::min(s, 1e9) * 1000.0)));
}

}  // namespace secagg

// Progress of a long computation (mask expansion and removal over long vectors), for a caller
// that shows it. lib/ never touches the terminal: the tools pass a callback and decide whether
// and how to draw it (tools/progress_line.hpp).
#pragma once
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>

namespace secagg {

// `done` of `total` units so far. The calls come one at a time, with done increasing, and the
// last has done == total (unless the computation throws). They come from the computing threads,
// once per block of work, so a callback must be cheap and must not assume the caller's thread.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// One ProgressFn shared by the threads of a parallel loop: each adds the units it finished, and
// the callback sees their running sum, in order, one call at a time. Without a callback, add()
// does nothing.
class ProgressCounter {
 public:
  ProgressCounter(ProgressFn fn, uint64_t total) : fn_(std::move(fn)), total_(total) {}
  explicit operator bool() const { return static_cast<bool>(fn_); }
  void add(uint64_t n) {
    if (!fn_ || n == 0) return;
    std::lock_guard g(m_);
    done_ += n;
    fn_(done_, total_);
  }

 private:
  ProgressFn fn_;
  uint64_t total_ = 0, done_ = 0;
  std::mutex m_;
};

}  // namespace secagg

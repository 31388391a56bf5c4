// A process-wide pool of worker threads behind parallel_for. Starting a thread
// costs milliseconds on some virtual machines, as much as a whole masking step,
// so the workers are started once and reused.
#pragma once
#include <cstddef>
#include <exception>
#include <functional>
#include <vector>

namespace secagg {

// Run f(i) for every i in [0, n) on up to `threads` threads (the caller is one of them) and
// return when all are done; rethrows the first exception. A parallel_for issued while the
// pool is busy (from inside another one, or from another thread) runs serially in its caller,
// so nesting can never deadlock.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& f);

// The failures of a parallel loop, one slot per index, for loops that must report what a serial
// loop would: the failure of the lowest index, whichever thread met it first. A worker records
// the exception in flight (record(i) inside its catch block) and goes on with the next index.
class Failures {
 public:
  explicit Failures(size_t n) : failed_(n) {}
  void record(size_t i) noexcept { failed_[i] = std::current_exception(); }
  // Rethrows the failure of the lowest index, if any.
  void rethrow_first() const {
    for (const auto& e : failed_)
      if (e) std::rethrow_exception(e);
  }

 private:
  std::vector<std::exception_ptr> failed_;
};

// Runs f(i) for every i in [0, n) on up to `threads` threads, each i even when others fail, then
// rethrows the failure of the lowest i (checks of independent messages report the first bad one).
void parallel_for_each_checked(size_t n, unsigned threads, const std::function<void(size_t)>& f);

// The number of hardware threads (1 if unknown): the default of every --threads.
unsigned default_threads();

}  // namespace secagg

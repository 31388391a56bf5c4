// A process-wide pool of worker threads behind parallel_for. Starting a thread
// costs milliseconds on some virtual machines, as much as a whole masking step,
// so the workers are started once and reused.
#pragma once
#include <cstddef>
#include <functional>

namespace secagg {

// Run f(i) for every i in [0, n) on up to `threads` threads (the caller is one of them) and
// return when all are done; rethrows the first exception. A parallel_for issued while the
// pool is busy (from inside another one, or from another thread) runs serially in its caller,
// so nesting can never deadlock.
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& f);

// The number of hardware threads (1 if unknown): the default of every --threads.
unsigned default_threads();

}  // namespace secagg

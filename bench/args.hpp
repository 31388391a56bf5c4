// What every benchmark program shares: the walker over argv, a clock in milliseconds, and the
// main() wrapper that maps an exception to exit 70.
#pragma once
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "random.hpp"

namespace secagg::bench {

class Args {
 public:
  Args(const char* program, int argc, char** argv) : program_(program), argc_(argc), argv_(argv) {}
  // The next option name, or false when argv is done.
  bool next(std::string& option) {
    if (++i_ >= argc_) return false;
    option = argv_[i_];
    return true;
  }
  // The value of the option just read; a missing one is a usage error (exit 64).
  std::string value() {
    if (i_ + 1 >= argc_) {
      std::fprintf(stderr, "%s: %s needs a value\n", program_, argv_[i_]);
      std::exit(64);
    }
    return argv_[++i_];
  }

 private:
  const char* program_;
  int argc_;
  char** argv_;
  int i_ = 0;
};

// The time of clock `id` (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, ...) in milliseconds.
inline double clock_ms(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Initialises the crypto libraries and runs the benchmark; an exception is one line on stderr
// and exit 70.
template <class F>
int guarded_main(const char* program, F&& run) {
  try {
    secagg::crypto_init();
    return run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 70;
  }
}

}  // namespace secagg::bench

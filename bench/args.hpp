// The benchmarks' option reading: one walker over argv instead of a copy per program.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <string>

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

}  // namespace secagg::bench

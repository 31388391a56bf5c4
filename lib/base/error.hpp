// One error type for the whole library. The category is the process exit
// code (sysexits), so every tool maps failures the same way.
#pragma once
#include <stdexcept>
#include <string>

namespace secagg {

enum class Exit : int {
  ok = 0,
  aborted = 1,      // the protocol aborted (too few survivors, refused request)
  usage = 64,       // bad command line or parameters
  data = 65,        // malformed, tampered or inconsistent input
  noinput = 66,     // an input file is missing or unreadable
  software = 70,    // a bug in secagg
  cantcreat = 73,   // an output cannot be created
  ioerr = 74,       // an I/O error while reading or writing
  tempfail = 75,    // timeout or other temporary failure
  noperm = 77,      // permission denied
};

class Error : public std::runtime_error {
 public:
  Error(Exit code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Exit code() const noexcept { return code_; }

 private:
  Exit code_;
};

}  // namespace secagg

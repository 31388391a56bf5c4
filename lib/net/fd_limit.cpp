#include "net/fd_limit.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <limits>

namespace secagg::net {
namespace {

uint64_t value(rlim_t v) { return v == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : uint64_t{v}; }

// fs.nr_open: the largest RLIMIT_NOFILE the kernel accepts (0 if unreadable).
uint64_t nr_open() {
  unsigned long long v = 0;
  if (FILE* f = std::fopen("/proc/sys/fs/nr_open", "r")) {
    if (std::fscanf(f, "%llu", &v) != 1) v = 0;
    std::fclose(f);
  }
  return v;
}

}  // namespace

FdLimit fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  return {value(rl.rlim_cur), value(rl.rlim_max)};
}

FdLimit raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return {};
  if (rl.rlim_cur != rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) != 0 && rl.rlim_max == RLIM_INFINITY) {
      const uint64_t cap = nr_open();
      if (cap > value(rl.rlim_cur)) {
        want.rlim_cur = static_cast<rlim_t>(cap);
        (void)setrlimit(RLIMIT_NOFILE, &want);
      }
    }
  }
  return fd_limit();
}

}  // namespace secagg::net

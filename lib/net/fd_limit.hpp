// File descriptors for socket mode. Every open connection costs the server one descriptor, and a
// process that drives many clients at least one per client. The usual default soft limit
// (ulimit -n) is 1024, below what a round of about a thousand clients holds open at once; the
// hard limit is usually far higher (524288 or 1048576 on current distributions), and a process
// may raise its own soft limit up to its hard limit without privileges.
#pragma once
#include <cstdint>

namespace secagg::net {

struct FdLimit {
  uint64_t soft = 0;  // RLIMIT_NOFILE; RLIM_INFINITY is reported as UINT64_MAX
  uint64_t hard = 0;
};

// The current limits.
FdLimit fd_limit();

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the hard limit is
// unlimited, which the kernel does not accept as a soft limit). Never lowers it; a failure
// leaves the limit as it was. Returns the limits in force afterwards.
FdLimit raise_fd_limit();

}  // namespace secagg::net

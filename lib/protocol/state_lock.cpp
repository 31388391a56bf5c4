#include "state_lock.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sodium.h>

#include "error.hpp"
#include "fileio.hpp"
#include "message_file.hpp"
#include "random.hpp"

namespace secagg {
namespace {

std::string why() { return std::strerror(errno); }

Error busy_error(const std::string& path) {
  return Error(Exit::tempfail,
               path + ": another secagg step is using this client state (locked); try again when it has finished");
}

std::filesystem::path dir_of(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

constexpr size_t kTmpSuffixDigits = 16;

// The temporary being written, for the SIGINT/SIGTERM handler to remove (unlink is
// async-signal-safe; the name is complete before the flag says so).
char g_pending[4096];
volatile std::sig_atomic_t g_pending_set = 0;

void set_pending(const std::string& tmp) {
  g_pending_set = 0;
  if (tmp.size() >= sizeof g_pending) return;  // not removed on a signal; the next step's sweep does it
  std::memcpy(g_pending, tmp.c_str(), tmp.size() + 1);
  g_pending_set = 1;
}
void clear_pending() { g_pending_set = 0; }

extern "C" void remove_pending_and_die(int sig) {
  if (g_pending_set) ::unlink(g_pending);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}
std::string temporary_prefix(const std::string& path) {
  return "." + std::filesystem::path(path).filename().string() + ".tmp-";
}

// Closes and removes a temporary of locked_temporary that is not to be put in place. Returns
// the errno of the call that failed before, and leaves it in errno for why().
int drop_temporary(int fd, const std::string& tmp) {
  const int e = errno;
  ::close(fd);
  ::unlink(tmp.c_str());
  clear_pending();
  errno = e;
  return e;
}

// A new 0600 file next to path, locked from the moment it exists (so that a step sweeping stale
// temporaries never takes it for one), then written and synced: it is locked before any other
// process can see it under path.
int locked_temporary(const std::string& path, std::span<const uint8_t> bytes, std::string& tmp) {
  char suffix[kTmpSuffixDigits + 1];
  uint64_t r;
  randombytes_buf(&r, sizeof r);  // not secret: only makes the temporary name unique
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(r));
  tmp = (dir_of(path) / (temporary_prefix(path) + suffix)).string();
  set_pending(tmp);
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    clear_pending();
    Exit code = errno == EACCES || errno == EPERM ? Exit::noperm : Exit::cantcreat;
    throw Error(code, path + ": cannot create: " + why());
  }
  try {
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) throw Error(Exit::software, path + ": cannot lock a new file: " + why());
    if (::fchmod(fd, 0600) != 0) throw Error(Exit::cantcreat, path + ": cannot set permissions: " + why());
    write_all(fd, bytes.data(), bytes.size(), path);
    if (::fsync(fd) != 0) throw Error(Exit::ioerr, path + ": fsync failed: " + why());
  } catch (...) {
    drop_temporary(fd, tmp);
    throw;
  }
  return fd;
}

// path with every symbolic link resolved; errno set and "" if that fails.
std::string resolve(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) return {};
  std::string out(r);
  std::free(r);
  return out;
}

}  // namespace

LockOutcome lock_opened(int fd, const std::string& path) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return LockOutcome::busy;
    throw Error(Exit::ioerr, path + ": cannot lock: " + why());
  }
  struct stat held {}, named {};
  // lstat: a symbolic link put in the resolved path's place is not the locked file.
  if (::fstat(fd, &held) != 0 || ::lstat(path.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
      held.st_ino != named.st_ino) {
    ::flock(fd, LOCK_UN);
    return LockOutcome::replaced;
  }
  return LockOutcome::locked;
}

void remove_temporary_on_signals() {
  struct sigaction sa {};
  sa.sa_handler = remove_pending_and_die;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction old {};
    // A signal the caller ignores (nohup, a shell's background job) stays ignored.
    if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) continue;
    ::sigaction(sig, &sa, nullptr);
  }
}

size_t remove_stale_temporaries(const std::string& resolved, int held_fd) {
  struct stat held {};
  const bool have_held = held_fd >= 0 && ::fstat(held_fd, &held) == 0;
  const std::string prefix = temporary_prefix(resolved);
  std::error_code ec;
  std::filesystem::directory_iterator it(dir_of(resolved), ec), end;
  if (ec) return 0;
  size_t removed = 0;
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (name.size() != prefix.size() + kTmpSuffixDigits || name.compare(0, prefix.size(), prefix) != 0 ||
        name.find_first_not_of("0123456789abcdef", prefix.size()) != std::string::npos)
      continue;
    const std::string tmp = it->path().string();
    int fd = ::open(tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {}, named {};
    // A writer that is still running holds its temporary's lock; one that is gone does not. A
    // second name of the held state itself is a keygen's, killed between link and unlink.
    const auto is_held = [&] { return have_held && st.st_dev == held.st_dev && st.st_ino == held.st_ino; };
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid() &&
        (is_held() || ::flock(fd, LOCK_EX | LOCK_NB) == 0) && ::lstat(tmp.c_str(), &named) == 0 && named.st_dev == st.st_dev &&
        named.st_ino == st.st_ino && ::unlink(tmp.c_str()) == 0)
      ++removed;
    ::close(fd);
  }
  return removed;
}

StateLock::StateLock(StateLock&& o) noexcept
    : path_(std::move(o.path_)), resolved_(std::move(o.resolved_)), fds_(std::move(o.fds_)) {
  o.fds_.clear();
}

StateLock& StateLock::operator=(StateLock&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
    resolved_ = std::move(o.resolved_);
    fds_ = std::move(o.fds_);
    o.fds_.clear();
  }
  return *this;
}

void StateLock::release() noexcept {
  for (int fd : fds_) ::close(fd);  // closing the last descriptor of an open file drops its flock
  fds_.clear();
}

StateLock StateLock::acquire(const std::string& path, bool missing_ok) {
  // Each round of the loop means another step committed between our open and our lock (or a
  // link on the way was changed): the file under path is new, so it is opened again (a step
  // commits at most a few times).
  for (int attempt = 0; attempt < 100; ++attempt) {
    // O_NONBLOCK: a FIFO put in the state's place must not hang the open.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT && missing_ok) {
        StateLock none;
        none.path_ = path;
        return none;
      }
      Exit code = errno == EACCES ? Exit::noperm : Exit::noinput;
      throw Error(code, path + ": cannot open: " + why());
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(Exit::data, path + ": not a regular file, so not a client state");
    }
    // Resolved after the open: if a link on the way changes in between, the re-check below
    // finds another inode under the resolved path and the loop starts again.
    const std::string resolved = resolve(path);
    if (resolved.empty()) {
      ::close(fd);
      continue;  // the path went away after the open: a commit or a change of link
    }
    LockOutcome got = LockOutcome::busy;
    try {
      got = lock_opened(fd, resolved);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (got == LockOutcome::locked) {
      StateLock l;
      l.path_ = path;
      l.resolved_ = resolved;
      l.fds_.push_back(fd);
      // Under the lock: no step of this state is writing a temporary, and a keygen killed
      // between linking its temporary and removing it left a second name that goes here.
      remove_stale_temporaries(resolved, fd);
      struct stat now {};
      if (::fstat(fd, &now) != 0) throw Error(Exit::ioerr, path + ": cannot stat: " + why());
      if (now.st_nlink > 1)
        throw Error(Exit::data,
                    fmt::format("{}: the client state has {} names (hard links); refusing it: a step committed under "
                                "one name would leave the others at the earlier stage, and a step run again through "
                                "another name could send a second, different message (keep one name, remove the "
                                "others)",
                                path, static_cast<uint64_t>(now.st_nlink)));
      return l;
    }
    ::close(fd);
    if (got == LockOutcome::busy) throw busy_error(path);
  }
  throw busy_error(path);
}

std::optional<StateLock> StateLock::create(const std::string& path, std::span<const uint8_t> bytes) {
  // The directory resolved, the name kept: path does not exist yet (and a dangling symbolic
  // link under that name makes link() below refuse, as for any existing file).
  const std::string dir = resolve(dir_of(path).string());
  if (dir.empty()) {
    Exit code = errno == EACCES ? Exit::noperm : Exit::cantcreat;
    throw Error(code, path + ": cannot create: " + why());
  }
  const std::string resolved = (std::filesystem::path(dir) / std::filesystem::path(path).filename()).string();
  std::string tmp;
  int fd = locked_temporary(resolved, bytes, tmp);
  // link() refuses an existing target, unlike rename(): of two concurrent keygens one wins.
  if (::link(tmp.c_str(), resolved.c_str()) != 0) {
    const int e = drop_temporary(fd, tmp);
    if (e == EEXIST) return std::nullopt;
    throw Error(e == EACCES || e == EPERM ? Exit::noperm : Exit::cantcreat, path + ": cannot create: " + why());
  }
  ::unlink(tmp.c_str());
  clear_pending();
  sync_directory(dir);
  StateLock l;
  l.path_ = path;
  l.resolved_ = resolved;
  l.fds_.push_back(fd);
  return l;
}

Bytes StateLock::read() const {
  if (!held()) throw Error(Exit::software, path_ + ": read without holding the state lock");
  // Header first, bounded by what the header may announce (message_file.hpp): a state file
  // replaced by a huge or sparse file costs 40 bytes of reading, not all of memory.
  return read_message_fd(fds_.back(), path_);
}

void StateLock::commit(std::span<const uint8_t> bytes) {
  if (!held()) throw Error(Exit::software, path_ + ": commit without holding the state lock");
  std::string tmp;
  // Under the resolved path: a state reached through a symbolic link is replaced where it
  // lives, and the link keeps naming it.
  int fd = locked_temporary(resolved_, bytes, tmp);
  if (::rename(tmp.c_str(), resolved_.c_str()) != 0) {
    drop_temporary(fd, tmp);
    throw Error(Exit::cantcreat, path_ + ": cannot replace: " + why());
  }
  clear_pending();
  // Durable: a power failure must not bring back a state that has not recorded this step.
  sync_directory(dir_of(resolved_).string());
  fds_.push_back(fd);
}

}  // namespace secagg

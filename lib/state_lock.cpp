#include "state_lock.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "error.hpp"
#include "fileio.hpp"
#include "random.hpp"

namespace secagg {
namespace {

std::string why() { return std::strerror(errno); }

Error busy_error(const std::string& path) {
  return Error(Exit::tempfail,
               path + ": another secagg step is using this client state (locked); try again when it has finished");
}

void write_all(int fd, const uint8_t* p, size_t n, const std::string& name) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(Exit::ioerr, name + ": write failed: " + why());
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::filesystem::path dir_of(const std::string& path) {
  std::filesystem::path p(path);
  return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

// A new 0600 file next to path, written, synced and locked: it is locked before any other
// process can see it under path.
int locked_temporary(const std::string& path, std::span<const uint8_t> bytes, std::string& tmp) {
  char suffix[17];
  uint64_t r;
  randombytes_buf(&r, sizeof r);  // not secret: only makes the temporary name unique
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(r));
  tmp = (dir_of(path) / ("." + std::filesystem::path(path).filename().string() + ".tmp-" + suffix)).string();
  int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    Exit code = errno == EACCES || errno == EPERM ? Exit::noperm : Exit::cantcreat;
    throw Error(code, path + ": cannot create: " + why());
  }
  try {
    if (::fchmod(fd, 0600) != 0) throw Error(Exit::cantcreat, path + ": cannot set permissions: " + why());
    write_all(fd, bytes.data(), bytes.size(), path);
    if (::fsync(fd) != 0) throw Error(Exit::ioerr, path + ": fsync failed: " + why());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) throw Error(Exit::software, path + ": cannot lock a new file: " + why());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  return fd;
}

}  // namespace

LockOutcome lock_opened(int fd, const std::string& path) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return LockOutcome::busy;
    throw Error(Exit::ioerr, path + ": cannot lock: " + why());
  }
  struct stat held {}, named {};
  if (::fstat(fd, &held) != 0 || ::stat(path.c_str(), &named) != 0 || held.st_dev != named.st_dev ||
      held.st_ino != named.st_ino) {
    ::flock(fd, LOCK_UN);
    return LockOutcome::replaced;
  }
  return LockOutcome::locked;
}

StateLock::StateLock(StateLock&& o) noexcept : path_(std::move(o.path_)), fds_(std::move(o.fds_)) { o.fds_.clear(); }

StateLock& StateLock::operator=(StateLock&& o) noexcept {
  if (this != &o) {
    release();
    path_ = std::move(o.path_);
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
  // Each round of the loop means another step committed between our open and our lock: the
  // file under path is new, so it is opened again (a step commits at most a few times).
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
    LockOutcome got = LockOutcome::busy;
    try {
      got = lock_opened(fd, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (got == LockOutcome::locked) {
      StateLock l;
      l.path_ = path;
      l.fds_.push_back(fd);
      return l;
    }
    ::close(fd);
    if (got == LockOutcome::busy) throw busy_error(path);
  }
  throw busy_error(path);
}

std::optional<StateLock> StateLock::create(const std::string& path, std::span<const uint8_t> bytes) {
  std::string tmp;
  int fd = locked_temporary(path, bytes, tmp);
  // link() refuses an existing target, unlike rename(): of two concurrent keygens one wins.
  if (::link(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    if (e == EEXIST) return std::nullopt;
    errno = e;
    throw Error(e == EACCES || e == EPERM ? Exit::noperm : Exit::cantcreat, path + ": cannot create: " + why());
  }
  ::unlink(tmp.c_str());
  sync_directory(dir_of(path));
  StateLock l;
  l.path_ = path;
  l.fds_.push_back(fd);
  return l;
}

Bytes StateLock::read() const {
  if (!held()) throw Error(Exit::software, path_ + ": read without holding the state lock");
  // Header first, bounded by what the header may announce (lib/fileio.hpp): a state file
  // replaced by a huge or sparse file costs 40 bytes of reading, not all of memory.
  return read_message_fd(fds_.back(), path_);
}

void StateLock::commit(std::span<const uint8_t> bytes) {
  if (!held()) throw Error(Exit::software, path_ + ": commit without holding the state lock");
  std::string tmp;
  int fd = locked_temporary(path_, bytes, tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    int e = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = e;
    throw Error(Exit::cantcreat, path_ + ": cannot replace: " + why());
  }
  // Durable: a power failure must not bring back a state that has not recorded this step.
  sync_directory(dir_of(path_));
  fds_.push_back(fd);
}

}  // namespace secagg

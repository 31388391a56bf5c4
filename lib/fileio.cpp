#include "fileio.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "random.hpp"

namespace secagg {
namespace {

std::string why() { return std::strerror(errno); }

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

}  // namespace

// Make a rename durable: without this a power failure could bring back the old file
// (for a client state: one that has not yet recorded an unmasking answer).
static void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Bytes read_file(const std::string& path) {
  int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string name = path == "-" ? "<stdin>" : path;
  if (fd < 0) {
    Exit code = errno == ENOENT || errno == ENOTDIR ? Exit::noinput : errno == EACCES ? Exit::noperm : Exit::noinput;
    throw Error(code, name + ": cannot open: " + why());
  }
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(Exit::noinput, name + ": is a directory, not a file");
  }
  Bytes out;
  if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
  uint8_t buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      if (fd != 0) ::close(fd);
      errno = e;
      throw Error(Exit::ioerr, name + ": read failed: " + why());
    }
    if (r == 0) break;
    out.insert(out.end(), buf, buf + r);
  }
  sodium_memzero(buf, sizeof buf);
  if (fd != 0) ::close(fd);
  return out;
}

void write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode, Overwrite overwrite) {
  if (path == "-") {
    write_all(1, data.data(), data.size(), "<stdout>");
    return;
  }
  if (overwrite == Overwrite::refuse && path_exists(path))
    throw Error(Exit::cantcreat, path + ": already exists; refusing to overwrite it");
  std::filesystem::path target(path);
  std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  char suffix[17];
  uint64_t r;
  randombytes_buf(&r, sizeof r);  // not secret: only makes the temporary name unique
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(r));
  std::string tmp = (dir / ("." + target.filename().string() + ".tmp-" + suffix)).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    Exit code = errno == EACCES || errno == EPERM ? Exit::noperm : Exit::cantcreat;
    throw Error(code, path + ": cannot create: " + why());
  }
  try {
    if (fchmod(fd, mode) != 0) throw Error(Exit::cantcreat, path + ": cannot set permissions: " + why());
    write_all(fd, data.data(), data.size(), path);
    if (fsync(fd) != 0) throw Error(Exit::ioerr, path + ": fsync failed: " + why());
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (overwrite == Overwrite::refuse) {
    // link() fails if the target appeared meanwhile, unlike rename().
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      int e = errno;
      ::unlink(tmp.c_str());
      errno = e;
      throw Error(Exit::cantcreat, path + (e == EEXIST ? ": already exists; refusing to overwrite it" : ": cannot create: " + why()));
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    errno = e;
    throw Error(Exit::cantcreat, path + ": cannot create: " + why());
  }
  sync_directory(dir.string());
}

void write_file_atomic(const std::string& path, std::string_view text, mode_t mode, Overwrite overwrite) {
  write_file_atomic(path, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), mode, overwrite);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void make_directory(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw Error(Exit::cantcreat, path + ": cannot create directory: " + ec.message());
}

}  // namespace secagg

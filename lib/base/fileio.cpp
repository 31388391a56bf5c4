#include "fileio.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "error.hpp"

namespace secagg {
namespace {

std::string why() { return std::strerror(errno); }

}  // namespace

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

// Without this a power failure could bring back the old file after a rename (for a client
// state: one that has not yet recorded an unmasking answer).
void sync_directory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}



// refuse_special: only a regular file (or "-") will be read, so a FIFO is opened without
// waiting for a writer (O_NONBLOCK), to be refused at once.
InputFile::InputFile(const std::string& path, bool refuse_special) : name(path == "-" ? "<stdin>" : path) {
  fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (refuse_special ? O_NONBLOCK : 0));
  if (fd < 0) {
    Exit code = errno == EACCES ? Exit::noperm : Exit::noinput;
    throw Error(code, name + ": cannot open: " + why());
  }
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close();
    errno = e;
    throw Error(Exit::ioerr, name + ": cannot stat: " + why());
  }
  if (S_ISDIR(st.st_mode)) {
    close();
    throw Error(Exit::noinput, name + ": is a directory, not a file");
  }
  // Blocking reads from here on (a pipe or device given to read_file is read as it comes).
  if (fd > 0) {
    int flags = fcntl(fd, F_GETFL);
    if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  }
}

InputFile::InputFile(int borrowed, std::string origin) : fd(borrowed), name(std::move(origin)), owned(false) {
  if (fstat(fd, &st) != 0) throw Error(Exit::ioerr, name + ": cannot stat: " + why());
  if (::lseek(fd, 0, SEEK_SET) != 0 && S_ISREG(st.st_mode)) throw Error(Exit::ioerr, name + ": cannot seek: " + why());
}

void InputFile::close() {
  if (fd > 0 && owned) ::close(fd);
  fd = -1;
}

void InputFile::read_into(Bytes& out, uint64_t want) {
  uint8_t buf[1 << 16];
  while (want > 0) {
    ssize_t r = ::read(fd, buf, static_cast<size_t>(std::min<uint64_t>(want, sizeof buf)));
    if (r < 0) {
      if (errno == EINTR) continue;
      sodium_memzero(buf, sizeof buf);
      throw Error(Exit::ioerr, name + ": read failed: " + why());
    }
    if (r == 0) break;
    out.insert(out.end(), buf, buf + r);
    want -= static_cast<uint64_t>(r);
  }
  sodium_memzero(buf, sizeof buf);
}

Bytes read_file(const std::string& path, uint64_t max_bytes) {
  InputFile in(path, false);
  auto too_big = [&](const std::string& what) {
    return Error(Exit::data, fmt::format("{}: {}the {} bytes this input may have", in.name, what, max_bytes));
  };
  Bytes out;
  if (in.regular()) {
    if (static_cast<uint64_t>(in.st.st_size) > max_bytes)
      throw too_big(fmt::format("the file has {} bytes, more than ", static_cast<uint64_t>(in.st.st_size)));
    out.reserve(static_cast<size_t>(in.st.st_size));
  }
  in.read_into(out, max_bytes + 1);
  if (out.size() > max_bytes) {
    sodium_memzero(out.data(), out.size());
    throw too_big("the input goes on past ");
  }
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

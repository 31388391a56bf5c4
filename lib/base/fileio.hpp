// Reading inputs and writing outputs the way every secagg tool must:
// "-" is stdin/stdout, a missing input is Exit::noinput, and outputs are
// written to a temporary file in the same directory and renamed into place,
// so a failure never leaves a partial or truncated file behind.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <cstdint>
#include <sys/stat.h>
#include <sys/types.h>

#include "bytes.hpp"

namespace secagg {

// read_file's default bound: the largest message any valid session can have (a vector of
// 2^30 62-bit elements).
inline constexpr uint64_t kMaxReadBytes = (uint64_t{1} << 33) + 8192;

// The whole file, refused (Error(Exit::data), nothing read) if it holds more than max_bytes:
// a regular file by its size, a pipe or device ("-" is stdin) once max_bytes + 1 bytes arrived.
Bytes read_file(const std::string& path, uint64_t max_bytes = kMaxReadBytes);

enum class Overwrite { allow, refuse };
// mode applies to a new file (0600 for secrets). "-" writes to stdout.
void write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);
void write_file_atomic(const std::string& path, std::string_view text, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);

// An open input read in steps (read_file here; message_file.hpp reads a message's header
// before its body). Closes the descriptor unless it is stdin's or borrowed, and wipes what
// read_into buffered on the way.
struct InputFile {
  int fd = -1;
  std::string name;  // names the input in errors: the path, "<stdin>", or the borrower's origin
  struct stat st {};
  bool owned = true;
  // Opens path ("-": stdin). Exit::noinput if missing or a directory, Exit::noperm if not
  // readable, Exit::ioerr if it cannot be examined.
  InputFile(const std::string& path, bool refuse_special);
  // A descriptor someone else opened and will close (a locked client state), read from its start.
  InputFile(int borrowed, std::string origin);
  ~InputFile() { close(); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  void close();
  bool regular() const { return S_ISREG(st.st_mode); }
  // Appends up to `want` bytes to out; stops early only at the end of the input.
  void read_into(Bytes& out, uint64_t want);
};

// Writes all n bytes to fd, through short writes and EINTR; Error(Exit::ioerr) naming `name`.
void write_all(int fd, const uint8_t* p, size_t n, const std::string& name);
// fsyncs a directory, so that a rename in it survives a power failure (best effort).
void sync_directory(const std::string& dir);

bool path_exists(const std::string& path);
// Creates the directory (and parents) if missing. Exit::cantcreat on failure.
void make_directory(const std::string& path);

}  // namespace secagg

// Reading inputs and writing outputs the way every secagg tool must:
// "-" is stdin/stdout, a missing input is Exit::noinput, and outputs are
// written to a temporary file in the same directory and renamed into place,
// so a failure never leaves a partial or truncated file behind.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <cstdint>
#include <sys/types.h>

#include "bytes.hpp"

namespace secagg {

// read_file's default bound: the largest message any valid session can have (a vector of
// 2^30 62-bit elements).
inline constexpr uint64_t kMaxReadBytes = (uint64_t{1} << 33) + 8192;

struct Params;
enum class MsgType : uint8_t;

// What a reader knows before reading a message, each narrowing what the header may announce.
struct MessageLimits {
  const Params* params = nullptr;  // the session's: bounds the body by its n, k and length
  std::optional<MsgType> type;     // the type expected: any other is refused from the header
  uint64_t max_body = UINT64_MAX;  // a cap of the reader's own (secagg-inspect's --max-body)
  std::string over_cap;            // appended to the error when that cap is what refuses a body
};

// The whole file, refused (Error(Exit::data), nothing read) if it holds more than max_bytes:
// a regular file by its size, a pipe or device ("-" is stdin) once max_bytes + 1 bytes arrived.
Bytes read_file(const std::string& path, uint64_t max_bytes = kMaxReadBytes);

// One secagg message, read header first: refuses (Error(Exit::data)) a path that is neither a
// regular file nor "-" (stdin), then checks the 40-byte header (magic, version, type, and a body
// length within max_body_bytes of its type: for the session p if given, otherwise for any valid
// session) and that a regular file's size is exactly what the header announces, and only then
// reads the rest. A bad file costs at most 40 bytes of reading. open_envelope still checks the
// message itself.
Bytes read_message_file(const std::string& path, const Params* p = nullptr);
// The same within limits: a header of another type than limits.type is refused (with the words
// of expect_message in protocol.hpp) before any byte of the body is read.
Bytes read_message_file(const std::string& path, const MessageLimits& limits);
// The same from an open regular file the caller keeps (a locked client state), from its start.
Bytes read_message_fd(int fd, const std::string& origin);

enum class Overwrite { allow, refuse };
// mode applies to a new file (0600 for secrets). "-" writes to stdout.
void write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);
void write_file_atomic(const std::string& path, std::string_view text, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);

// Writes all n bytes to fd, through short writes and EINTR; Error(Exit::ioerr) naming `name`.
void write_all(int fd, const uint8_t* p, size_t n, const std::string& name);
// fsyncs a directory, so that a rename in it survives a power failure (best effort).
void sync_directory(const std::string& dir);

bool path_exists(const std::string& path);
// Creates the directory (and parents) if missing. Exit::cantcreat on failure.
void make_directory(const std::string& path);

}  // namespace secagg

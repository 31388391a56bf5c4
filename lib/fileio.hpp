// Reading inputs and writing outputs the way every secagg tool must:
// "-" is stdin/stdout, a missing input is Exit::noinput, and outputs are
// written to a temporary file in the same directory and renamed into place,
// so a failure never leaves a partial or truncated file behind.
#pragma once
#include <span>
#include <string>
#include <sys/types.h>

#include "bytes.hpp"

namespace secagg {

Bytes read_file(const std::string& path);

enum class Overwrite { allow, refuse };
// mode applies to a new file (0600 for secrets). "-" writes to stdout.
void write_file_atomic(const std::string& path, std::span<const uint8_t> data, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);
void write_file_atomic(const std::string& path, std::string_view text, mode_t mode = 0644,
                       Overwrite overwrite = Overwrite::allow);

bool path_exists(const std::string& path);
// Creates the directory (and parents) if missing. Exit::cantcreat on failure.
void make_directory(const std::string& path);

}  // namespace secagg

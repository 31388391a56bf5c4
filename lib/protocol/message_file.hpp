// Reading one secagg message from a file, header first, within what the reader knows of the
// session (fileio.hpp reads and writes plain files). Here, not in the base layer, because the
// bounds come from the session parameters and the type check speaks in expect_message's words.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "bytes.hpp"
#include "envelope.hpp"
#include "fileio.hpp"

namespace secagg {

struct Params;

// What a reader knows before reading a message, each narrowing what the header may announce.
struct MessageLimits {
  const Params* params = nullptr;  // the session's: bounds the body by its n, k and length
  std::optional<MsgType> type;     // the type expected: any other is refused from the header
  uint64_t max_body = UINT64_MAX;  // a cap of the reader's own (secagg-inspect's --max-body)
  std::string over_cap;            // appended to the error when that cap is what refuses a body
};

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


}  // namespace secagg

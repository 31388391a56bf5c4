#include "message_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "envelope.hpp"
#include "error.hpp"
#include "le.hpp"
#include "params.hpp"
#include "protocol.hpp"

namespace secagg {

namespace {
Bytes read_message(InputFile& in, const MessageLimits& lim) {
  Bytes out;
  out.reserve(kHeaderBytes);
  in.read_into(out, kHeaderBytes);
  // Too short for a header, or no magic: open_envelope names what is wrong.
  if (out.size() < kHeaderBytes) return out;
  const uint8_t type = out[6];
  if (lim.type && valid_type(type) && type != static_cast<uint8_t>(*lim.type) && looks_like_envelope(out) &&
      le::get16(out.data() + 4) == kFormatVersion) {
    // Refused from the header, in the words of the check that would refuse the whole message.
    Envelope header;
    header.type = static_cast<MsgType>(type);
    std::copy(out.begin() + 8, out.begin() + 8 + kSessionIdBytes, header.session.begin());
    header.sender = le::get32(out.data() + 24);
    expect_message(header, in.name, *lim.type, header.session);
  }
  const uint64_t by_type = !valid_type(type) ? 0
                           : lim.params      ? max_body_bytes(static_cast<MsgType>(type), *lim.params)
                                             : max_body_bytes(static_cast<MsgType>(type));
  const uint64_t max_body = std::min(by_type, lim.max_body);
  uint64_t want = 0;
  try {
    want = message_size(out, max_body, in.name);
  } catch (const Error& e) {
    if (lim.max_body < by_type && !lim.over_cap.empty() && le::get64(out.data() + 32) > lim.max_body)
      throw Error(e.code(), std::string(e.what()) + "; " + lim.over_cap);
    throw;
  }
  if (in.regular()) {
    const auto size = static_cast<uint64_t>(in.st.st_size);
    if (size > want)
      throw Error(Exit::data,
                  fmt::format("{}: {} unexpected bytes after the end of the message", in.name, size - want));
    // A shorter file is read whole (it is smaller than the bound) for open_envelope to name.
    out.reserve(static_cast<size_t>(size));
  }
  // From a pipe, memory grows only with the bytes that actually arrive.
  in.read_into(out, want - kHeaderBytes);
  if (!in.regular() && out.size() == want) {
    Bytes extra;
    in.read_into(extra, 1);
    if (!extra.empty())
      throw Error(Exit::data, fmt::format("{}: unexpected bytes after the end of the {}-byte message", in.name, want));
  }
  return out;
}
}  // namespace

Bytes read_message_file(const std::string& path, const MessageLimits& limits) {
  InputFile in(path, true);
  if (!in.regular() && path != "-")
    throw Error(Exit::data, in.name + ": not a regular file (a secagg message is read from a file or stdin)");
  return read_message(in, limits);
}

Bytes read_message_file(const std::string& path, const Params* p) {
  MessageLimits limits;
  limits.params = p;
  return read_message_file(path, limits);
}

Bytes read_message_fd(int fd, const std::string& origin) {
  InputFile in(fd, origin);
  if (!in.regular()) throw Error(Exit::data, origin + ": not a regular file (a secagg message is read from a file)");
  return read_message(in, MessageLimits{});
}

}  // namespace secagg

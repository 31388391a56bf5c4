#include "net/frame.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "error.hpp"
#include "le.hpp"
#include "params.hpp"

namespace secagg::net {

std::string HostPort::str() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

HostPort parse_host_port(const std::string& text, const std::string& option) {
  auto bad = [&](const char* why) {
    return Error(Exit::usage, fmt::format("{} '{}': {} (expected HOST:PORT, e.g. 127.0.0.1:7000)", option, text, why));
  };
  HostPort hp;
  size_t colon;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') throw bad("bad [address]");
    hp.host = text.substr(1, close - 1);
    colon = close + 1;
  } else {
    colon = text.rfind(':');
    if (colon == std::string::npos) throw bad("no port");
    hp.host = text.substr(0, colon);
    if (hp.host.find(':') != std::string::npos) throw bad("an IPv6 address must be written in brackets");
  }
  hp.port = text.substr(colon + 1);
  if (hp.host.empty()) throw bad("no host");
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(hp.port.data(), hp.port.data() + hp.port.size(), port);
  if (hp.port.empty() || ec != std::errc() || ptr != hp.port.data() + hp.port.size() || port > 65535)
    throw bad("the port is not a number in [0, 65535]");
  return hp;
}

uint64_t max_client_body(const Params& p, Round round) { return max_body_bytes(client_message(round), p); }

uint64_t max_server_body(const Params& p) {
  uint64_t m = 0;
  for (const MsgTypeInfo& t : kMsgTypes)
    if (t.sender == Party::server) m = std::max(m, max_body_bytes(t.type, p));
  return m;
}

uint64_t frame_body_length(std::span<const uint8_t> header, uint64_t limit, const std::string& origin) {
  if (header.size() < kHeaderBytes || !looks_like_envelope(header))
    throw Error(Exit::data, origin + ": not a secagg frame (no SAGG magic)");
  uint16_t version = le::get16(header.data() + 4);
  if (version != kFormatVersion)
    throw Error(Exit::data, fmt::format("{}: frame has format version {}, this secagg speaks version {}", origin,
                                        version, kFormatVersion));
  uint64_t len = le::get64(header.data() + 32);
  if (len > limit)
    throw Error(Exit::data, fmt::format("{}: frame announces a body of {} bytes, more than this session allows here "
                                        "({} bytes)",
                                        origin, len, limit));
  return len;
}

uint32_t frame_sender(std::span<const uint8_t> header) { return le::get32(header.data() + 24); }

}  // namespace secagg::net

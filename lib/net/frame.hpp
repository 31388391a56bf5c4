// Framing for socket mode (docs/network.md, "Framing"): a frame is exactly one secagg envelope
// (envelope.hpp), read as its 40-byte header, then the body and checksum it announces.
// The header is checked before anything is allocated: magic, version, and a body length
// no larger than the largest legitimate message of the session's round (plus slack).
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "messages.hpp"

namespace secagg::net {

struct HostPort {
  std::string host;
  std::string port;
  std::string str() const;  // "host:port", "[v6]:port"
};
// Parses HOST:PORT or [V6ADDR]:PORT; Error(Exit::usage) naming `option` otherwise.
HostPort parse_host_port(const std::string& text, const std::string& option);

// The largest body a client may send in `round` (0, 1, 2 or 4) of a session with these parameters.
uint64_t max_client_body(const Params& p, uint8_t round);
// The largest body the server sends in any round (roster, inbox, survivors, aggregate).
uint64_t max_server_body(const Params& p);

// Checks a frame's header (kHeaderBytes bytes): magic, version, body length <= limit.
// Returns the body length; Error(Exit::data) starting with `origin` otherwise.
uint64_t frame_body_length(std::span<const uint8_t> header, uint64_t limit, const std::string& origin);
// The sender id a header claims (le32 at offset 24): a claim only, until the server checks the
// message's signature against that client's round-0 key.
uint32_t frame_sender(std::span<const uint8_t> header);

}  // namespace secagg::net

// Framing for socket mode (docs/network.md, "Framing"): a frame is exactly one secagg envelope
// (envelope.hpp), read as its 40-byte header, then the body and checksum it announces.
// The header is checked before anything is allocated: magic, version, and a body length within
// the bound of the message the round expects: the table's (envelope.hpp), which file readers
// apply too (params.hpp, max_body_bytes).
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

// The largest body a client may send in `round` of a session with these parameters:
// max_body_bytes of the round's client message (advertise-keys in round 0, ...).
uint64_t max_client_body(const Params& p, Round round);
// The largest body of any message the server sends (roster, inbox, survivors, aggregate, notice).
uint64_t max_server_body(const Params& p);

// Checks a frame's header (kHeaderBytes bytes): magic, version, body length <= limit.
// Returns the body length; Error(Exit::data) starting with `origin` otherwise.
uint64_t frame_body_length(std::span<const uint8_t> header, uint64_t limit, const std::string& origin);
// The sender id a header claims (le32 at offset 24): a claim only, until the server checks the
// message's signature against that client's round-0 key.
uint32_t frame_sender(std::span<const uint8_t> header);

}  // namespace secagg::net

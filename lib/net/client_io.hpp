// The client side of socket mode: one connection carries one round. The client connects,
// sends its message (one frame), and waits for the server's message of the next round,
// which arrives when the round closes.
#pragma once
#include <chrono>
#include <functional>
#include <span>

#include "bytes.hpp"
#include "net/frame.hpp"

namespace secagg::net {

struct ExchangeOptions {
  // How long to keep trying to reach the server (refused or unreachable connections are
  // retried every 200 ms; 0: one attempt).
  std::chrono::milliseconds connect_timeout{10000};
  // How long to wait, once connected, for the message to leave and the reply to arrive.
  std::chrono::milliseconds timeout{600000};
  uint64_t max_reply_body = kMaxBodyBytes;
  // Called once the whole message has been written to the socket (before the wait).
  std::function<void()> on_sent;
};

// Returns the reply frame, checked with open_envelope (origin "HOST:PORT"). Errors:
//   Exit::tempfail  the server cannot be reached, or a deadline passed
//   Exit::aborted   the server closed the connection without a reply (the session aborted, or
//                   this message was refused or missed its round: the server's log says which)
//   Exit::data      the reply is not a valid frame
Bytes exchange(const HostPort& server, std::span<const uint8_t> message, const ExchangeOptions& opt);

}  // namespace secagg::net

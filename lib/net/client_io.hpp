// The client side of socket mode: one connection carries one round. The client connects,
// sends its message (one frame), and waits for the server's message of the next round,
// which arrives when the round closes.
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "bytes.hpp"
#include "envelope.hpp"
#include "net/frame.hpp"

namespace secagg::net {

// TLS for a client (--tls-ca, --tls-server-name): TLS 1.3, and the server's certificate must
// chain to a certificate in ca_file and be valid for server_name.
struct TlsClientOptions {
  std::string ca_file;      // PEM: the CA to trust, or the server's own self-signed certificate
  std::string server_name;  // the DNS name or IP address to check; empty: the host of the address
};

struct ExchangeOptions {
  // How long to keep trying to reach the server (refused or unreachable connections are
  // retried every 200 ms, TLS handshakes the server closed every second; 0: one attempt).
  std::chrono::milliseconds connect_timeout{10000};
  // How long to wait, once connected, for the message to leave and the reply to arrive.
  std::chrono::milliseconds timeout{600000};
  uint64_t max_reply_body = kMaxBodyBytes;
  // Called once connected and, with TLS, the server authenticated, before any byte of the
  // message is sent; if it throws, the connection is closed and nothing is sent.
  std::function<void()> on_connected;
  // Called once the whole message has been written to the socket (before the wait).
  std::function<void()> on_sent;
  // Set: speak TLS; nothing is sent unless the server's certificate verifies. Unset: plain TCP.
  std::optional<TlsClientOptions> tls;
  // Set: a notice must carry this session id (a notice of another session is bad data).
  std::optional<SessionId> session;
};

// Returns the reply frame, checked with open_envelope (origin "HOST:PORT"). Instead of a reply
// the server may send a notice (net/notice.hpp): on `retry` the same bytes are sent again on a
// new connection after the wait it asks for, as long as --timeout (counted from the first
// connection) allows; on_connected and on_sent run once, for the first connection. Errors:
//   Exit::tempfail  the server cannot be reached, or a deadline passed, or it closed the
//                   connection without an answer (it went away), or a `stopped` notice: running
//                   the step again sends the same message again
//   Exit::aborted   an `aborted` notice (the session aborted: fewer than t clients), or, with TLS,
//                   the server closed the connection during every handshake tried within
//                   connect_timeout (one every second, from the first it closed)
//   Exit::data      a `refused` notice (this message was refused: the reason is in the error);
//                   the reply is not a valid frame; with TLS, the handshake failed (the server's
//                   certificate does not verify or is not valid for the name, or the server does
//                   not speak TLS 1.3): the message was not sent
//   Exit::noinput   (TLS) the CA file cannot be read; checked before connecting
Bytes exchange(const HostPort& server, std::span<const uint8_t> message, const ExchangeOptions& opt);

// What exchange checks of its TLS options before it connects (the CA file can be read and holds
// a certificate; the name can be checked), with the same errors: a step that must not change
// its state for nothing calls it first.
void check_tls_options(const HostPort& server, const TlsClientOptions& tls);

}  // namespace secagg::net

#include "net/client_io.hpp"

#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "envelope.hpp"
#include "error.hpp"
#include "net/tls.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

// Runs one asynchronous operation to completion or until the deadline; on the deadline the
// socket is closed (cancelling the operation). Returns false on timeout.
template <class Start>
bool run_until(asio::io_context& io, tcp::socket& sock, Clock::time_point deadline, error_code& ec, size_t& n,
               Start start) {
  bool done = false;
  start([&](error_code e, size_t k) {
    ec = e;
    n = k;
    done = true;
  });
  io.restart();
  io.run_until(deadline);
  if (done) return true;
  error_code ignore;
  sock.close(ignore);
  io.restart();
  io.run();
  return false;
}

}  // namespace

void check_tls_options(const HostPort& server, const TlsClientOptions& tls) {
  ssl::context ctx = tls_client_context(tls.ca_file);
  asio::io_context io;
  Stream stream(io, &ctx);
  tls_expect_name(stream.tls()->native_handle(), tls.server_name.empty() ? server.host : tls.server_name);
}

Bytes exchange(const HostPort& server, std::span<const uint8_t> message, const ExchangeOptions& opt) {
  const std::string where = server.str();
  // With TLS, the CA file and the name to check come first: a client that cannot check the
  // server never connects.
  std::optional<ssl::context> ctx;
  if (opt.tls) ctx.emplace(tls_client_context(opt.tls->ca_file));
  asio::io_context io;
  Stream stream(io, ctx ? &*ctx : nullptr);
  if (auto* tls = stream.tls())
    tls_expect_name(tls->native_handle(), opt.tls->server_name.empty() ? server.host : opt.tls->server_name);
  tcp::resolver resolver(io);
  error_code ec;
  auto endpoints = resolver.resolve(server.host, server.port, ec);
  if (ec) throw Error(Exit::tempfail, fmt::format("cannot resolve {}: {}", where, ec.message()));

  // Connect, retrying refused connections until connect_timeout.
  tcp::socket& sock = stream.lowest_layer();
  const auto connect_deadline = Clock::now() + opt.connect_timeout;
  for (;;) {
    size_t n = 0;
    auto attempt_deadline = std::max(connect_deadline, Clock::now() + std::chrono::seconds(5));
    bool in_time = run_until(io, sock, attempt_deadline, ec, n, [&](auto handler) {
      asio::async_connect(sock, endpoints, [handler](error_code e, const tcp::endpoint&) mutable { handler(e, 0); });
    });
    if (in_time && !ec) break;
    if (!in_time) ec = asio::error::timed_out;
    if (Clock::now() + std::chrono::milliseconds(200) >= connect_deadline)
      throw Error(Exit::tempfail, fmt::format("cannot connect to {}: {}", where, ec.message()));
    error_code ignore;
    sock.close(ignore);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  const auto deadline = Clock::now() + opt.timeout;
  auto timed_out = [&](const char* what) {
    return Error(Exit::tempfail, fmt::format("{}: {} within {} s (--timeout)", where, what, seconds(opt.timeout)));
  };
  size_t n = 0;
  if (auto* tls = stream.tls()) {
    // The message leaves only over a connection whose certificate verified.
    if (!run_until(io, sock, deadline, ec, n, [&](auto handler) {
          tls->async_handshake(ssl::stream_base::client, [handler](error_code e) mutable { handler(e, 0); });
        }))
      throw timed_out("no TLS handshake with the server");
    if (ec && peer_closed(ec))
      throw Error(Exit::aborted, fmt::format("{}: TLS: the server closed the connection during the handshake (a server "
                                             "without --tls-cert, or one that refused this connection: its log says "
                                             "which); the message was not sent",
                                             where));
    if (ec)
      throw Error(Exit::data, fmt::format("{}: TLS: {}{}; the message was not sent", where,
                                          tls_failure(ec, tls->native_handle()),
                                          not_tls(ec) ? " (the server does not speak TLS: does serve run without "
                                                        "--tls-cert?)"
                                                      : ""));
  }
  if (opt.on_connected) opt.on_connected();
  if (!run_until(io, sock, deadline, ec, n, [&](auto handler) {
        asio::async_write(stream, asio::buffer(message.data(), message.size()), handler);
      }))
    throw timed_out("could not send the message");
  if (ec) throw Error(Exit::tempfail, fmt::format("{}: sending the message failed: {}", where, tls_failure(ec)));
  if (opt.on_sent) opt.on_sent();

  auto closed = [&](const error_code& e) {
    if (peer_closed(e))
      return Error(Exit::aborted, fmt::format("{}: server closed the connection without an answer: the session aborted, "
                                              "or this client's message was refused or missed its round (the server's "
                                              "log names the reason)",
                                              where));
    if (e.category() == asio::error::get_ssl_category())
      return Error(Exit::data, fmt::format("answer from {}: TLS: {}", where, tls_failure(e)));
    return Error(Exit::tempfail, fmt::format("{}: reading the answer failed: {}", where, e.message()));
  };
  Bytes frame(kHeaderBytes);
  if (!run_until(io, sock, deadline, ec, n,
                 [&](auto handler) { asio::async_read(stream, asio::buffer(frame.data(), kHeaderBytes), handler); }))
    throw timed_out("no answer from the server");
  if (ec) throw closed(ec);
  uint64_t len = frame_body_length(frame, opt.max_reply_body, fmt::format("answer from {}", where));
  frame.resize(kHeaderBytes + len + kChecksumBytes);
  if (!run_until(io, sock, deadline, ec, n, [&](auto handler) {
        asio::async_read(stream, asio::buffer(frame.data() + kHeaderBytes, len + kChecksumBytes), handler);
      }))
    throw timed_out("the answer did not arrive in full");
  if (ec) {
    if (ec == asio::error::eof || ec == ssl::error::stream_truncated)
      throw Error(Exit::data, fmt::format("answer from {}: truncated: the connection closed in the middle of it", where));
    throw closed(ec);
  }
  open_envelope(frame, fmt::format("answer from {}", where));
  stream.close();
  return frame;
}

}  // namespace secagg::net

#include "net/client_io.hpp"

#include <thread>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "envelope.hpp"
#include "error.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
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

Bytes exchange(const HostPort& server, std::span<const uint8_t> message, const ExchangeOptions& opt) {
  const std::string where = server.str();
  asio::io_context io;
  tcp::resolver resolver(io);
  error_code ec;
  auto endpoints = resolver.resolve(server.host, server.port, ec);
  if (ec) throw Error(Exit::tempfail, fmt::format("cannot resolve {}: {}", where, ec.message()));

  // Connect, retrying refused connections until connect_timeout.
  tcp::socket sock(io);
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
  if (!run_until(io, sock, deadline, ec, n, [&](auto handler) {
        asio::async_write(sock, asio::buffer(message.data(), message.size()), handler);
      }))
    throw timed_out("could not send the message");
  if (ec) throw Error(Exit::tempfail, fmt::format("{}: sending the message failed: {}", where, ec.message()));
  if (opt.on_sent) opt.on_sent();

  auto closed = [&](const error_code& e) {
    if (e == asio::error::eof || e == asio::error::connection_reset)
      return Error(Exit::aborted, fmt::format("{}: server closed the connection without an answer: the session aborted, "
                                              "or this client's message was refused or missed its round (the server's "
                                              "log names the reason)",
                                              where));
    return Error(Exit::tempfail, fmt::format("{}: reading the answer failed: {}", where, e.message()));
  };
  Bytes frame(kHeaderBytes);
  if (!run_until(io, sock, deadline, ec, n,
                 [&](auto handler) { asio::async_read(sock, asio::buffer(frame.data(), kHeaderBytes), handler); }))
    throw timed_out("no answer from the server");
  if (ec) throw closed(ec);
  uint64_t len = frame_body_length(frame, opt.max_reply_body, fmt::format("answer from {}", where));
  frame.resize(kHeaderBytes + len + kChecksumBytes);
  if (!run_until(io, sock, deadline, ec, n, [&](auto handler) {
        asio::async_read(sock, asio::buffer(frame.data() + kHeaderBytes, len + kChecksumBytes), handler);
      }))
    throw timed_out("the answer did not arrive in full");
  if (ec) {
    if (ec == asio::error::eof)
      throw Error(Exit::data, fmt::format("answer from {}: truncated: the connection closed in the middle of it", where));
    throw closed(ec);
  }
  open_envelope(frame, fmt::format("answer from {}", where));
  error_code ignore;
  sock.shutdown(tcp::socket::shutdown_both, ignore);
  sock.close(ignore);
  return frame;
}

}  // namespace secagg::net

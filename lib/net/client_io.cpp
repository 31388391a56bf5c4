#include "net/client_io.hpp"

#include <optional>
#include <thread>
#include <utility>  // before Boost.Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "durations.hpp"
#include "envelope.hpp"
#include "error.hpp"
#include "net/notice.hpp"
#include "net/tls.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// How long a client waits before connecting again after the server closed its TLS handshake
// (what a retry notice asks for).
constexpr std::chrono::milliseconds kHandshakeRetry{1000};

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

namespace {

// One connection: connect (retrying a refused connection until connect_timeout), the TLS
// handshake, the message out, and the server's one frame back (an answer or a notice).
class Attempt {
 public:
  Attempt(const HostPort& server, const ExchangeOptions& opt, ssl::context* ctx)
      : server_(server), where_(server.str()), opt_(opt), stream_(io_, ctx) {
    if (auto* tls = stream_.tls())
      tls_expect_name(tls->native_handle(), opt.tls->server_name.empty() ? server.host : opt.tls->server_name);
  }

  void connect() {
    tcp::resolver resolver(io_);
    error_code ec;
    auto endpoints = resolver.resolve(server_.host, server_.port, ec);
    if (ec) throw Error(Exit::tempfail, fmt::format("cannot resolve {}: {}", where_, ec.message()));
    tcp::socket& sock = stream_.lowest_layer();
    const auto connect_deadline = Clock::now() + opt_.connect_timeout;
    for (;;) {
      size_t n = 0;
      auto attempt_deadline = std::max(connect_deadline, Clock::now() + std::chrono::seconds(5));
      bool in_time = run_until(io_, sock, attempt_deadline, ec, n, [&](auto handler) {
        asio::async_connect(sock, endpoints, [handler](error_code e, const tcp::endpoint&) mutable { handler(e, 0); });
      });
      if (in_time && !ec) return;
      if (!in_time) ec = asio::error::timed_out;
      if (Clock::now() + std::chrono::milliseconds(200) >= connect_deadline)
        throw Error(Exit::tempfail, fmt::format("cannot connect to {}: {}", where_, ec.message()));
      error_code ignore;
      sock.close(ignore);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  // False if the server closed the connection during the handshake (the caller decides whether
  // to try again).
  bool handshake(Clock::time_point deadline) {
    auto* tls = stream_.tls();
    if (!tls) return true;
    error_code ec;
    size_t n = 0;
    // The message leaves only over a connection whose certificate verified.
    if (!run_until(io_, stream_.lowest_layer(), deadline, ec, n, [&](auto handler) {
          tls->async_handshake(ssl::stream_base::client, [handler](error_code e) mutable { handler(e, 0); });
        }))
      throw timed_out("no TLS handshake with the server");
    if (ec && peer_closed(ec)) return false;
    if (ec)
      throw Error(Exit::data, fmt::format("{}: TLS: {}{}; the message was not sent", where_,
                                          tls_failure(ec, tls->native_handle()),
                                          not_tls(ec) ? " (the server does not speak TLS: does serve run without "
                                                        "--tls-cert?)"
                                                      : ""));
    return true;
  }

  // Sends the message; false if the connection broke while sending (the server may have said
  // why: the caller reads its frame all the same).
  bool send(std::span<const uint8_t> message, Clock::time_point deadline) {
    error_code ec;
    size_t n = 0;
    if (!run_until(io_, stream_.lowest_layer(), deadline, ec, n, [&](auto handler) {
          asio::async_write(stream_, asio::buffer(message.data(), message.size()), handler);
        }))
      throw timed_out("could not send the message");
    if (!ec) return true;
    send_error_ = fmt::format("sending the message failed: {}", tls_failure(ec));
    return false;
  }

  // The server's frame, checked with open_envelope.
  Bytes receive(Clock::time_point deadline) {
    error_code ec;
    size_t n = 0;
    Bytes frame(kHeaderBytes);
    if (!run_until(io_, stream_.lowest_layer(), deadline, ec, n, [&](auto handler) {
          asio::async_read(stream_, asio::buffer(frame.data(), kHeaderBytes), handler);
        }))
      throw timed_out("no answer from the server");
    if (ec) throw closed(ec);
    uint64_t len = frame_body_length(frame, opt_.max_reply_body, fmt::format("answer from {}", where_));
    frame.resize(kHeaderBytes + len + kChecksumBytes);
    if (!run_until(io_, stream_.lowest_layer(), deadline, ec, n, [&](auto handler) {
          asio::async_read(stream_, asio::buffer(frame.data() + kHeaderBytes, len + kChecksumBytes), handler);
        }))
      throw timed_out("the answer did not arrive in full");
    if (ec) {
      if (ec == asio::error::eof || ec == ssl::error::stream_truncated)
        throw Error(Exit::data, fmt::format("answer from {}: truncated: the connection closed in the middle of it",
                                            where_));
      throw closed(ec);
    }
    open_envelope(frame, fmt::format("answer from {}", where_));
    stream_.close();
    return frame;
  }

 private:
  Error timed_out(const char* what) const {
    return Error(Exit::tempfail, fmt::format("{}: {} within {} s (--timeout)", where_, what, to_seconds(opt_.timeout)));
  }
  Error closed(const error_code& e) const {
    if (peer_closed(e) || !send_error_.empty())
      return Error(Exit::tempfail,
                   fmt::format("{}: the server closed the connection without an answer{}: it went away (stopped, "
                               "crashed or restarted) or turned this connection away without saying why; running this "
                               "same command again sends the same message again",
                               where_, send_error_.empty() ? "" : " (" + send_error_ + ")"));
    if (e.category() == asio::error::get_ssl_category())
      return Error(Exit::data, fmt::format("answer from {}: TLS: {}", where_, tls_failure(e)));
    return Error(Exit::tempfail, fmt::format("{}: reading the answer failed: {}", where_, e.message()));
  }

  const HostPort& server_;
  std::string where_;
  const ExchangeOptions& opt_;
  asio::io_context io_;
  Stream stream_;
  std::string send_error_;
};

}  // namespace

Bytes exchange(const HostPort& server, std::span<const uint8_t> message, const ExchangeOptions& opt) {
  const std::string where = server.str();
  // With TLS, the CA file and the name to check come first: a client that cannot check the
  // server never connects.
  std::optional<ssl::context> ctx;
  if (opt.tls) ctx.emplace(tls_client_context(opt.tls->ca_file));
  const unsigned round = message.size() > 7 ? message[7] : 0;
  std::optional<Clock::time_point> deadline;  // --timeout, from the first connection
  Clock::time_point closed_since{};  // the first of the handshakes the server closed in a row
  unsigned closed_handshakes = 0;
  bool connected = false, sent = false;
  for (unsigned attempt = 1;; ++attempt) {
    Attempt a(server, opt, ctx ? &*ctx : nullptr);
    a.connect();
    if (!deadline) deadline = Clock::now() + opt.timeout;
    if (!a.handshake(*deadline)) {
      // A busy server turns away connections that have not identified themselves yet, and one
      // still in its handshake cannot be told so (docs/network.md, "Notices"): try again, as a
      // connection that was refused is, within --connect-timeout. A plain-TCP server closes
      // every handshake: that ends here too, with the error below.
      const auto now = Clock::now();
      if (closed_handshakes++ == 0) closed_since = now;
      if (now + kHandshakeRetry >= std::min(closed_since + opt.connect_timeout, *deadline)) {
        const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(now - closed_since);
        throw Error(Exit::aborted,
                    fmt::format("{}: TLS: the server closed the connection during the handshake{} (a server "
                                "without --tls-cert, or one that refused this connection: its log says which); the "
                                "message was not sent",
                                where, closed_handshakes == 1 ? std::string()
                                                              : fmt::format(", {} times in {} s (--connect-timeout)",
                                                                            closed_handshakes, to_seconds(spent))));
      }
      std::this_thread::sleep_for(kHandshakeRetry);
      continue;
    }
    closed_handshakes = 0;
    if (!connected && opt.on_connected) opt.on_connected();
    connected = true;
    const bool whole = a.send(message, *deadline);
    if (whole && !sent && opt.on_sent) opt.on_sent();
    sent = sent || whole;
    Bytes frame = a.receive(whole ? *deadline : std::min(*deadline, Clock::now() + std::chrono::seconds(5)));
    const std::string origin = fmt::format("answer from {}", where);
    Envelope env = open_envelope(frame, origin);
    if (env.type != MsgType::notice) return frame;
    Notice n = read_notice(env, origin);
    if (opt.session && env.session != *opt.session)
      throw Error(Exit::data, fmt::format("{}: a notice of session {}, not this session", origin,
                                          session_hex(env.session)));
    switch (static_cast<NoticeKind>(n.kind)) {
      case NoticeKind::retry: {
        const auto wait = std::chrono::milliseconds(n.retry_after_ms);
        if (Clock::now() + wait >= *deadline)
          throw Error(Exit::tempfail, fmt::format("{}: the server turned this message away ({}) {} times, and asks "
                                                  "to wait {} s more: past --timeout ({} s); running this same "
                                                  "command again sends the same message again",
                                                  where, n.reason, attempt, to_seconds(wait), to_seconds(opt.timeout)));
        std::this_thread::sleep_for(wait);
        continue;
      }
      case NoticeKind::aborted:
        throw Error(Exit::aborted, fmt::format("{}: the session aborted: {}", where, n.reason));
      case NoticeKind::refused:
        throw Error(Exit::data, fmt::format("{}: the server refused this message: {}", where, n.reason));
      case NoticeKind::stopped:
        throw Error(Exit::tempfail, fmt::format("{}: the server stopped in round {} ({}); rerun this same command "
                                                "once it runs again (serve --resume)",
                                                where, round, n.reason));
    }
  }
}

}  // namespace secagg::net

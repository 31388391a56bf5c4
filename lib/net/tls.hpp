// TLS for socket mode (docs/network.md, "TLS"): the server's and the clients' contexts, TLS 1.3
// only, over OpenSSL through Boost.Asio; and Stream, one connection that is plain TCP or TLS,
// so that the server and the client run the same code over either.
#pragma once
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

namespace secagg::net {

// The server's context (serve --tls-cert, --tls-key): the certificate chain (PEM, the server's
// certificate first) and its private key (PEM, not encrypted); TLS 1.3 only; no session tickets
// (every client connects once per round). Errors: Exit::noinput (a file is missing or cannot be
// read), Exit::noperm (the key file may be read or written by group or others), Exit::data (not
// a PEM certificate or key, or the key does not match the certificate).
boost::asio::ssl::context tls_server_context(const std::string& cert_file, const std::string& key_file);

// A client's context (--tls-ca): it trusts the certificates in ca_file (PEM: a CA, or the
// server's own self-signed certificate) and nothing else (not the system's store); TLS 1.3
// only; the server's certificate must verify. Errors: Exit::noinput, Exit::data (no
// certificate in the file).
boost::asio::ssl::context tls_client_context(const std::string& ca_file);

// Makes the handshake of `ssl` (a client's) check that the server's certificate is valid for
// `name`: an IP address (v4 or v6, no brackets) must be one of its IP subjectAltNames; any other
// name, one of its DNS names (and is sent as SNI). An empty name is a usage error.
void tls_expect_name(SSL* ssl, const std::string& name);

// True if a failed read, write or handshake means only that the peer went away (a TCP close or
// reset, with or without a TLS close_notify), not that it sent something wrong.
bool peer_closed(const boost::system::error_code& ec);

// One line about a failed TLS handshake or record: for a certificate that did not verify (pass
// the connection's SSL), "certificate verify failed: <reason>" with OpenSSL's reason ("self-signed
// certificate", "hostname mismatch"); otherwise OpenSSL's reason ("wrong version number").
std::string tls_failure(const boost::system::error_code& ec, SSL* ssl = nullptr);
// True if a handshake failed because the peer evidently does not speak TLS at all (a plain
// secagg frame, garbage, an HTTP request instead of a TLS record).
bool not_tls(const boost::system::error_code& ec);

// One TCP connection, plain or TLS (with TLS when made with a context). It models Asio's
// AsyncReadStream and AsyncWriteStream, so asio::async_read and async_write work on either;
// the TLS handshake (and everything about the socket) is the caller's.
class Stream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;
  using lowest_layer_type = boost::asio::ip::tcp::socket;

  // ctx, if not null, must outlive the stream.
  Stream(boost::asio::io_context& io, boost::asio::ssl::context* ctx) : sock_(io) {
    if (ctx) tls_.emplace(sock_, *ctx);
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  executor_type get_executor() { return sock_.get_executor(); }
  lowest_layer_type& lowest_layer() { return sock_; }
  // The TLS stream over the socket; null on a plain connection.
  boost::asio::ssl::stream<lowest_layer_type&>* tls() { return tls_ ? &*tls_ : nullptr; }

  // Asio's stream interface: each call goes to the TLS stream, or straight to the socket.
  template <class MutableBuffers, class Handler>
  void async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    either([&](auto& s) { s.async_read_some(buffers, std::forward<Handler>(handler)); });
  }
  template <class ConstBuffers, class Handler>
  void async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    either([&](auto& s) { s.async_write_some(buffers, std::forward<Handler>(handler)); });
  }

  // Shuts the socket down and closes it (pending operations end with operation_aborted),
  // without a TLS close_notify: every frame carries its own length, so neither side needs one.
  void close() {
    boost::system::error_code ignore;
    sock_.shutdown(lowest_layer_type::shutdown_both, ignore);
    sock_.close(ignore);
  }

 private:
  template <class F>
  void either(F&& f) {
    if (tls_)
      f(*tls_);
    else
      f(sock_);
  }
  lowest_layer_type sock_;
  std::optional<boost::asio::ssl::stream<lowest_layer_type&>> tls_;  // refers to sock_
};

}  // namespace secagg::net

#include "net/tls.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "error.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;

// OpenSSL's reason for a failed context call ("no start line"), and a clean error queue.
std::string reason(const error_code& ec) {
  const char* r = nullptr;
  if (ec.category() == asio::error::get_ssl_category())
    r = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
  ERR_clear_error();
  return r ? r : ec.message();
}

// A named input file must exist and be readable, with a clear error if not (OpenSSL's own
// message for a missing file is "system lib").
struct stat readable(const std::string& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0) {
    int e = errno;
    throw Error(e == EACCES ? Exit::noperm : Exit::noinput,
                fmt::format("{}: cannot read the {}: {}", path, what, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) throw Error(Exit::noinput, fmt::format("{}: the {} is not a regular file", path, what));
  return st;
}

void tls13_only(ssl::context& ctx) {
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1)
    throw Error(Exit::software, "TLS: this OpenSSL cannot be limited to TLS 1.3");
}

}  // namespace

ssl::context tls_server_context(const std::string& cert_file, const std::string& key_file) {
  readable(cert_file, "certificate (--tls-cert)");
  struct stat st = readable(key_file, "private key (--tls-key)");
  if ((st.st_mode & 077) != 0)
    throw Error(Exit::noperm,
                fmt::format("{}: the private key may be read or written by group or others (mode {:04o}); run "
                            "'chmod 600 {}' first",
                            key_file, st.st_mode & 07777, key_file));
  ssl::context ctx(ssl::context::tls_server);
  tls13_only(ctx);
  SSL_CTX_set_num_tickets(ctx.native_handle(), 0);
  error_code ec;
  // No pass phrase: OpenSSL would otherwise ask for one on the terminal.
  ctx.set_password_callback([](size_t, ssl::context::password_purpose) { return std::string(); }, ec);
  ctx.use_certificate_chain_file(cert_file, ec);
  if (ec)
    throw Error(Exit::data, fmt::format("{}: not a PEM certificate chain (--tls-cert): {}", cert_file, reason(ec)));
  ctx.use_private_key_file(key_file, ssl::context::pem, ec);
  const auto code = static_cast<unsigned long>(ec.value());
  if ((ec && ERR_GET_LIB(code) == ERR_LIB_X509 && ERR_GET_REASON(code) == X509_R_KEY_VALUES_MISMATCH) ||
      (!ec && SSL_CTX_check_private_key(ctx.native_handle()) != 1)) {
    ERR_clear_error();
    throw Error(Exit::data,
                fmt::format("{}: this private key does not belong to the certificate in {}", key_file, cert_file));
  }
  if (ec)
    throw Error(Exit::data,
                fmt::format("{}: not an unencrypted PEM private key (--tls-key): {}", key_file, reason(ec)));
  return ctx;
}

ssl::context tls_client_context(const std::string& ca_file) {
  readable(ca_file, "CA certificate (--tls-ca)");
  ssl::context ctx(ssl::context::tls_client);
  tls13_only(ctx);
  error_code ec;
  ctx.load_verify_file(ca_file, ec);
  if (ec) throw Error(Exit::data, fmt::format("{}: no PEM certificate to trust (--tls-ca): {}", ca_file, reason(ec)));
  ctx.set_verify_mode(ssl::verify_peer);
  return ctx;
}

void tls_expect_name(SSL* ssl, const std::string& name) {
  if (name.empty()) throw Error(Exit::usage, "TLS: the server name to check the certificate against is empty");
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  error_code ec;
  asio::ip::make_address(name, ec);
  if (!ec) {
    // An IP address: matched against the certificate's IP subjectAltNames only.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1)
      throw Error(Exit::usage, fmt::format("TLS: cannot check the certificate against address {}", name));
    return;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, name.c_str()) != 1 || SSL_set_tlsext_host_name(ssl, name.c_str()) != 1)
    throw Error(Exit::usage, fmt::format("TLS: '{}' is not a host name a certificate can be checked against", name));
}

bool peer_closed(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted;
}

std::string tls_failure(const error_code& ec, SSL* ssl) {
  if (ssl) {
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) return fmt::format("certificate verify failed: {}", X509_verify_cert_error_string(v));
  }
  std::string text = reason(ec);
  const auto code = static_cast<unsigned long>(ec.value());
  const bool ssl_lib = ec.category() == asio::error::get_ssl_category() && ERR_GET_LIB(code) == ERR_LIB_SSL;
  if (ssl_lib && (ERR_GET_REASON(code) == SSL_R_UNSUPPORTED_PROTOCOL ||
                  ERR_GET_REASON(code) == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION))
    text += " (secagg speaks TLS 1.3 only)";
  return text;
}

bool not_tls(const error_code& ec) {
  if (ec.category() != asio::error::get_ssl_category()) return false;
  const auto code = static_cast<unsigned long>(ec.value());
  if (ERR_GET_LIB(code) != ERR_LIB_SSL) return false;
  switch (ERR_GET_REASON(code)) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH: return true;
    default: return false;
  }
}

}  // namespace secagg::net

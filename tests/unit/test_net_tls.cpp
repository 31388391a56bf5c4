// TLS for socket mode (net/tls.hpp, net::exchange with ExchangeOptions::tls): the server's
// certificate and key files, and a client that sends its message only to a server whose
// certificate verifies for the name it expects. The certificates are made here with libcrypto.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

#include <boost/asio.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "envelope.hpp"
#include "error.hpp"
#include "net/client_io.hpp"
#include "net/tls.hpp"

using namespace secagg;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

std::string pem_of(int (*write)(BIO*, void*), void* obj) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(write(bio.get(), obj) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

// A self-signed P-256 certificate for the subjectAltNames `san` ("IP:127.0.0.1,DNS:x").
struct Cert {
  std::string cert_pem, key_pem;
};
Cert self_signed(const char* san) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                          EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<X509, decltype(&X509_free)> x(X509_new(), X509_free);
  REQUIRE(X509_set_version(x.get(), 2) == 1);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 86400);
  REQUIRE(X509_set_pubkey(x.get(), key.get()) == 1);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("secagg unit test"), -1,
                             -1, 0);
  REQUIRE(X509_set_issuer_name(x.get(), name) == 1);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x.get(), x.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san);
  REQUIRE(ext);
  X509_add_ext(x.get(), ext, -1);
  X509_EXTENSION_free(ext);
  REQUIRE(X509_sign(x.get(), key.get(), EVP_sha256()) > 0);
  Cert c;
  c.cert_pem = pem_of([](BIO* b, void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(o)); }, x.get());
  c.key_pem = pem_of(
      [](BIO* b, void* o) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(o), nullptr, nullptr, 0, nullptr, nullptr);
      },
      key.get());
  return c;
}

// A temporary directory, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "secagg-tls-XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) const {
    std::string p = (path / name).string();
    std::ofstream(p) << text;
    REQUIRE(chmod(p.c_str(), mode) == 0);
    return p;
  }
};

Exit code_of(const std::function<void()>& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (what) *what = e.what();
    return e.code();
  }
  return Exit::ok;
}

// A one-connection TLS server on 127.0.0.1 in its own thread: it reads the client's message
// (`expect` bytes) and answers with a 40-byte header that is not a secagg frame.
struct OneShotServer {
  ssl::context ctx;
  asio::io_context io;
  tcp::acceptor acc{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::string received;
  bool handshaken = false;
  std::thread thread;
  OneShotServer(const std::string& cert, const std::string& key, size_t expect)
      : ctx(net::tls_server_context(cert, key)) {
    thread = std::thread([this, expect] {
      tcp::socket sock(io);
      boost::system::error_code ec;
      acc.accept(sock, ec);
      if (ec) return;
      ssl::stream<tcp::socket&> tls(sock, ctx);
      tls.handshake(ssl::stream_base::server, ec);
      if (ec) return;
      handshaken = true;
      std::string buf(expect, '\0');
      size_t n = asio::read(tls, asio::buffer(buf), ec);
      received = buf.substr(0, n);
      if (ec) return;
      std::string reply(kHeaderBytes, 'x');
      asio::write(tls, asio::buffer(reply), ec);
    });
  }
  ~OneShotServer() {
    if (thread.joinable()) thread.join();
  }
  net::HostPort where() const { return {"127.0.0.1", std::to_string(acc.local_endpoint().port())}; }
};

}  // namespace

TEST_CASE("tls_server_context: certificate and key files") {
  TempDir d;
  Cert a = self_signed("IP:127.0.0.1");
  Cert b = self_signed("IP:127.0.0.1");
  std::string cert = d.write("a.pem", a.cert_pem, 0644);
  std::string key = d.write("a.key", a.key_pem);
  CHECK(code_of([&] { net::tls_server_context(cert, key); }) == Exit::ok);
  std::string what;
  for (mode_t m : {0640, 0604, 0644, 0620}) {
    CAPTURE(m);
    std::string open = d.write("open.key", a.key_pem, m);
    CHECK(code_of([&] { net::tls_server_context(cert, open); }, &what) == Exit::noperm);
    CHECK(what.find("may be read or written by group or others") != std::string::npos);
  }
  CHECK(code_of([&] { net::tls_server_context(cert, (d.path / "nosuch.key").string()); }) == Exit::noinput);
  CHECK(code_of([&] { net::tls_server_context((d.path / "nosuch.pem").string(), key); }) == Exit::noinput);
  std::string other_key = d.write("b.key", b.key_pem);
  CHECK(code_of([&] { net::tls_server_context(cert, other_key); }, &what) == Exit::data);
  CHECK(what.find("does not belong to the certificate") != std::string::npos);
  CHECK(code_of([&] { net::tls_server_context(key, key); }, &what) == Exit::data);  // a key is no certificate
  CHECK(code_of([&] { net::tls_server_context(cert, d.write("cert-as.key", a.cert_pem)); }) == Exit::data);
}

TEST_CASE("tls_client_context and the name to check") {
  TempDir d;
  Cert a = self_signed("IP:127.0.0.1");
  CHECK(code_of([&] { net::tls_client_context(d.write("a.pem", a.cert_pem, 0644)); }) == Exit::ok);
  CHECK(code_of([&] { net::tls_client_context(d.write("junk.pem", "junk\n", 0644)); }) == Exit::data);
  CHECK(code_of([&] { net::tls_client_context((d.path / "nosuch.pem").string()); }) == Exit::noinput);
  net::HostPort hp{"127.0.0.1", "1"};
  const std::string ca = (d.path / "a.pem").string();
  CHECK(code_of([&] { net::check_tls_options(hp, {ca, ""}); }) == Exit::ok);
  CHECK(code_of([&] { net::check_tls_options(hp, {ca, "secagg.example"}); }) == Exit::ok);
  CHECK(code_of([&] { net::check_tls_options({"::1", "1"}, {ca, ""}); }) == Exit::ok);
  CHECK(code_of([&] { net::check_tls_options(hp, {(d.path / "nosuch.pem").string(), ""}); }) == Exit::noinput);
}

TEST_CASE("exchange over TLS: the message leaves only if the certificate verifies for the name") {
  TempDir d;
  Cert server = self_signed("IP:127.0.0.1,DNS:secagg.test");
  Cert impostor = self_signed("IP:127.0.0.1,DNS:secagg.test");
  const std::string cert = d.write("server.pem", server.cert_pem, 0644);
  const std::string key = d.write("server.key", server.key_pem);
  const std::string other = d.write("impostor.pem", impostor.cert_pem, 0644);
  const std::string message(100, 'm');
  std::span<const uint8_t> msg(reinterpret_cast<const uint8_t*>(message.data()), message.size());

  struct Case {
    const char* name;
    std::string ca, server_name;
    const char* error;  // nullptr: the handshake succeeds
  };
  const Case cases[] = {
      {"trusted, checked by address", cert, "", nullptr},
      {"trusted, checked by DNS name", cert, "secagg.test", nullptr},
      {"another certificate", other, "", "certificate verify failed: self-signed certificate"},
      {"a DNS name the certificate lacks", cert, "other.test", "certificate verify failed: hostname mismatch"},
      {"an address the certificate lacks", cert, "127.0.0.2", "certificate verify failed: IP address mismatch"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    OneShotServer srv(cert, key, message.size());
    net::ExchangeOptions opt;
    opt.timeout = std::chrono::seconds(10);
    opt.connect_timeout = std::chrono::seconds(0);
    opt.tls = net::TlsClientOptions{c.ca, c.server_name};
    bool connected = false, sent = false;
    opt.on_connected = [&] { connected = true; };
    opt.on_sent = [&] { sent = true; };
    std::string what;
    Exit code = code_of([&] { net::exchange(srv.where(), msg, opt); }, &what);
    srv.thread.join();
    CHECK(code == Exit::data);
    if (c.error) {
      CHECK(what.find("TLS: " + std::string(c.error)) != std::string::npos);
      CHECK(what.find("the message was not sent") != std::string::npos);
      CHECK_FALSE(connected);
      CHECK_FALSE(sent);
      CHECK_FALSE(srv.handshaken);
      CHECK(srv.received.empty());
    } else {
      // The message arrived whole through TLS; the answer is not a frame.
      CHECK(what.find("not a secagg frame") != std::string::npos);
      CHECK(connected);
      CHECK(sent);
      CHECK(srv.handshaken);
      CHECK(srv.received == message);
    }
  }
}

TEST_CASE("peer_closed and not_tls") {
  CHECK(net::peer_closed(asio::error::eof));
  CHECK(net::peer_closed(ssl::error::stream_truncated));
  CHECK(net::peer_closed(asio::error::connection_reset));
  CHECK_FALSE(net::peer_closed(asio::error::timed_out));
  CHECK_FALSE(net::not_tls(asio::error::eof));
  boost::system::error_code wrong_version(
      static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, SSL_R_WRONG_VERSION_NUMBER)), asio::error::get_ssl_category());
  CHECK(net::not_tls(wrong_version));
  CHECK(net::tls_failure(wrong_version) == "wrong version number");
}

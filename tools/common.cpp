#include "common.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <new>

#include "client.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "net/client_io.hpp"
#include "protocol.hpp"
#include "random.hpp"

namespace secagg::tool {

int run(CLI::App& app, int argc, char** argv, const std::function<void()>& body) {
  const std::string name = app.get_name();
  const std::string footer = app.get_footer().empty() ? std::string(kExitCodes) : app.get_footer();
  app.footer(footer);
  for (CLI::App* sub : app.get_subcommands({}))
    if (sub->get_footer().empty()) sub->footer(footer);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: %s\n%s: hint: run '%s --help' for usage\n", name.c_str(), e.what(), name.c_str(),
                 name.c_str());
    return static_cast<int>(Exit::usage);
  }
  try {
    crypto_init();
    body();
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", name.c_str());
    return static_cast<int>(Exit::software);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: internal error: %s\n", name.c_str(), e.what());
    return static_cast<int>(Exit::software);
  }
}

Envelope read_message(const std::string& path) {
  Bytes b = read_message_file(path);
  return open_envelope(b, path == "-" ? "<stdin>" : path);
}

ClientState read_state(const std::string& path) {
  Bytes b = read_message_file(path);
  Envelope env;
  try {
    env = open_envelope(b, path);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
  if (env.type != MsgType::client_state)
    throw Error(Exit::data, path + ": is a message of type " + std::string(type_name(env.type)) + ", not a client state file");
  ClientState st = decode_body<ClientState>(env, path);
  sodium_memzero(env.body.data(), env.body.size());
  validate_state(st, path);
  return st;
}

void write_state(const std::string& path, const ClientState& st) {
  Bytes b = encode(MsgType::client_state, st.session, st.id, st.id, st);
  try {
    write_file_atomic(path, b, 0600);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
}

void write_output(const std::string& path, std::span<const uint8_t> data) { write_file_atomic(path, data); }
void write_output(const std::string& path, std::string_view text) { write_file_atomic(path, text); }

void add_net_flags(CLI::App& app, NetFlags& f, const char* recv_help) {
  app.add_option("--connect", f.connect,
                 "Socket mode: send the message to the server at HOST:PORT (secagg-collect serve) instead of "
                 "writing it out, and wait for the server's next-round message");
  app.add_option("--recv", f.recv, recv_help);
  app.add_option("--timeout", f.timeout,
                 "Socket mode: seconds to wait for the server's answer once connected (default 600)")
      ->check(CLI::PositiveNumber);
  app.add_option("--connect-timeout", f.connect_timeout,
                 "Socket mode: seconds to keep retrying a refused connection (default 10; 0: try once)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tls-ca", f.tls_ca,
                 "Socket mode over TLS 1.3: trust the CA certificate (or the server's self-signed certificate) in "
                 "this PEM file; the server's certificate must verify and name the --connect host, or nothing is sent");
  app.add_option("--tls-server-name", f.tls_server_name,
                 "Socket mode over TLS: the DNS name or IP address the server's certificate must carry (default: "
                 "the host of --connect)");
}

bool net_mode(const NetFlags& f) {
  if (!f.tls_server_name.empty() && f.tls_ca.empty())
    throw Error(Exit::usage, "--tls-server-name needs --tls-ca (the certificate to check the name against)");
  if (f.connect.empty()) {
    if (!f.recv.empty()) throw Error(Exit::usage, "--recv needs --connect");
    if (!f.tls_ca.empty()) throw Error(Exit::usage, "--tls-ca needs --connect");
    return false;
  }
  if (f.recv_required && f.recv.empty())
    throw Error(Exit::usage, "--connect needs --recv FILE (where to save the server's next-round message)");
  net::HostPort server = net::parse_host_port(f.connect, "--connect");
  // At once, before the step does any work or changes any state.
  if (!f.tls_ca.empty()) net::check_tls_options(server, {f.tls_ca, f.tls_server_name});
  return true;
}

namespace {
std::chrono::milliseconds ms(double s) {
  return std::chrono::milliseconds(static_cast<long long>(std::llround(std::min(s, 1e9) * 1000.0)));
}
}  // namespace

void net_round(const NetFlags& f, std::span<const uint8_t> msg, const Params& p, const SessionId& sid,
               MsgType reply_type, uint32_t recipient, const std::function<void()>& on_sent,
               const std::function<void()>& on_connected) {
  net::HostPort server = net::parse_host_port(f.connect, "--connect");
  net::ExchangeOptions opt;
  opt.timeout = ms(f.timeout);
  opt.connect_timeout = ms(f.connect_timeout);
  opt.max_reply_body = net::max_server_body(p);
  opt.on_sent = on_sent;
  opt.on_connected = on_connected;
  if (!f.tls_ca.empty()) opt.tls = net::TlsClientOptions{f.tls_ca, f.tls_server_name};
  Bytes reply = net::exchange(server, msg, opt);
  const std::string origin = "answer from " + server.str();
  Envelope env = open_envelope(reply, origin);
  expect_message(env, origin, reply_type, sid);
  expect_sender(env, origin, kServerId);
  if (recipient != kServerId) expect_recipient(env, origin, recipient);
  if (!f.recv.empty()) write_file_atomic(f.recv, reply);
}

}  // namespace secagg::tool

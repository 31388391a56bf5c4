#include "common.hpp"

#include <cstdio>
#include <new>

#include "cli_suggest.hpp"
#include <unistd.h>

#include "client.hpp"
#include "durations.hpp"
#include "error.hpp"
#include "exit_codes.hpp"
#include "fileio.hpp"
#include "net/client_io.hpp"
#include "protocol.hpp"
#include "random.hpp"

namespace secagg::tool {

namespace {
// "secagg-collect setup": the deepest subcommand the parse got to, for the --help hint.
std::string parsed_command(const CLI::App& app) {
  std::string cmd = app.get_name();
  const CLI::App* cur = &app;
  while (!cur->get_subcommands().empty()) {
    cur = cur->get_subcommands().front();
    cmd += " " + cur->get_name();
  }
  return cmd;
}
}  // namespace

int run(CLI::App& app, int argc, char** argv, const std::function<void()>& body) {
  const std::string name = app.get_name();
  app.footer(exit_status_footer(name));
  for (CLI::App* sub : app.get_subcommands({})) sub->footer(exit_status_footer(name + " " + sub->get_name()));
  const std::string version = name + " " + SECAGG_VERSION;
  app.set_version_flag("--version", version, "Print the version (" + version + ") and exit");
  for (CLI::App* sub : app.get_subcommands({}))
    sub->set_version_flag("--version", version, "Print the version (" + version + ") and exit");
  auto usage_error = [&](const std::string& message, const std::string& command) {
    std::fprintf(stderr, "%s: error: %s\n%s: hint: run '%s --help' for usage\n", name.c_str(), message.c_str(),
                 name.c_str(), command.c_str());
    return static_cast<int>(Exit::usage);
  };
  // Before CLI11: it reports a missing required option before an unknown one.
  if (auto unknown = find_unknown_name(app, argc, argv)) return usage_error(unknown->message, unknown->command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what(), parsed_command(app));
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

Envelope read_message(const std::string& path, const MessageLimits& limits) {
  Bytes b = read_message_file(path, limits);
  return open_envelope(std::move(b), path == "-" ? "<stdin>" : path);
}

Envelope read_message(const std::string& path, const Params* p, std::optional<MsgType> expect) {
  MessageLimits limits;
  limits.params = p;
  limits.type = expect;
  return read_message(path, limits);
}

Envelope open_secret_envelope(Bytes& b, const std::string& path) {
  Envelope env;
  try {
    env = open_envelope(b, path);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
  return env;
}

namespace {
ClientState decode_state(Bytes b, const std::string& path) {
  Envelope env = open_secret_envelope(b, path);
  if (env.type != MsgType::client_state)
    throw Error(Exit::data, path + ": is a message of type " + std::string(type_name(env.type)) + ", not a client state file");
  ClientState st = decode_body<ClientState>(env, path);
  sodium_memzero(env.body.data(), env.body.size());
  validate_state(st, path);
  return st;
}

Bytes encode_state(const ClientState& st) { return encode(MsgType::client_state, st.session, st.id, st.id, st); }
}  // namespace

ClientState read_state(const std::string& path, StateLock& lock) {
  remove_temporary_on_signals();
  lock = StateLock::acquire(path);
  return decode_state(lock.read(), path);
}

std::optional<ClientState> read_state_if_exists(const std::string& path, StateLock& lock) {
  remove_temporary_on_signals();
  lock = StateLock::acquire(path, /*missing_ok=*/true);
  if (!lock.held()) return std::nullopt;
  return decode_state(lock.read(), path);
}

void write_state(StateLock& lock, const ClientState& st) {
  Bytes b = encode_state(st);
  try {
    lock.commit(b);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
}

bool create_state(const std::string& path, const ClientState& st, StateLock& lock) {
  Bytes b = encode_state(st);
  std::optional<StateLock> made;
  try {
    made = StateLock::create(path, b);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
  if (!made) return false;
  lock = std::move(*made);
  return true;
}

void check_output_target(const std::string& path) {
  if (path == "-" && ::isatty(STDOUT_FILENO))
    throw Error(Exit::usage, "refusing to write a binary message to a terminal: give -o FILE or redirect");
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

void net_round(const NetFlags& f, std::span<const uint8_t> msg, const Params& p, const SessionId& sid,
               MsgType reply_type, uint32_t recipient, const std::function<void()>& on_sent,
               const std::function<void()>& on_connected) {
  net::HostPort server = net::parse_host_port(f.connect, "--connect");
  net::ExchangeOptions opt;
  opt.timeout = from_seconds(f.timeout);
  opt.connect_timeout = from_seconds(f.connect_timeout);
  opt.max_reply_body = net::max_server_body(p);
  opt.on_sent = on_sent;
  opt.on_connected = on_connected;
  if (!f.tls_ca.empty()) opt.tls = net::TlsClientOptions{f.tls_ca, f.tls_server_name};
  opt.session = sid;
  Bytes reply = net::exchange(server, msg, opt);
  const std::string origin = "answer from " + server.str();
  Envelope env = open_envelope(reply, origin);
  expect_message(env, origin, reply_type, sid);
  expect_sender(env, origin, kServerId);
  if (recipient != kServerId) expect_recipient(env, origin, recipient);
  if (!f.recv.empty()) write_file_atomic(f.recv, reply);
}

void finish_client_step(const NetFlags& f, bool networked, StateLock& lock, const ClientState& st, bool fresh,
                        std::span<const uint8_t> msg, const std::string& out, bool out_given, MsgType reply_type,
                        uint32_t recipient) {
  send_after_saving(
      f, networked, lock,
      [&] {
        if (fresh) write_state(lock, st);
      },
      msg, out, out_given, st.params, st.session, reply_type, recipient);
}

void send_after_saving(const NetFlags& f, bool networked, StateLock& lock, const std::function<void()>& save,
                       std::span<const uint8_t> msg, const std::string& out, bool out_given, const Params& p,
                       const SessionId& sid, MsgType reply_type, uint32_t recipient) {
  auto commit = [&] {
    save();
    if (!networked || out_given) write_output(out, msg);
  };
  if (!networked) {
    commit();
    return;
  }
  // net::exchange runs on_connected once, for the first connection: a retry does not commit again.
  net_round(f, msg, p, sid, reply_type, recipient, {}, [&] {
    commit();
    lock.release();
  });
}

CLI::Option* add_output_option(CLI::App& app, std::string& out, const char* message) {
  return app.add_option("-o,--output", out,
                        std::string("Where to write the ") + message +
                            " message (default: stdout; with --connect: nowhere unless given)");
}

void add_step_inputs(CLI::App& app, ClientStep& s, const char* state_help, const char* in_name, const char* in_help) {
  app.add_option("--state", s.state_path, state_help)->required();
  app.add_option(in_name, s.in_path, in_help)->required();
}

void add_step_outputs(CLI::App& app, ClientStep& s, const char* message, const char* recv_help) {
  s.out_opt = add_output_option(app, s.out, message);
  add_net_flags(app, s.net, recv_help);
}

void run_client_step(const ClientStep& s, MsgType in_type, MsgType reply_type, bool reply_to_client,
                     const std::function<Bytes(ClientState&, StateLock&, const Envelope&)>& step) {
  run_client_step(s, [in_type](const Params&) { return std::optional(in_type); }, reply_type, reply_to_client, step);
}

void run_client_step(const ClientStep& s, const std::function<std::optional<MsgType>(const Params&)>& in_type_of,
                     MsgType reply_type, bool reply_to_client,
                     const std::function<Bytes(ClientState&, StateLock&, const Envelope&)>& step) {
  const bool networked = net_mode(s.net);
  const bool out_given = s.out_opt->count() > 0;
  if (!networked || out_given) check_output_target(s.out);
  StateLock lock;
  ClientState st = read_state(s.state_path, lock);
  Envelope in = read_message(s.in_path, &st.params, in_type_of(st.params));
  const uint8_t before = st.stage;
  Bytes msg = step(st, lock, in);
  const bool fresh = st.stage != before;  // else a rerun: the state already holds msg
  finish_client_step(s.net, networked, lock, st, fresh, msg, s.out, out_given, reply_type,
                     reply_to_client ? st.id : kServerId);
}

}  // namespace secagg::tool

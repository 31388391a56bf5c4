// What every secagg executable shares: the error style and exit codes
// (README.md "Exit status", each man page's EXIT STATUS), message and state file I/O, output writing.
#pragma once
#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "envelope.hpp"
#include "fileio.hpp"
#include "message_file.hpp"
#include "messages.hpp"
#include "state_lock.hpp"

namespace secagg::tool {

// Parse argv into app, then run body. Maps CLI11 errors to 64 (help and --version to 0),
// secagg::Error to its code, anything else to 70, printing one line:
//   <tool>: error: <message>
// An unknown option or subcommand is named, with the nearest known one (cli_suggest.hpp).
// Sets the --help footers of app and its subcommands from exit_codes.hpp, and adds --version.
int run(CLI::App& app, int argc, char** argv, const std::function<void()>& body);

// Read and verify a message file ("-" is stdin), header first: with the session's params the
// body may be no larger than this session allows, and with an expected type a header of another
// type is refused before the body is read (lib/protocol/message_file.hpp).
Envelope read_message(const std::string& path, const Params* p = nullptr,
                      std::optional<MsgType> expect = std::nullopt);
Envelope read_message(const std::string& path, const MessageLimits& limits);
// Lock a client state file (state_lock.hpp: Exit::tempfail if another step holds it) and read
// it; refuses a file that is not a client state. The lock is held until `lock` goes.
ClientState read_state(const std::string& path, StateLock& lock);
// The same for keygen: a missing file gives nullopt (and an empty lock).
std::optional<ClientState> read_state_if_exists(const std::string& path, StateLock& lock);
// Commit a client state under its lock, atomically, 0600.
void write_state(StateLock& lock, const ClientState& st);
// Create a new client state file, locked; false if the path exists (another keygen made it).
bool create_state(const std::string& path, const ClientState& st, StateLock& lock);
// Refuse (Exit::usage) to write a binary message to a terminal, as age does: called before a
// step changes its state, for the output the step will write ("-": stdout).
void check_output_target(const std::string& path);
// Write an output file atomically ("-": stdout).
void write_output(const std::string& path, std::span<const uint8_t> data);
void write_output(const std::string& path, std::string_view text);

// Socket mode for a client step: --connect, --recv, --timeout, --connect-timeout, and TLS
// (--tls-ca, --tls-server-name).
struct NetFlags {
  std::string connect;
  std::string recv;
  std::string tls_ca;           // empty: plain TCP
  std::string tls_server_name;  // empty: the host of --connect
  double timeout = 600;
  double connect_timeout = 10;
  bool recv_required = true;
};
// Adds the flags; `recv_help` says what the server's answer is and where file mode reads it.
void add_net_flags(CLI::App& app, NetFlags& f, const char* recv_help);
// Usage checks (--recv needs --connect and vice versa, --tls-* need --connect); true if socket
// mode is on.
bool net_mode(const NetFlags& f);
// Sends msg to the server, waits for its answer of the next round (type reply_type, this
// session, from the server; addressed to `recipient` unless it is kServerId), and saves it to
// f.recv (if set). on_connected runs once the server is reached (and with TLS authenticated),
// before any byte of msg is sent; on_sent once the message has left.
void net_round(const NetFlags& f, std::span<const uint8_t> msg, const Params& p, const SessionId& sid,
               MsgType reply_type, uint32_t recipient, const std::function<void()>& on_sent,
               const std::function<void()>& on_connected = {});
// The envelope of a file that holds secrets (a client state, an identity), read into b: b is
// wiped whether or not it opens (the envelope's body keeps the secret; wipe it after decoding).
Envelope open_secret_envelope(Bytes& b, const std::string& path);

// The end of a client step (share, mask, unmask): its state, which records msg, is committed
// before msg goes anywhere, so no crash can lead to a second, different message and a rerun
// sends the same one. File mode: the state, then msg to `out`. Socket mode: the state once the
// server is reached (and, with TLS, authenticated), before any byte leaves, so an unreachable
// server changes nothing; msg also goes to `out` if out_given. fresh false: a rerun, whose
// state already holds msg.
void finish_client_step(const NetFlags& f, bool networked, StateLock& lock, const ClientState& st, bool fresh,
                        std::span<const uint8_t> msg, const std::string& out, bool out_given, MsgType reply_type,
                        uint32_t recipient);
// The same ordering for any step, keygen's too: `save` commits the state that records msg (it
// may do nothing: a rerun, or a state created already), then msg goes to `out` (file mode, or
// out_given) and, in socket mode, to the server of session (p, sid) once it is reached.
void send_after_saving(const NetFlags& f, bool networked, StateLock& lock, const std::function<void()>& save,
                       std::span<const uint8_t> msg, const std::string& out, bool out_given, const Params& p,
                       const SessionId& sid, MsgType reply_type, uint32_t recipient);

// -o/--output for the message a client step writes (`message`: "share-keys"), "-" for stdout.
CLI::Option* add_output_option(CLI::App& app, std::string& out, const char* message);

// The command line of a client round step (share, mask, unmask): its state, the server's message
// it answers (`in`), where its own message goes, and socket mode.
struct ClientStep {
  std::string state_path, in_path, out = "-";
  CLI::Option* out_opt = nullptr;
  NetFlags net;
};
// --state, then the option that names the server's message (in_name: "--roster").
void add_step_inputs(CLI::App& app, ClientStep& s, const char* state_help, const char* in_name, const char* in_help);
// -o/--output, then the socket-mode flags (add_net_flags).
void add_step_outputs(CLI::App& app, ClientStep& s, const char* message, const char* recv_help);
// Runs a client round step: socket mode's usage checks and the output target first, then the
// state locked and read, the server's message read (type in_type, within the session's limits),
// `step` (which answers it, updating the state, or throws), and finish_client_step. In socket
// mode the server answers with reply_type, addressed to this client if reply_to_client (an
// inbox), else to anyone.
// in_type_of: the type of the server's message the step answers, by the session's params (none:
// any type, for the step to tell the user what it expected).
void run_client_step(const ClientStep& s, const std::function<std::optional<MsgType>(const Params&)>& in_type_of,
                     MsgType reply_type, bool reply_to_client,
                     const std::function<Bytes(ClientState&, StateLock&, const Envelope&)>& step);
void run_client_step(const ClientStep& s, MsgType in_type, MsgType reply_type, bool reply_to_client,
                     const std::function<Bytes(ClientState&, StateLock&, const Envelope&)>& step);

}  // namespace secagg::tool

// The server side of socket mode: every remaining round of a session, in one process, over
// TCP or TLS 1.3 (Boost.Asio, one io_context, one thread). It writes into the session directory
// exactly what the file-mode steps (secagg-collect keys, shares, masked, unmask) write, so a
// networked session can be audited and replayed with the file-mode tools.
//
// A round closes when every client expected in it has sent an accepted message, or when its
// deadline passes; the round's collect step (server.hpp) then either yields the next round's
// messages, sent to every client that answered, or aborts the session (fewer than t clients):
// then every client is sent an `aborted` notice instead of an answer and run_server throws
// Error(Exit::aborted). A client that disconnects, stalls, fails the TLS handshake, sends an
// oversized frame, garbage or a message that is refused is a dropout for that round (one log
// line each, and a `refused` notice), never a failure of the server; one turned away for lack
// of room (connections, memory) gets a `retry` notice. With TLS, the handshake counts against
// the connection's frame deadline. What the server holds per connection and in all is bounded
// (docs/network.md, "Connection budgets"; net/conn_budget.hpp).
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "messages.hpp"
#include "progress.hpp"
#include "session_dir.hpp"

namespace secagg::net {

struct ServeOptions {
  std::string listen;  // HOST:PORT; port 0 picks a free port
  std::chrono::milliseconds round_timeout{120000};
  // A connection must deliver its whole message within this time of connecting, and take
  // its answer within this time of it being sent.
  std::chrono::milliseconds frame_timeout{30000};
  std::string port_file;  // if set, the bound port is written there (decimal, newline)
  bool resume = false;    // continue a session whose earlier rounds are in the directory
  unsigned threads = 1;   // for mask removal
  size_t max_connections = 0;  // open connections at once; 0: 3n + max_unidentified
  // Connections that have not sent a valid header yet; a new one turns the oldest away.
  size_t max_unidentified = 64;
  // Bytes reserved for frames being read (each reserves its announced size); 0: the default below.
  uint64_t max_pending_bytes = 0;
  // TLS (both or neither; PEM): the certificate chain and the unencrypted private key, which
  // may not be readable by group or others (net/tls.hpp). Empty: plain TCP.
  std::string tls_cert, tls_key;
  // Called with the aggregate (and its vector message) before S/aggregate.vec is written.
  std::function<void(const std::vector<uint64_t>&, const Bytes&)> on_aggregate;
};

// Where the round being collected stands.
struct RoundStatus {
  Round round = Round::none;
  size_t in = 0;        // clients whose message was accepted
  size_t expected = 0;  // of those the round waits for
  std::chrono::steady_clock::time_point deadline{};  // when it closes with those that answered
  bool closing = false;  // closed: the server is collecting it (in round 4, removing the masks)
};

struct ServeLog {
  std::function<void(const std::string&)> warn;  // dropouts, refusals: always shown
  std::function<void(const std::string&)> info;  // progress (shown with -v)
  // For a caller that shows the round as it goes (secagg-collect serve, on a terminal): called
  // on the event loop's thread when a round opens, when it accepts a message and when it closes.
  std::function<void(const RoundStatus&)> status;
  // Round 4's mask removal, once the round has closed (on the removing threads; progress.hpp).
  ProgressFn removing;
};

// The default of ServeOptions::max_pending_bytes: 64 MiB, or two of the session's largest client
// frames (a masked input) if that is more.
uint64_t default_max_pending_bytes(const Params& p);

// Runs the session to its end (returns 0) or until SIGINT or SIGTERM (returns the signal: the
// clients were sent `stopped` notices and the directory is ready for --resume).
int run_server(const SessionDir& s, const ServeOptions& opt, const ServeLog& log);

}  // namespace secagg::net

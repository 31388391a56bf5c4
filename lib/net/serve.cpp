#include "net/serve.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "crypto.hpp"
#include "durations.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "net/conn_budget.hpp"
#include "net/frame.hpp"
#include "net/notice.hpp"
#include "net/tls.hpp"
#include "protocol.hpp"
#include "quote.hpp"
#include "server_session.hpp"
#include "vectors.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// One connection, plain TCP or TLS: at most one message in, at most one answer (or notice) out.
struct Conn {
  // unidentified: no valid header yet; pending: reading (or waiting to read) its frame's body;
  // waiting: its message was accepted, it waits for the answer; closing: a notice is going out,
  // then whatever the peer still sends is read and dropped until it closes.
  enum class St { unidentified, pending, waiting, closing };
  Conn(asio::io_context& io, asio::ssl::context* tls) : sock(io, tls), timer(io) {}
  Stream sock;  // asio::async_read and async_write go through TLS when the server has it
  asio::steady_timer timer;
  uint64_t no = 0;  // in accept order (ConnBudget's numbers)
  St st = St::unidentified;
  std::string peer;
  std::array<uint8_t, kHeaderBytes> header{};
  Bytes frame;      // grows with the bytes received, a chunk at a time
  size_t want = 0;  // the whole frame, once the header is read
  bool in_line = false;  // waiting for its share of --max-pending-bytes
  bool identified = false;  // the header named a sender
  uint32_t claimed = 0;
  bool have_frame = false;
  bool handshaken = false;  // the TLS handshake is done (never set on a plain server)
  bool open = true;
  bool reading = false;  // a read is outstanding (its buffer must stay)
  bool writing = false;  // an answer or a notice is being written
  uint8_t probe = 0;
  std::string who() const {
    return identified ? fmt::format("client {} at {}", claimed, peer) : fmt::format("peer {}", peer);
  }
};
using ConnPtr = std::shared_ptr<Conn>;

// One client's accepted message of the current round.
struct Reply {
  uint32_t id = 0;
  ConnPtr conn;
  std::shared_ptr<const Bytes> bytes;
};

// A client whose message the round engine accepted.
struct Got {
  Digest32 digest{};  // of its frame: the same message sent again on a new connection is recognised
  ConnPtr conn;       // where its answer goes (null: reloaded from S, or gone)
};

class Server {
 public:
  Server(const SessionDir& s, const ServeOptions& o, const ServeLog& log)
      : s_(s), o_(o), log_(log), budget_({o.max_unidentified, kPendingPerId, o.max_pending_bytes, o.frame_timeout}) {}
  int run();

 private:
  void load();
  void listen();
  void open_round(Round r);
  void accept_next();
  void start(const ConnPtr& c);
  void read_header(const ConnPtr& c);
  void start_body(const ConnPtr& c);
  void read_chunk(const ConnPtr& c);
  void on_frame(const ConnPtr& c);
  void accept_message(const ConnPtr& c, Incoming in);
  void watch(const ConnPtr& c);
  void refuse(const ConnPtr& c, const std::string& why) { turn_away(c, NoticeKind::refused, why); }
  void turn_away(const ConnPtr& c, NoticeKind kind, const std::string& why);
  void drain(const ConnPtr& c);
  void close_conn(const ConnPtr& c);
  void forget(const ConnPtr& c);
  void free_frame(const ConnPtr& c);
  ConnPtr closing_victim(const ConnPtr& c) const;
  void grant(const std::vector<uint64_t>& nos);
  void close_round(bool at_deadline);
  std::vector<Reply> collect();
  void send(const ConnPtr& c, std::shared_ptr<const Bytes> reply);
  void fail(std::exception_ptr e);
  void on_signal(int sig);
  void maybe_stop();
  void warn(const std::string& m) { if (log_.warn) log_.warn(m); }
  void info(const std::string& m) { if (log_.info) log_.info(m); }
  void status() const {
    if (log_.status) log_.status({.round = round_, .in = got_.size(), .expected = engine_->expected().size(),
                                  .deadline = deadline_, .closing = closing_});
  }
  std::string session_arg() const;

  // How long a client turned away for lack of room waits before it sends its message again.
  static constexpr std::chrono::milliseconds kRetryAfter{1000};
  // Pending frames claiming one sender id (a client that reconnected, and one more).
  static constexpr size_t kPendingPerId = 2;
  // Bodies are read this much at a time: what a connection holds grows with what it sent.
  static constexpr size_t kChunk = 64 * 1024;

  const SessionDir& s_;
  ServeOptions o_;
  ServeLog log_;
  std::optional<asio::ssl::context> tls_;  // with --tls-cert and --tls-key; outlives every connection
  asio::io_context io_;
  tcp::acceptor acc_{io_};
  asio::signal_set signals_{io_, SIGINT, SIGTERM};
  asio::steady_timer round_timer_{io_};
  Params p_;
  SessionId sid_{};
  std::optional<ServerSession> engine_;  // the session's rounds: every check and every result
  Round round_ = Round::r0;              // the round whose messages the connections carry
  std::chrono::steady_clock::time_point deadline_{};  // of the round
  bool closing_ = false;
  bool done_ = false;
  int stopped_by_ = 0;
  std::map<uint32_t, Got> got_;
  asio::steady_timer accept_pause_{io_};
  uint64_t next_no_ = 0;
  std::map<uint64_t, ConnPtr> conns_;  // open, not closing; by number (accept order)
  std::deque<ConnPtr> closing_conns_;  // sending a notice or draining, oldest first
  ConnBudget budget_;
  std::array<uint8_t, 16384> discard_{};  // what closing connections still send (never read)
  size_t pending_writes_ = 0;
  std::exception_ptr failure_;
};

// Which round the session directory is at (the engine loads what that round needs).
void Server::load() {
  std::tie(p_, sid_) = s_.params();
  s_.require_absent(Marker::aggregate);
  const Round r = ServerSession::first_open_round(s_);
  if (r != Round::r0 && !o_.resume)
    throw Error(Exit::cantcreat, fmt::format("{}: already exists: this session has started; use 'serve --resume' to "
                                             "continue it",
                                             s_.path(Marker::roster)));
  engine_.emplace(ServerSession::load(s_, p_, sid_, r));
  round_ = r;
}

void Server::listen() {
  HostPort hp = parse_host_port(o_.listen, "--listen");
  tcp::resolver resolver(io_);
  error_code ec;
  auto eps = resolver.resolve(hp.host, hp.port, ec);
  if (ec || eps.empty()) throw Error(Exit::usage, fmt::format("--listen {}: cannot resolve: {}", hp.str(), ec.message()));
  tcp::endpoint ep = eps.begin()->endpoint();
  acc_.open(ep.protocol(), ec);
  if (!ec) acc_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acc_.bind(ep, ec);
  if (!ec) acc_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw Error(Exit::tempfail, fmt::format("cannot listen on {}: {}", hp.str(), ec.message()));
  uint16_t port = acc_.local_endpoint().port();
  if (!o_.port_file.empty()) write_file_atomic(o_.port_file, fmt::format("{}\n", port));
  info(fmt::format("listening on {}:{}{}", ep.address().to_string(), port, tls_ ? " (TLS 1.3)" : ""));
}

// The largest frame any client may send in this session (with its checksum and signature).
uint64_t largest_frame(const Params& p) {
  uint64_t m = 0;
  for (Round r : kActiveRounds) m = std::max(m, max_client_body(p, r));
  return kHeaderBytes + m + kChecksumBytes + kSignatureBytes;
}

int Server::run() {
  parse_host_port(o_.listen, "--listen");
  if (o_.tls_cert.empty() != o_.tls_key.empty())
    throw Error(Exit::usage, "--tls-cert and --tls-key go together: give both, or neither for plain TCP");
  if (!o_.tls_cert.empty()) tls_.emplace(tls_server_context(o_.tls_cert, o_.tls_key));
  load();
  if (o_.max_connections == 0) o_.max_connections = 3 * size_t{p_.clients} + o_.max_unidentified;
  const uint64_t largest = largest_frame(p_);
  if (o_.max_pending_bytes == 0) o_.max_pending_bytes = default_max_pending_bytes(p_);
  if (o_.max_pending_bytes < largest)
    throw Error(Exit::usage, fmt::format("--max-pending-bytes {} is below the largest frame of this session ({} "
                                         "bytes): that frame could never be read",
                                         o_.max_pending_bytes, largest));
  budget_ = ConnBudget({o_.max_unidentified, kPendingPerId, o_.max_pending_bytes, o_.frame_timeout});
  listen();
  signals_.async_wait([this](error_code ec, int sig) {
    if (!ec) on_signal(sig);
  });
  open_round(round_);
  accept_next();
  io_.run();
  if (failure_) std::rethrow_exception(failure_);
  return stopped_by_;
}

void Server::open_round(Round r) {
  round_ = r;
  got_.clear();
  closing_ = false;
  const std::vector<uint32_t>& expected = engine_->expected();
  // A resumed round starts from the messages already saved in the directory.
  if (SessionDir::keeps_messages(r))
    for (uint32_t id : expected) {
      std::optional<Bytes> b = s_.saved_message(r, id, p_);
      if (!b) continue;
      const std::string f = s_.message_path(r, id);
      engine_->accept({f, open_envelope(*b, f)});
      got_[id] = {blake2b_256(*b), nullptr};
    }
  info(fmt::format("round {}: open: expecting {} clients within {} s{}", r, expected.size(),
                   to_seconds(o_.round_timeout),
                   got_.empty() ? "" : fmt::format(" ({} already answered before the restart)", got_.size())));
  deadline_ = std::chrono::steady_clock::now() + o_.round_timeout;
  round_timer_.expires_at(deadline_);
  status();
  round_timer_.async_wait([this, r](error_code ec) {
    if (!ec && round_ == r && !done_) close_round(true);
  });
  if (engine_->complete()) asio::post(io_, [this, r] { if (round_ == r) close_round(false); });
}

void Server::accept_next() {
  auto c = std::make_shared<Conn>(io_, tls_ ? &*tls_ : nullptr);
  acc_.async_accept(c->sock.lowest_layer(), [this, c](error_code ec) {
    if (done_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      start(c);
      accept_next();
      return;
    }
    warn(fmt::format("accepting a connection failed: {}", ec.message()));
    // Out of descriptors or memory, accepting again at once fails again at once (a busy loop):
    // pause, and let the round's connections finish and close.
    if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
        ec.value() == ENFILE) {
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](error_code e) {
        if (!e && !done_) accept_next();
      });
      return;
    }
    accept_next();
  });
}

void Server::start(const ConnPtr& c) {
  error_code ec;
  auto ep = c->sock.lowest_layer().remote_endpoint(ec);
  c->peer = ec ? std::string("unknown peer") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  c->no = ++next_no_;
  if (conns_.size() >= o_.max_connections) {
    // Every descriptor the server allows itself is taken: the oldest connection that has not
    // identified itself makes room; when every one has, the new one is turned away.
    if (auto old = budget_.oldest_unidentified()) {
      turn_away(conns_.at(*old), NoticeKind::retry,
                fmt::format("{}: turned away to make room for a newer connection: already {} connections open "
                            "(--max-connections)",
                            conns_.at(*old)->who(), conns_.size()));
    } else {
      conns_.emplace(c->no, c);
      turn_away(c, NoticeKind::retry,
                fmt::format("{}: already {} connections open (--max-connections)", c->who(), conns_.size() - 1));
      return;
    }
  }
  conns_.emplace(c->no, c);
  if (auto old = budget_.admit(c->no))
    turn_away(conns_.at(*old), NoticeKind::retry,
              fmt::format("{}: turned away to make room for a newer connection: {} connections have not sent a "
                          "header yet (--max-unidentified)",
                          conns_.at(*old)->who(), budget_.unidentified() - 1));
  // One deadline for the TLS handshake and the whole message, waits for memory included.
  c->timer.expires_after(o_.frame_timeout);
  c->timer.async_wait([this, c](error_code e) {
    if (e || !c->open || c->have_frame || c->st == Conn::St::closing) return;
    std::string what = c->sock.tls() && !c->handshaken ? "TLS handshake" : "complete message";
    if (c->in_line)
      what += fmt::format(" (it waited for memory: {} bytes of unfinished frames are reserved, --max-pending-bytes "
                          "{})",
                          budget_.reserved(), o_.max_pending_bytes);
    turn_away(c, NoticeKind::retry,
              fmt::format("{}: no {} within {} s of connecting (--frame-timeout)", c->who(), what,
                          to_seconds(o_.frame_timeout)));
  });
  if (!c->sock.tls()) {
    read_header(c);
    return;
  }
  c->sock.tls()->async_handshake(asio::ssl::stream_base::server, [this, c](error_code e) {
    if (!c->open || c->st == Conn::St::closing) return;
    if (e && peer_closed(e)) {
      warn(fmt::format("round {}: {}: closed the connection during the TLS handshake", round_, c->who()));
      close_conn(c);
    } else if (e) {
      refuse(c, fmt::format("{}: TLS handshake failed: {}{}", c->who(), tls_failure(e),
                            not_tls(e) ? " (not a TLS client: a client without --tls-ca?)" : ""));
    } else {
      c->handshaken = true;
      read_header(c);
    }
  });
}

void Server::read_header(const ConnPtr& c) {
  c->reading = true;
  asio::async_read(c->sock, asio::buffer(c->header), [this, c](error_code e, size_t n) {
    c->reading = false;
    if (!c->open) return;
    if (c->st == Conn::St::closing) {
      if (e) close_conn(c); else drain(c);
      return;
    }
    if (e) {
      if (n == 0)
        warn(fmt::format("round {}: {}: closed the connection without sending a message", round_, c->who()));
      else
        warn(fmt::format("round {}: {}: disconnected after {} bytes of a message", round_, c->who(), n));
      close_conn(c);
      return;
    }
    if (!c->sock.tls() && c->header[0] == 0x16 && c->header[1] == 0x03) {
      // A TLS client could not read a notice: it is told nothing (it says the server closed the handshake).
      warn(fmt::format("round {}: refused: {}: sent a TLS handshake, but this server runs without --tls-cert (plain "
                       "TCP)",
                       round_, c->who()));
      close_conn(c);
      return;
    }
    if (looks_like_envelope(c->header)) {
      c->identified = true;
      c->claimed = frame_sender(c->header);
    }
    uint64_t len = 0;
    try {
      len = frame_body_length(c->header, max_client_body(p_, round_), c->who());
    } catch (const Error& err) {
      refuse(c, err.what());
      return;
    }
    // Headers are not authenticated; a claim of an id this round does not wait for costs nothing more.
    const std::vector<uint32_t>& expected = engine_->expected();
    if (!std::binary_search(expected.begin(), expected.end(), c->claimed)) {
      refuse(c, fmt::format("{}: client {} is not expected in round {} (this round waits for {} clients)", c->who(),
                            c->claimed, round_, expected.size()));
      return;
    }
    c->st = Conn::St::pending;
    c->want = kHeaderBytes + len + trailer_bytes(c->header[6]);  // checksum, and a client message's signature
    info(fmt::format("round {}: {}: sends a {}-byte message", round_, c->who(), c->want));
    if (auto old = budget_.identify(c->no, c->claimed, c->want, std::chrono::steady_clock::now())) {
      if (*old == c->no) {
        turn_away(c, NoticeKind::retry,
                  fmt::format("{}: already {} unfinished frames claim client {}, each keeping the pace it needs "
                              "(at most {} per client id)",
                              c->who(), kPendingPerId, c->claimed, kPendingPerId));
        return;
      }
      const ConnPtr& o = conns_.at(*old);
      turn_away(o, NoticeKind::retry,
                fmt::format("{}: turned away: its frame fell behind the pace it needs to arrive within --frame-timeout "
                            "and a newer connection claims client {} too (at most {} unfinished frames per client id)",
                            o->who(), c->claimed, kPendingPerId));
    }
    if (budget_.reserve(c->no, c->want)) {
      start_body(c);
    } else {
      c->in_line = true;
      info(fmt::format("round {}: {}: waits for memory for its {}-byte frame ({} bytes of unfinished frames are "
                       "reserved, --max-pending-bytes {})",
                       round_, c->who(), c->want, budget_.reserved(), o_.max_pending_bytes));
    }
  });
}

void Server::grant(const std::vector<uint64_t>& nos) {
  if (done_) return;
  for (uint64_t no : nos)
    if (auto it = conns_.find(no); it != conns_.end() && it->second->st == Conn::St::pending) start_body(it->second);
}

// The frame's whole reservation is allocated once, here: reading never reallocates it, so what
// it holds stays within what it reserved (pages are touched only as bytes arrive).
void Server::start_body(const ConnPtr& c) {
  c->in_line = false;
  c->frame.reserve(c->want);
  c->frame.assign(c->header.begin(), c->header.end());
  budget_.started(c->no, std::chrono::steady_clock::now());
  read_chunk(c);
}

void Server::read_chunk(const ConnPtr& c) {
  const size_t have = c->frame.size();
  const size_t n = std::min(kChunk, c->want - have);
  c->frame.resize(have + n);
  c->reading = true;
  // Whatever has arrived (not a whole chunk): the pace of a claim counts every byte.
  c->sock.async_read_some(asio::buffer(c->frame.data() + have, n), [this, c, have](error_code e, size_t k) {
    c->reading = false;
    if (!c->open || c->st == Conn::St::closing) {
      // Turned away or closed while this read was outstanding (cancelled): the buffer goes now.
      free_frame(c);
      if (c->open && (!e || e == asio::error::operation_aborted)) drain(c); else if (c->open) close_conn(c);
      return;
    }
    if (e) {
      warn(fmt::format("round {}: {}: disconnected after {} of {} bytes of a message", round_, c->who(), have + k,
                       c->want));
      close_conn(c);
      return;
    }
    c->frame.resize(have + k);
    budget_.received(c->no, k);
    if (c->frame.size() < c->want) {
      read_chunk(c);
      return;
    }
    c->have_frame = true;
    c->timer.cancel();
    on_frame(c);
    // Accepted or refused, the frame no longer counts against --max-pending-bytes.
    free_frame(c);
  });
}

void Server::on_frame(const ConnPtr& c) {
  if (done_ || closing_) {
    refuse(c, fmt::format("{}: arrived while round {} was closing", c->who(), round_));
    return;
  }
  try {
    Incoming in{c->who(), open_envelope(c->frame, c->who())};
    const uint32_t id = in.env.sender;
    auto it = got_.find(id);
    if (it != got_.end() && it->second.digest == blake2b_256(c->frame)) {
      // The very message already accepted: a client that lost its connection and sent again.
      ConnPtr& old = it->second.conn;
      if (old && old->open)
        throw Error(Exit::data, fmt::format("{}: duplicate: this round {} message of client {} already arrived on a "
                                            "connection that is still open ({})",
                                            c->who(), round_, id, old->peer));
      old = c;
      warn(fmt::format("round {}: {}: reconnected and sent its message again; the answer will go there", round_,
                       c->who()));
      watch(c);
      return;
    }
    expect_message(in.env, in.origin, client_message(round_), sid_);
    if (it != got_.end())
      throw Error(Exit::data, fmt::format("{}: client {} already sent a different {} message", in.origin, id,
                                          round_label(client_message(round_))));
    accept_message(c, std::move(in));
  } catch (const Error& e) {
    if (e.code() != Exit::data) {
      fail(std::current_exception());
      return;
    }
    refuse(c, e.what());
  }
}

void Server::accept_message(const ConnPtr& c, Incoming in) {
  const uint32_t id = in.env.sender;
  engine_->accept(in);
  // Rounds 2 and 4 are saved as they arrive: their clients cannot send them again after a restart.
  if (SessionDir::keeps_messages(round_)) s_.begin(SessionDir::marker_of(round_)).message(id, c->frame);
  got_[id] = {blake2b_256(c->frame), c};
  c->frame.clear();
  c->frame.shrink_to_fit();
  info(fmt::format("round {}: {}: accepted ({} of {})", round_, c->who(), got_.size(), engine_->expected().size()));
  status();
  watch(c);
  if (engine_->complete()) {
    const Round r = round_;
    asio::post(io_, [this, r] { if (round_ == r) close_round(false); });
  }
}

// After its message, a client only waits: a byte or a disconnect ends the connection (the
// message still counts, but the answer has nowhere to go).
void Server::watch(const ConnPtr& c) {
  c->st = Conn::St::waiting;
  c->reading = true;
  asio::async_read(c->sock, asio::buffer(&c->probe, 1), [this, c](error_code e, size_t) {
    c->reading = false;
    if (!c->open) return;
    if (c->st == Conn::St::closing) {
      if (e) close_conn(c); else drain(c);
      return;
    }
    if (!e)
      warn(fmt::format("round {}: {}: sent more after its message; connection closed (the message counts)", round_,
                       c->who()));
    else
      warn(fmt::format("round {}: {}: disconnected while waiting for the end of the round (its message counts; it "
                       "will not receive the next round's message)",
                       round_, c->who()));
    close_conn(c);
  });
}

// Ends a connection without an answer, telling the client why first (best effort): the notice
// is written within --frame-timeout, then the server stops sending and drops what the client
// still sends until it closes (closing at once would reset the connection and could destroy the
// notice in flight). Closing connections count neither against --max-connections nor any budget;
// at most --max-unidentified of them linger, the oldest closed first.
void Server::turn_away(const ConnPtr& c, NoticeKind kind, const std::string& why) {
  if (!c->open || c->st == Conn::St::closing) return;
  const bool busy = c->writing;  // its answer is on the way: let it finish
  // Before the TLS handshake nothing can be sent that the client could read.
  const bool can_tell = !busy && !(c->sock.tls() && !c->handshaken);
  if (kind == NoticeKind::retry)
    warn(fmt::format("round {}: refused: {}{}", round_, why,
                     can_tell ? fmt::format("; told to retry in {} s", to_seconds(kRetryAfter)) : std::string()));
  else if (kind == NoticeKind::refused)
    warn(fmt::format("round {}: refused: {}", round_, why));
  forget(c);
  c->st = Conn::St::closing;
  if (busy) return;
  if (!can_tell) {
    close_conn(c);
    return;
  }
  while (closing_conns_.size() >= std::max<size_t>(o_.max_unidentified, 1)) {
    const ConnPtr v = closing_victim(c);
    close_conn(v);
    if (v == c) return;
  }
  closing_conns_.push_back(c);
  auto notice = std::make_shared<const Bytes>(notice_frame(sid_, c->identified ? c->claimed : kServerId, kind,
                                                           kind == NoticeKind::retry ? kRetryAfter
                                                                                     : std::chrono::milliseconds(0),
                                                           why));
  c->timer.expires_after(o_.frame_timeout);
  c->timer.async_wait([this, c](error_code e) {
    if (!e) close_conn(c);
  });
  ++pending_writes_;
  c->writing = true;
  asio::async_write(c->sock, asio::buffer(*notice), [this, c, notice](error_code e, size_t) {
    c->writing = false;
    --pending_writes_;
    if (e || !c->open) {
      close_conn(c);
    } else {
      error_code ignore;
      c->sock.lowest_layer().shutdown(tcp::socket::shutdown_send, ignore);
      if (!c->reading) drain(c);
    }
    maybe_stop();
  });
}

void Server::drain(const ConnPtr& c) {
  c->reading = true;
  c->sock.async_read_some(asio::buffer(discard_), [this, c](error_code e, size_t) {
    c->reading = false;
    if (!c->open) return;
    if (e)
      close_conn(c);
    else
      drain(c);
  });
}

// Takes c out of the open connections and every budget, handing what it held to those waiting.
// A frame buffer still being read into cannot be freed before its read ends: the read is
// cancelled, and the buffer and its reservation go when its handler runs (free_frame).
void Server::forget(const ConnPtr& c) {
  if (conns_.erase(c->no) == 0) return;
  if (c->reading && c->frame.capacity() > 0) {
    budget_.withdraw(c->no);
    error_code ignore;
    c->sock.lowest_layer().cancel(ignore);
    return;
  }
  free_frame(c);
}

void Server::free_frame(const ConnPtr& c) {
  c->frame = Bytes();
  grant(budget_.release(c->no));
}

// When too many connections are closing and c is to join them, one is closed at once, maybe
// before its client has read its notice: one that never sent a valid header (the oldest, or c),
// so that idle churn never costs a client that identified itself its retry notice; only then the
// oldest.
ConnPtr Server::closing_victim(const ConnPtr& c) const {
  for (const ConnPtr& k : closing_conns_)
    if (!k->identified) return k;
  return c->identified ? closing_conns_.front() : c;
}

void Server::close_conn(const ConnPtr& c) {
  if (!c->open) return;
  c->open = false;
  c->timer.cancel();
  c->sock.close();
  forget(c);
  if (auto it = std::find(closing_conns_.begin(), closing_conns_.end(), c); it != closing_conns_.end())
    closing_conns_.erase(it);
}

// Closes the engine's round and writes what file mode writes; returns the answers to send.
std::vector<Reply> Server::collect() {
  RoundResult r = engine_->close(o_.threads, {}, log_.removing);
  const auto w = s_.begin(SessionDir::marker_of(round_));
  if (round_ == Round::r4 && o_.on_aggregate) o_.on_aggregate(r.aggregate, r.marker);
  engine_->record(r, w);
  for (const std::string& line : round_warnings(r)) warn(line);
  std::vector<Reply> replies;
  auto to_all = std::make_shared<const Bytes>(std::move(r.marker));
  for (auto& [id, g] : got_) {
    std::shared_ptr<const Bytes> b = to_all;
    if (round_ == Round::r1) b = std::make_shared<const Bytes>(std::move(r.inboxes.at(id)));
    if (r.personal) b = std::make_shared<const Bytes>(r.personal(id));
    replies.push_back({id, g.conn, std::move(b)});
  }
  return replies;
}

void Server::close_round(bool at_deadline) {
  if (closing_ || done_) return;
  closing_ = true;
  round_timer_.cancel();
  const std::vector<uint32_t>& expected = engine_->expected();
  for (uint32_t id : expected)
    if (!got_.count(id)) warn(fmt::format("round {}: client {}: dropped: no message before the deadline", round_, id));
  info(fmt::format("round {}: closed{}: {} of {} clients answered", round_, at_deadline ? " at the deadline" : "",
                   got_.size(), expected.size()));
  status();
  std::vector<Reply> replies;
  try {
    replies = collect();
  } catch (...) {
    fail(std::current_exception());
    return;
  }
  for (auto& r : replies) {
    if (r.conn && r.conn->open)
      send(r.conn, r.bytes);
    else
      warn(fmt::format("round {}: client {}: not connected: its answer was not delivered", round_, r.id));
  }
  const Round next = next_round(round_, p_.active());
  if (next == Round::none) {
    done_ = true;
    error_code ec;
    acc_.close(ec);
    std::vector<ConnPtr> idle;
    for (const auto& [no, c] : conns_)
      if (!c->have_frame) idle.push_back(c);
    for (const auto& c : idle) refuse(c, fmt::format("{}: the session is over", c->who()));
    maybe_stop();
    return;
  }
  open_round(next);
}

void Server::send(const ConnPtr& c, std::shared_ptr<const Bytes> reply) {
  ++pending_writes_;
  c->writing = true;
  c->timer.expires_after(o_.frame_timeout);
  c->timer.async_wait([this, c](error_code e) {
    if (e || !c->open) return;
    warn(fmt::format("round {}: {}: did not take its answer within {} s; connection closed", round_, c->who(),
                     to_seconds(o_.frame_timeout)));
    close_conn(c);
  });
  const Round r = round_;
  asio::async_write(c->sock, asio::buffer(*reply), [this, c, reply, r](error_code e, size_t) {
    c->writing = false;
    --pending_writes_;
    if (e && c->open)
      warn(fmt::format("round {}: {}: could not deliver the answer: {}", r, c->who(), e.message()));
    close_conn(c);
    maybe_stop();
  });
}

void Server::maybe_stop() {
  if (done_ && pending_writes_ == 0) io_.stop();
}

// Ends the session: every open connection is told why (aborted: fewer than t clients; stopped:
// the server cannot go on, e.g. a file it cannot write), then the loop stops once the notices
// are out. The error is rethrown by run().
void Server::fail(std::exception_ptr e) {
  failure_ = e;
  done_ = true;
  error_code ec;
  acc_.close(ec);
  round_timer_.cancel();
  signals_.cancel(ec);
  NoticeKind kind = NoticeKind::stopped;
  std::string why = "internal error";
  try {
    std::rethrow_exception(e);
  } catch (const Error& err) {
    why = err.what();
    if (err.code() == Exit::aborted) kind = NoticeKind::aborted;
  } catch (const std::exception& err) {
    why = err.what();
  }
  std::vector<ConnPtr> all;
  for (const auto& [no, c] : conns_) all.push_back(c);
  for (const auto& c : all) turn_away(c, kind, why);
  maybe_stop();
}

// SIGINT or SIGTERM: the session directory already holds everything a resumed server needs (each
// round's result is written before its answers leave, round 2 and 4 messages as they arrive),
// so the server tells the connected clients, closes, and says how to continue.
void Server::on_signal(int sig) {
  if (done_) return;
  stopped_by_ = sig;
  done_ = true;
  error_code ec;
  acc_.close(ec);
  round_timer_.cancel();
  accept_pause_.cancel();
  const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
  warn(fmt::format("round {}: stopped by {}{}; 'secagg-collect serve --resume --session {}' continues this session",
                   round_, name,
                   round_ < Round::r2 ? fmt::format(" (the round's {} messages so far are not saved: their clients send them "
                                            "again)",
                                            got_.size())
                              : fmt::format(" ({} of the round's messages are saved)", got_.size()),
                   session_arg()));
  const std::string why = fmt::format("stopped by {}", name);
  std::vector<ConnPtr> all;
  for (const auto& [no, c] : conns_) all.push_back(c);
  for (const auto& c : all) turn_away(c, NoticeKind::stopped, why);
  maybe_stop();
}

std::string Server::session_arg() const { return shell_word(s_.dir()); }

}  // namespace

uint64_t default_max_pending_bytes(const Params& p) {
  return std::max(uint64_t{64} << 20, 2 * largest_frame(p));
}

int run_server(const SessionDir& s, const ServeOptions& opt, const ServeLog& log) {
  Server server(s, opt, log);
  return server.run();
}

}  // namespace secagg::net

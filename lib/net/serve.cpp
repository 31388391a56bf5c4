#include "net/serve.hpp"

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "crypto.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "net/frame.hpp"
#include "net/tls.hpp"
#include "protocol.hpp"
#include "server.hpp"
#include "vectors.hpp"

namespace secagg::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

double seconds(std::chrono::milliseconds ms) { return static_cast<double>(ms.count()) / 1000.0; }

MsgType round_type(uint8_t round) {
  switch (round) {
    case 0: return MsgType::advertise_keys;
    case 1: return MsgType::share_keys;
    case 2: return MsgType::masked_input;
    default: return MsgType::unmask_shares;
  }
}

// One connection, plain TCP or TLS: at most one message in, at most one answer out.
struct Conn {
  Conn(asio::io_context& io, asio::ssl::context* tls) : sock(io, tls), timer(io) {}
  Stream sock;  // asio::async_read and async_write go through TLS when the server has it
  asio::steady_timer timer;
  std::string peer;
  std::array<uint8_t, kHeaderBytes> header{};
  Bytes frame;
  bool identified = false;  // the header named a sender
  uint32_t claimed = 0;
  bool have_frame = false;
  bool handshaken = false;  // the TLS handshake is done (never set on a plain server)
  bool open = true;
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

struct Got {
  Digest32 digest{};
  ConnPtr conn;                 // where its answer goes (null: reloaded from S, or gone)
  std::optional<Incoming> msg;  // kept for rounds 0 and 1 (round 2 streams into the sum)
  std::optional<UnmaskShares> shares;  // round 4: the response, checked once, as it arrived
};

class Server {
 public:
  Server(const SessionDir& s, const ServeOptions& o, const ServeLog& log) : s_(s), o_(o), log_(log) {}
  void run();

 private:
  void load();
  void listen();
  void open_round(uint8_t r);
  void accept_next();
  void start(const ConnPtr& c);
  void read_header(const ConnPtr& c);
  void read_body(const ConnPtr& c, uint64_t len);
  void on_frame(const ConnPtr& c);
  void accept_message(const ConnPtr& c, Incoming in);
  void watch(const ConnPtr& c);
  void refuse(const ConnPtr& c, const std::string& why);
  void close_conn(const ConnPtr& c);
  void close_round(bool at_deadline);
  void collect(std::vector<Reply>& replies);
  void send(const ConnPtr& c, std::shared_ptr<const Bytes> reply);
  void fail(std::exception_ptr e);
  void maybe_stop();
  void warn(const std::string& m) { if (log_.warn) log_.warn(m); }
  void info(const std::string& m) { if (log_.info) log_.info(m); }
  std::vector<Incoming> kept() const;

  const SessionDir& s_;
  ServeOptions o_;
  ServeLog log_;
  std::optional<asio::ssl::context> tls_;  // with --tls-cert and --tls-key; outlives every connection
  asio::io_context io_;
  tcp::acceptor acc_{io_};
  asio::steady_timer round_timer_{io_};
  Params p_;
  SessionId sid_{};
  uint8_t round_ = 0;
  bool closing_ = false;
  bool done_ = false;
  std::vector<uint32_t> expected_;
  std::map<uint32_t, Got> got_;
  std::map<Key32, uint32_t> advertised_;  // round 0: each public key accepted so far, and whose
  // Built once from the roster: checking one message of round 1 or 4 must not rebuild it.
  std::optional<NeighbourGraph> graph_;
  const NeighbourGraph& graph() {
    if (!graph_) graph_.emplace(sid_, roster_, p_.neighbours);
    return *graph_;
  }
  asio::steady_timer accept_pause_{io_};
  std::set<ConnPtr> conns_;
  size_t pending_writes_ = 0;
  Roster roster_;
  std::vector<uint32_t> u2_, u3_;
  std::optional<MaskedCollector> collector_;
  std::exception_ptr failure_;
};

// Which round the session directory is at, and the messages of that round already saved.
void Server::load() {
  std::tie(p_, sid_) = s_.params();
  s_.require_absent("aggregate.vec", "round 4");
  if (!path_exists(s_.path("roster.msg"))) {
    round_ = 0;
    return;
  }
  if (!o_.resume)
    throw Error(Exit::cantcreat, fmt::format("{}: already exists: this session has started; use 'serve --resume' to "
                                             "continue it",
                                             s_.path("roster.msg")));
  roster_ = s_.roster(sid_);
  graph_.reset();
  if (!path_exists(s_.path("u2.msg"))) {
    round_ = 1;
    return;
  }
  u2_ = s_.u2(sid_);
  if (!path_exists(s_.path("survivors.msg"))) {
    round_ = 2;
    return;
  }
  u3_ = s_.survivors(sid_);
  round_ = 4;
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

void Server::run() {
  parse_host_port(o_.listen, "--listen");
  if (o_.tls_cert.empty() != o_.tls_key.empty())
    throw Error(Exit::usage, "--tls-cert and --tls-key go together: give both, or neither for plain TCP");
  if (!o_.tls_cert.empty()) tls_.emplace(tls_server_context(o_.tls_cert, o_.tls_key));
  load();
  if (o_.max_connections == 0) o_.max_connections = 2 * size_t{p_.clients} + 64;
  listen();
  open_round(round_);
  accept_next();
  io_.run();
  if (failure_) std::rethrow_exception(failure_);
}

void Server::open_round(uint8_t r) {
  round_ = r;
  got_.clear();
  advertised_.clear();
  closing_ = false;
  switch (r) {
    case 0:
      expected_.resize(p_.clients);
      for (uint32_t i = 0; i < p_.clients; ++i) expected_[i] = i + 1;
      break;
    case 1: expected_ = roster_.ids(); break;
    case 2: expected_ = u2_; break;
    default: expected_ = u3_; break;
  }
  // A resumed round starts from the messages already saved in the directory.
  if (r == 2) {
    collector_.emplace(p_, sid_, roster_, u2_);
    for (uint32_t id : u2_) {
      std::string f = s_.masked_path(id);
      if (!path_exists(f)) continue;
      Bytes b = read_file(f);
      collector_->add({f, open_envelope(b, f)});
      got_[id] = {blake2b_256(b), nullptr, std::nullopt, std::nullopt};
    }
  } else if (r == 4) {
    for (uint32_t id : u3_) {
      std::string f = s_.unmask_path(id);
      if (!path_exists(f)) continue;
      Bytes b = read_file(f);
      Incoming in{f, open_envelope(b, f)};
      got_[id] = {blake2b_256(b), nullptr, std::nullopt, check_unmask_shares(p_, sid_, roster_, u2_, u3_, in, &graph())};
    }
  }
  info(fmt::format("round {}: open: expecting {} clients within {} s{}", r, expected_.size(),
                   seconds(o_.round_timeout),
                   got_.empty() ? "" : fmt::format(" ({} already answered before the restart)", got_.size())));
  round_timer_.expires_after(o_.round_timeout);
  round_timer_.async_wait([this, r](error_code ec) {
    if (!ec && round_ == r && !done_) close_round(true);
  });
  if (got_.size() == expected_.size()) asio::post(io_, [this, r] { if (round_ == r) close_round(false); });
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
  if (conns_.size() >= o_.max_connections) {
    warn(fmt::format("round {}: refused: {}: already {} connections open", round_, c->who(), conns_.size()));
    c->open = false;
    c->sock.close();
    return;
  }
  conns_.insert(c);
  // One deadline for the TLS handshake and the whole message.
  c->timer.expires_after(o_.frame_timeout);
  c->timer.async_wait([this, c](error_code e) {
    if (e || !c->open || c->have_frame) return;
    refuse(c, fmt::format("{}: no {} within {} s of connecting (--frame-timeout)", c->who(),
                          c->sock.tls() && !c->handshaken ? "TLS handshake" : "complete message",
                          seconds(o_.frame_timeout)));
  });
  if (!c->sock.tls()) {
    read_header(c);
    return;
  }
  c->sock.tls()->async_handshake(asio::ssl::stream_base::server, [this, c](error_code e) {
    if (!c->open) return;
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
  asio::async_read(c->sock, asio::buffer(c->header), [this, c](error_code e, size_t n) {
    if (!c->open) return;
    if (e) {
      if (n == 0)
        warn(fmt::format("round {}: {}: closed the connection without sending a message", round_, c->who()));
      else
        warn(fmt::format("round {}: {}: disconnected after {} bytes of a message", round_, c->who(), n));
      close_conn(c);
      return;
    }
    if (!c->sock.tls() && c->header[0] == 0x16 && c->header[1] == 0x03) {
      refuse(c, fmt::format("{}: sent a TLS handshake, but this server runs without --tls-cert (plain TCP)", c->who()));
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
    read_body(c, len);
  });
}

void Server::read_body(const ConnPtr& c, uint64_t len) {
  const size_t trailer = trailer_bytes(c->header[6]);  // checksum, and the signature of a client message
  c->frame.resize(kHeaderBytes + len + trailer);
  std::copy(c->header.begin(), c->header.end(), c->frame.begin());
  asio::async_read(c->sock, asio::buffer(c->frame.data() + kHeaderBytes, len + trailer),
                   [this, c](error_code e, size_t n) {
                     if (!c->open) return;
                     if (e) {
                       warn(fmt::format("round {}: {}: disconnected after {} of {} bytes of a message", round_,
                                        c->who(), kHeaderBytes + n, c->frame.size()));
                       close_conn(c);
                       return;
                     }
                     c->have_frame = true;
                     c->timer.cancel();
                     on_frame(c);
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
    expect_message(in.env, in.origin, round_type(round_), sid_);
    if (it != got_.end())
      throw Error(Exit::data, fmt::format("{}: client {} already sent a different {} message", in.origin, id,
                                          round_label(round_type(round_))));
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
  // Check this one message with the round's own collect step; the threshold is checked at the close.
  Params one = p_;
  one.threshold = 0;
  std::span<const Incoming> single(&in, 1);
  std::optional<Incoming> keep;
  std::optional<UnmaskShares> shares;
  switch (round_) {
    case 0: {
      const Roster r = collect_keys(one, sid_, single);
      // A key another client already advertised (a copied advert, or one client posing as two)
      // is refused here, as the second one's fault: at the close it would abort the session.
      const RosterEntry& e = r.clients.at(0);
      for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk})
        if (auto it = advertised_.find(*k); it != advertised_.end())
          throw Error(Exit::data, fmt::format("{}: round 0 (advertise-keys) from client {} repeats a public key that "
                                              "client {} advertised",
                                              in.origin, id, it->second));
      for (const Key32* k : {&e.c_pk, &e.s_pk, &e.sig_pk}) advertised_.emplace(*k, id);
      keep = std::move(in);
      break;
    }
    case 1: collect_shares(one, sid_, roster_, single, &graph()); keep = std::move(in); break;
    case 2:
      collector_->add(in);
      write_file_atomic(s_.masked_path(id), c->frame);
      break;
    default:
      shares = check_unmask_shares(p_, sid_, roster_, u2_, u3_, in, &graph());
      write_file_atomic(s_.unmask_path(id), c->frame);
      break;
  }
  got_[id] = {blake2b_256(c->frame), c, std::move(keep), std::move(shares)};
  c->frame.clear();
  c->frame.shrink_to_fit();
  info(fmt::format("round {}: {}: accepted ({} of {})", round_, c->who(), got_.size(), expected_.size()));
  watch(c);
  if (got_.size() == expected_.size()) {
    const uint8_t r = round_;
    asio::post(io_, [this, r] { if (round_ == r) close_round(false); });
  }
}

// After its message, a client only waits: a byte or a disconnect ends the connection (the
// message still counts, but the answer has nowhere to go).
void Server::watch(const ConnPtr& c) {
  asio::async_read(c->sock, asio::buffer(&c->probe, 1), [this, c](error_code e, size_t) {
    if (!c->open) return;
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

void Server::refuse(const ConnPtr& c, const std::string& why) {
  warn(fmt::format("round {}: refused: {}", round_, why));
  close_conn(c);
}

void Server::close_conn(const ConnPtr& c) {
  if (!c->open) return;
  c->open = false;
  c->timer.cancel();
  c->sock.close();
  conns_.erase(c);
}

std::vector<Incoming> Server::kept() const {
  std::vector<Incoming> in;
  for (const auto& [id, g] : got_)
    if (g.msg) in.push_back(*g.msg);
  return in;
}

// The round's collect step over the accepted messages; writes what file mode writes and
// lists the answers to send.
void Server::collect(std::vector<Reply>& replies) {
  auto to_all = [&](Bytes b) {
    auto shared = std::make_shared<const Bytes>(std::move(b));
    for (auto& [id, g] : got_) replies.push_back({id, g.conn, shared});
  };
  switch (round_) {
    case 0: {
      roster_ = collect_keys(p_, sid_, kept());
      graph_.reset();
      Bytes b = encode(MsgType::roster, sid_, kServerId, kServerId, roster_);
      write_file_atomic(s_.path("roster.msg"), b);
      to_all(std::move(b));
      break;
    }
    case 1: {
      ShareRound r = collect_shares(p_, sid_, roster_, kept(), &graph());
      for (auto& [v, inbox] : r.inboxes) {
        Bytes b = encode(MsgType::inbox, sid_, kServerId, v, inbox);
        write_file_atomic(s_.inbox_path(v), b);
        auto it = got_.find(v);
        if (it != got_.end()) replies.push_back({v, it->second.conn, std::make_shared<const Bytes>(std::move(b))});
      }
      write_file_atomic(s_.path("u2.msg"), encode(MsgType::server_round1, sid_, kServerId, kServerId, IdList{r.u2}));
      u2_ = r.u2;
      break;
    }
    case 2: {
      u3_ = collector_->finish();
      write_file_atomic(s_.path("masked-sum.vec"), vector_message(collector_->sum(), p_.ring(), sid_));
      Bytes b = encode(MsgType::survivors, sid_, kServerId, kServerId, IdList{u3_});
      write_file_atomic(s_.path("survivors.msg"), b);
      collector_.reset();
      to_all(std::move(b));
      break;
    }
    default: {
      // Every response was checked (signature, owners) as it arrived: only the reconstruction is left.
      CheckedResponses checked;
      for (const auto& [id, g] : got_) {
        checked.senders.push_back(id);
        checked.bodies.push_back(*g.shares);
      }
      Recovered rec = reconstruct_secrets(p_, roster_, u2_, u3_, checked);
      Modulus ring = p_.ring();
      std::vector<uint64_t> sum = read_vector(read_file(s_.path("masked-sum.vec")), ring, p_.length, &sid_,
                                              s_.path("masked-sum.vec"));
      remove_masks(p_, sid_, roster_, u3_, rec, sum.data(), 0, sum.size(), o_.threads);
      Bytes vec = vector_message(sum, ring, sid_);
      if (o_.on_aggregate) o_.on_aggregate(sum, vec);
      write_file_atomic(s_.path("aggregate.vec"), vec);
      to_all(std::move(vec));
      break;
    }
  }
}

void Server::close_round(bool at_deadline) {
  if (closing_ || done_) return;
  closing_ = true;
  round_timer_.cancel();
  for (uint32_t id : expected_)
    if (!got_.count(id)) warn(fmt::format("round {}: client {}: dropped: no message before the deadline", round_, id));
  info(fmt::format("round {}: closed{}: {} of {} clients answered", round_, at_deadline ? " at the deadline" : "",
                   got_.size(), expected_.size()));
  std::vector<Reply> replies;
  try {
    collect(replies);
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
  const uint8_t next = round_ == 0 ? 1 : round_ == 1 ? 2 : round_ == 2 ? 4 : 5;
  if (next == 5) {
    done_ = true;
    error_code ec;
    acc_.close(ec);
    std::vector<ConnPtr> idle;
    for (const auto& c : conns_)
      if (!c->have_frame) idle.push_back(c);
    for (const auto& c : idle) refuse(c, fmt::format("{}: the session is over", c->who()));
    maybe_stop();
    return;
  }
  open_round(next);
}

void Server::send(const ConnPtr& c, std::shared_ptr<const Bytes> reply) {
  ++pending_writes_;
  c->timer.expires_after(o_.frame_timeout);
  c->timer.async_wait([this, c](error_code e) {
    if (e || !c->open) return;
    warn(fmt::format("round {}: {}: did not take its answer within {} s; connection closed", round_, c->who(),
                     seconds(o_.frame_timeout)));
    close_conn(c);
  });
  const uint8_t r = round_;
  asio::async_write(c->sock, asio::buffer(*reply), [this, c, reply, r](error_code e, size_t) {
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

void Server::fail(std::exception_ptr e) {
  failure_ = e;
  done_ = true;
  error_code ec;
  acc_.close(ec);
  round_timer_.cancel();
  std::vector<ConnPtr> all(conns_.begin(), conns_.end());
  for (const auto& c : all) close_conn(c);
  io_.stop();
}

}  // namespace

void run_server(const SessionDir& s, const ServeOptions& opt, const ServeLog& log) {
  Server server(s, opt, log);
  server.run();
}

}  // namespace secagg::net

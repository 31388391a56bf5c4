// Notices (net/notice.hpp; docs/network.md, "Notices"): the body's bytes, its checks, and what
// net::exchange does with each kind, against a scripted plain-TCP server in a thread.
#include <doctest/doctest.h>

#include <cstring>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

#include "error.hpp"
#include "le.hpp"
#include "net/client_io.hpp"
#include "net/notice.hpp"

using namespace secagg;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {
SessionId sid_of(uint8_t b) {
  SessionId s{};
  s.fill(b);
  return s;
}
}  // namespace

TEST_CASE("notice: the body as man/secagg-formats.5 describes it") {
  const Bytes f = net::notice_frame(sid_of(7), 3, NoticeKind::retry, std::chrono::milliseconds(1500), "busy");
  REQUIRE(f.size() == kHeaderBytes + 18 + kChecksumBytes);
  CHECK(f[6] == 12);    // type notice
  CHECK(f[7] == 0xff);  // no round
  CHECK(le::get32(f.data() + 24) == 0);  // from the server
  CHECK(le::get32(f.data() + 28) == 3);  // to the client the connection claimed
  CHECK(le::get64(f.data() + 32) == 18);
  const uint8_t* b = f.data() + kHeaderBytes;
  CHECK(b[0] == 1);  // the little-endian marker
  CHECK(b[1] == 0);  // kind retry
  CHECK(le::get32(b + 2) == 1500);
  CHECK(le::get64(b + 6) == 4);
  CHECK(std::string(b + 14, b + 18) == "busy");
  Envelope env = open_envelope(f, "n");
  CHECK(!env.signature);
  Notice n = net::read_notice(env, "n");
  CHECK(n.kind == 0);
  CHECK(n.retry_after_ms == 1500);
  CHECK(n.reason == "busy");
  CHECK(summary(env, "n").find("notice round=- ") == 0);
}

TEST_CASE("notice: the reason is bounded, and cleaned for a terminal") {
  std::string long_reason(600, 'x');
  long_reason[511] = static_cast<char>(0xc3);  // a two-byte character across the limit
  long_reason[512] = static_cast<char>(0xa9);
  Notice n = net::read_notice(open_envelope(net::notice_frame(sid_of(1), 0, NoticeKind::refused, {}, long_reason), "n"),
                              "n");
  CHECK(n.reason == std::string(511, 'x'));
  n = net::read_notice(open_envelope(net::notice_frame(sid_of(1), 0, NoticeKind::aborted, {}, "a\nb\x1b[2J"), "n"), "n");
  CHECK(n.reason == "a?b?[2J");

  // A forged notice: an unknown kind, or a reason beyond the bound, is bad data.
  Notice bad;
  bad.kind = 4;
  CHECK_THROWS_AS(net::read_notice(open_envelope(encode(MsgType::notice, sid_of(1), 0, 0, bad), "n"), "n"), Error);
  bad.kind = 0;
  bad.reason = std::string(kMaxNoticeReason + 1, 'y');
  try {
    net::read_notice(open_envelope(encode(MsgType::notice, sid_of(1), 0, 0, bad), "n"), "n");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
  }
  // A reason announcing more bytes than the body holds is refused before any allocation.
  Bytes f = net::notice_frame(sid_of(1), 0, NoticeKind::retry, {}, "ok");
  Envelope env = open_envelope(f, "n");
  const uint64_t huge = uint64_t{1} << 60;  // little-endian, as on every host secagg runs on
  std::memcpy(env.body.data() + 6, &huge, 8);
  CHECK_THROWS_AS(net::read_notice(env, "n"), Error);
}

namespace {
// A plain-TCP server in a thread: for each scripted reply, it accepts one connection, reads the
// client's whole message, checks it is the same bytes every time, and writes the reply.
struct Scripted {
  asio::io_context io;
  tcp::acceptor acc{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;
  int connections = 0;
  bool same_bytes = true;
  Scripted(std::vector<Bytes> replies, size_t msg_size) {
    thread = std::thread([this, replies, msg_size] {
      Bytes first;
      for (const Bytes& r : replies) {
        tcp::socket s(io);
        acc.accept(s);
        ++connections;
        Bytes got(msg_size);
        asio::read(s, asio::buffer(got));
        if (first.empty()) first = got;
        same_bytes = same_bytes && got == first;
        asio::write(s, asio::buffer(r));
        s.shutdown(tcp::socket::shutdown_send);
        char c;
        boost::system::error_code ec;
        s.read_some(asio::buffer(&c, 1), ec);  // until the client closes
      }
    });
  }
  ~Scripted() {
    if (thread.joinable()) thread.join();
  }
  net::HostPort where() const { return {"127.0.0.1", std::to_string(acc.local_endpoint().port())}; }
};

Error exchange_error(Scripted& srv, const Bytes& msg, const net::ExchangeOptions& opt) {
  try {
    net::exchange(srv.where(), msg, opt);
  } catch (const Error& e) {
    return e;
  }
  FAIL("exchange succeeded");
  return Error(Exit::ok, "");
}
}  // namespace

TEST_CASE("exchange: what the client does with each notice") {
  const SessionId sid = sid_of(9);
  Bytes msg = encode(MsgType::vector, sid, 2, 0, IdList{{1, 2, 3}});
  msg[7] = 2;  // the round the client reports (any message works: the server here only echoes)
  const Bytes answer = encode(MsgType::survivors, sid, 0, 0, IdList{{1, 2}});
  net::ExchangeOptions opt;
  opt.session = sid;
  opt.timeout = std::chrono::seconds(10);
  int connected = 0, sent = 0;
  opt.on_connected = [&] { ++connected; };
  opt.on_sent = [&] { ++sent; };
  auto notice = [&](NoticeKind k, int ms, const char* why) {
    return net::notice_frame(sid, 2, k, std::chrono::milliseconds(ms), why);
  };

  SUBCASE("retry: the same bytes again, on a new connection, after the wait") {
    Scripted srv({notice(NoticeKind::retry, 50, "full"), notice(NoticeKind::retry, 50, "full"), answer}, msg.size());
    CHECK(net::exchange(srv.where(), msg, opt) == answer);
    srv.thread.join();
    CHECK(srv.connections == 3);
    CHECK(srv.same_bytes);
    CHECK(connected == 1);  // the step's hooks run once
    CHECK(sent == 1);
  }
  SUBCASE("retry past --timeout: exit 75") {
    opt.timeout = std::chrono::milliseconds(300);
    Scripted srv({notice(NoticeKind::retry, 1000, "full")}, msg.size());
    Error e = exchange_error(srv, msg, opt);
    CHECK(e.code() == Exit::tempfail);
    CHECK(std::string(e.what()).find("past --timeout") != std::string::npos);
  }
  SUBCASE("aborted: exit 1 with the reason") {
    Scripted srv({notice(NoticeKind::aborted, 0, "round 2: only 1 of 3")}, msg.size());
    Error e = exchange_error(srv, msg, opt);
    CHECK(e.code() == Exit::aborted);
    CHECK(std::string(e.what()) == srv.where().str() + ": the session aborted: round 2: only 1 of 3");
  }
  SUBCASE("refused: exit 65 with the reason") {
    Scripted srv({notice(NoticeKind::refused, 0, "bad signature")}, msg.size());
    Error e = exchange_error(srv, msg, opt);
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()) == srv.where().str() + ": the server refused this message: bad signature");
  }
  SUBCASE("stopped: exit 75, naming the round and --resume") {
    Scripted srv({notice(NoticeKind::stopped, 0, "stopped by SIGINT")}, msg.size());
    Error e = exchange_error(srv, msg, opt);
    CHECK(e.code() == Exit::tempfail);
    CHECK(std::string(e.what()) == srv.where().str() + ": the server stopped in round 2 (stopped by SIGINT); rerun "
                                                       "this same command once it runs again (serve --resume)");
  }
  SUBCASE("a close without a word: exit 75, the server went away") {
    Scripted srv({Bytes{}}, msg.size());
    Error e = exchange_error(srv, msg, opt);
    CHECK(e.code() == Exit::tempfail);
    CHECK(std::string(e.what()).find("it went away") != std::string::npos);
  }
  SUBCASE("a notice of another session is bad data") {
    Scripted srv({net::notice_frame(sid_of(1), 2, NoticeKind::aborted, {}, "x")}, msg.size());
    CHECK(exchange_error(srv, msg, opt).code() == Exit::data);
  }
}

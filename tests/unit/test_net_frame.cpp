// Socket-mode framing: HOST:PORT parsing, header checks, and the per-round size limits
// (every legitimate message of a session must fit under them).
#include <doctest/doctest.h>

#include "error.hpp"
#include "net/frame.hpp"
#include "pack.hpp"
#include "protocol.hpp"

using namespace secagg;

TEST_CASE("parse_host_port") {
  auto hp = net::parse_host_port("127.0.0.1:7000", "--connect");
  CHECK(hp.host == "127.0.0.1");
  CHECK(hp.port == "7000");
  CHECK(hp.str() == "127.0.0.1:7000");
  auto v6 = net::parse_host_port("[::1]:0", "--listen");
  CHECK(v6.host == "::1");
  CHECK(v6.str() == "[::1]:0");
  for (const char* bad : {"", "host", ":7000", "host:", "host:x", "host:65536", "::1:7000", "[::1]7000", "h:-1"}) {
    CAPTURE(bad);
    try {
      net::parse_host_port(bad, "--connect");
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.code() == Exit::usage);
    }
  }
}

TEST_CASE("frame_body_length checks magic, version and the limit before any body") {
  SessionId sid{};
  Bytes msg = encode(MsgType::survivors, sid, kServerId, kServerId, IdList{{1, 2, 3}});
  std::span<const uint8_t> header(msg.data(), kHeaderBytes);
  CHECK(net::frame_body_length(header, 1000, "x") == msg.size() - kHeaderBytes - kChecksumBytes);
  CHECK(net::frame_sender(header) == 0);
  CHECK_THROWS_AS(net::frame_body_length(header, 3, "x"), Error);
  Bytes bad = msg;
  bad[0] = 'X';
  CHECK_THROWS_WITH(net::frame_body_length(std::span(bad).first(kHeaderBytes), 1000, "peer"),
                    "peer: not a secagg frame (no SAGG magic)");
  bad = msg;
  bad[4] = 9;
  CHECK_THROWS_AS(net::frame_body_length(std::span(bad).first(kHeaderBytes), 1000, "peer"), Error);
}

TEST_CASE("the largest legitimate messages fit the session's limits") {
  for (uint32_t n : {3u, 50u, 1000u}) {
    for (uint64_t bits : {1u, 32u, 62u}) {
      Params p;
      p.clients = n;
      p.threshold = n / 2 + 1;
      p.neighbours = n - 1;
      p.modulus = Modulus::from_bits(static_cast<unsigned>(bits)).R;
      p.length = 1000;
      CAPTURE(n);
      CAPTURE(bits);
      SessionId sid{};
      auto body_of = [](const Bytes& m) { return m.size() - kHeaderBytes - trailer_bytes(m[6]); };
      const Secret32 key;  // any signing key: the signature's size does not depend on it
      AdvertiseKeys adv;
      CHECK(body_of(encode_signed(MsgType::advertise_keys, sid, 1, 0, adv, key)) <= net::max_client_body(p, Round::r0));
      SealedShares shares;
      for (uint32_t v = 1; v <= n; ++v)
        shares.shares.push_back({v, {}, Bytes(kSharePlaintextBytes + kAeadTagBytes)});
      uint64_t s = body_of(encode_signed(MsgType::share_keys, sid, 1, 0, shares, key));
      CHECK(s <= net::max_client_body(p, Round::r1));
      CHECK(s <= net::max_server_body(p));  // an inbox is as large
      RingVector y{p.modulus, p.length, pack(std::vector<uint64_t>(p.length, p.modulus - 1), p.ring().bits())};
      uint64_t v = body_of(encode_signed(MsgType::masked_input, sid, 1, 0, y, key));
      CHECK(v <= net::max_client_body(p, Round::r2));
      CHECK(v <= net::max_server_body(p));  // the aggregate is as large
      UnmaskShares u;
      for (uint32_t w = 1; w <= n; ++w) u.self_mask.push_back({w, {}});
      CHECK(body_of(encode_signed(MsgType::unmask_shares, sid, 1, 0, u, key)) <= net::max_client_body(p, Round::r4));
      Roster roster;
      for (uint32_t w = 1; w <= n; ++w) roster.clients.push_back({w, {}, {}, {}, std::nullopt});
      CHECK(body_of(encode(MsgType::roster, sid, 0, 0, roster)) <= net::max_server_body(p));
      // Far below the format's own limit: the limit is what protects the server.
      CHECK(net::max_client_body(p, Round::r0) <= 4096);
    }
  }
}

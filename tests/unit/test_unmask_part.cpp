// Range unmasking's pieces (docs/protocol.md, "Range unmasking"): the unmask-part message round
// trip and what read_part refuses, and SessionDir::masked_sum_range, which must give exactly the
// elements of the whole masked sum it streams past, and refuse the damage masked_sum refuses.
#include <doctest/doctest.h>

#include <numeric>
#include <string>
#include <vector>

#include "error.hpp"
#include "fileio.hpp"
#include "messages.hpp"
#include "session_dir.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

SessionId sid_of(uint8_t b) {
  SessionId s{};
  s.fill(b);
  return s;
}

std::vector<uint64_t> ramp(size_t n, uint64_t mod) {
  std::vector<uint64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (i * 2654435761u + 7) % mod;
  return v;
}

Part part_of(const Bytes& msg, Modulus m, uint64_t total) { return read_part(open_envelope(msg, "p"), m, total, "p"); }

}  // namespace

TEST_CASE("unmask-part: round trip, and what a reader refuses") {
  for (uint64_t R : {uint64_t{1} << 32, uint64_t{1000003}, uint64_t{1} << 62, uint64_t{2}}) {
    CAPTURE(R);
    const Modulus m{R};
    const std::vector<uint64_t> v = ramp(13, R);
    Digest32 d{};
    d.fill(0xab);
    const Bytes msg = part_message(v, 20, 40, d, {1, 3, 9}, m, sid_of(5));
    const Envelope env = open_envelope(msg, "p");
    CHECK(env.type == MsgType::unmask_part);
    CHECK(env.session == sid_of(5));
    const Part p = read_part(env, m, 40, "p");
    CHECK(p.elements == v);
    CHECK(p.body.offset == 20);
    CHECK(p.body.count == 13);
    CHECK(p.body.total == 40);
    CHECK(p.body.inputs == d);
    CHECK(p.body.responders == std::vector<uint32_t>{1, 3, 9});
    CHECK(summary(env, "p").find("range=20:33 elements=13") != std::string::npos);
    // Another session's length or modulus.
    CHECK_THROWS_AS(part_of(msg, m, 41), Error);
    CHECK_THROWS_AS(part_of(msg, Modulus{R == 2 ? 4 : R - 1}, 40), Error);
    // The part's range beyond the vector, or empty.
    CHECK_THROWS_AS(part_of(part_message(v, 28, 40, d, {1}, m, sid_of(5)), m, 40), Error);
    CHECK_THROWS_AS(part_of(part_message({}, 0, 40, d, {1}, m, sid_of(5)), m, 40), Error);
    CHECK_NOTHROW(part_of(part_message(v, 27, 40, d, {1}, m, sid_of(5)), m, 40));
    // Responders not sorted, repeated, or the server.
    CHECK_THROWS_AS(part_of(part_message(v, 0, 40, d, {3, 1}, m, sid_of(5)), m, 40), Error);
    CHECK_THROWS_AS(part_of(part_message(v, 0, 40, d, {1, 1}, m, sid_of(5)), m, 40), Error);
    CHECK_THROWS_AS(part_of(part_message(v, 0, 40, d, {0, 1}, m, sid_of(5)), m, 40), Error);
    // Not a part at all.
    CHECK_THROWS_AS(part_of(vector_message(v, m, sid_of(5)), m, 40), Error);
  }
  // An element at or above a modulus that is not a power of two.
  const Modulus m{1000};
  UnmaskPart body{.modulus = 1000, .total = 4, .offset = 0, .count = 2, .inputs = {}, .responders = {1},
                  .packed = {}};
  body.packed = Bytes{0xe8, 0x07, 0x00};  // 1000 and 1 in 10-bit words, then zero padding
  CHECK_THROWS_AS(part_of(encode(MsgType::unmask_part, sid_of(1), 0, 0, body), m, 4), Error);
  body.packed = Bytes{0xe7, 0x07, 0x00};  // 999 and 1
  CHECK(part_of(encode(MsgType::unmask_part, sid_of(1), 0, 0, body), m, 4).elements == std::vector<uint64_t>{999, 1});
  body.packed = Bytes{0xe7, 0x07, 0x10};  // a padding bit set
  CHECK_THROWS_AS(part_of(encode(MsgType::unmask_part, sid_of(1), 0, 0, body), m, 4), Error);
}

TEST_CASE("masked_sum_range gives the masked sum's elements [begin, end), and refuses what masked_sum refuses") {
  test::TempDir dir("range");
  SessionDir s(dir.path);
  for (uint64_t R : {uint64_t{1} << 32, uint64_t{1000003}, uint64_t{1} << 62, uint64_t{8}}) {
    CAPTURE(R);
    Params p;
    p.modulus = R;
    p.length = 1000;
    const std::vector<uint64_t> whole = ramp(p.length, R);
    write_file_atomic(s.masked_sum_path(), vector_message(whole, p.ring(), sid_of(3)));
    REQUIRE(s.masked_sum(p, sid_of(3)) == whole);
    for (auto [b, e] : std::vector<std::pair<uint64_t, uint64_t>>{
             {0, 1000}, {0, 1}, {999, 1000}, {1, 999}, {7, 9}, {8, 16}, {333, 667}, {5, 6}}) {
      CAPTURE(b);
      CAPTURE(e);
      const std::vector<uint64_t> want(whole.begin() + static_cast<ptrdiff_t>(b),
                                       whole.begin() + static_cast<ptrdiff_t>(e));
      CHECK(s.masked_sum_range(p, sid_of(3), b, e) == want);
    }
    CHECK_THROWS_AS(s.masked_sum_range(p, sid_of(4), 0, 10), Error);  // another session
    Params longer = p;
    longer.length = 1001;
    CHECK_THROWS_AS(s.masked_sum_range(longer, sid_of(3), 0, 10), Error);
    // A flipped byte far from the range is still found (the whole file's checksum).
    Bytes bad = vector_message(whole, p.ring(), sid_of(3));
    bad[bad.size() - 40] ^= 1;
    write_file_atomic(s.masked_sum_path(), bad);
    CHECK_THROWS_AS(s.masked_sum_range(p, sid_of(3), 0, 10), Error);
    bad = vector_message(whole, p.ring(), sid_of(3));
    bad.pop_back();
    write_file_atomic(s.masked_sum_path(), bad);
    CHECK_THROWS_AS(s.masked_sum_range(p, sid_of(3), 0, 10), Error);
  }
}

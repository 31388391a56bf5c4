#include <doctest/doctest.h>

#include <vector>

#include "error.hpp"
#include "messages.hpp"
#include "pack.hpp"
#include "random.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

template <class F>
Exit pack_error_code(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

uint64_t max_value(unsigned bits) { return bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// Straightforward bit-by-bit reference packer.
Bytes reference_pack(const std::vector<uint64_t>& v, unsigned bits) {
  Bytes out((v.size() * bits + 7) / 8, 0);
  size_t pos = 0;
  for (uint64_t x : v)
    for (unsigned b = 0; b < bits; ++b, ++pos)
      if (x >> b & 1) out[pos / 8] = static_cast<uint8_t>(out[pos / 8] | 1u << (pos % 8));
  return out;
}

std::vector<uint64_t> random_values(size_t n, unsigned bits) {
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = random_u64() & max_value(bits);
  if (n > 0) v[n / 2] = max_value(bits);
  if (n > 2) v[1] = 0;
  return v;
}

}  // namespace

TEST_CASE("pack: known answers") {
  std::vector<uint64_t> a{1, 2, 3};
  CHECK(pack(a, 2) == Bytes{0x39});
  std::vector<uint64_t> b{0x1ff};
  CHECK(pack(b, 9) == Bytes{0xff, 0x01});
  std::vector<uint64_t> c{1, 0, 1, 1, 0, 0, 0, 0, 1};
  CHECK(pack(c, 1) == Bytes{0x0d, 0x01});
  std::vector<uint64_t> d{0x0102030405060708};
  CHECK(pack(d, 64) == Bytes{8, 7, 6, 5, 4, 3, 2, 1});
  std::vector<uint64_t> e{0xabcd, 0x1234};
  CHECK(pack(e, 16) == Bytes{0xcd, 0xab, 0x34, 0x12});
  CHECK(unpack(Bytes{0x39}, 3, 2) == a);
  CHECK(unpack(Bytes{0xff, 0x01}, 1, 9) == b);
}

TEST_CASE("pack: round trip at every width and length") {
  for (unsigned bits = 1; bits <= 64; ++bits) {
    CAPTURE(bits);
    for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000}) {
      CAPTURE(n);
      auto v = random_values(n, bits);
      Bytes packed = pack(v, bits);
      CHECK(packed.size() == packed_size(n, bits));
      CHECK(packed.size() == (n * bits + 7) / 8);
      CHECK(packed == reference_pack(v, bits));
      CHECK(unpack(packed, n, bits) == v);
      std::vector<uint64_t> all_max(n, max_value(bits));
      CHECK(unpack(pack(all_max, bits), n, bits) == all_max);
    }
  }
}

TEST_CASE("pack: wrong sizes are data errors") {
  for (unsigned bits : {1u, 3u, 8u, 17u, 32u, 57u, 63u, 64u}) {
    CAPTURE(bits);
    for (size_t n : {0, 1, 9, 100}) {
      CAPTURE(n);
      Bytes packed = pack(random_values(n, bits), bits);
      if (!packed.empty()) {
        Bytes shorter(packed.begin(), packed.end() - 1);
        CHECK(pack_error_code([&] { unpack(shorter, n, bits); }) == Exit::data);
      }
      Bytes longer = packed;
      longer.push_back(0);
      CHECK(pack_error_code([&] { unpack(longer, n, bits); }) == Exit::data);
      CHECK(pack_error_code([&] { unpack(packed, n + 8, bits); }) == Exit::data);
    }
  }
  // Absurd n: no overflow into a matching size.
  Bytes some(8);
  CHECK(pack_error_code([&] { unpack(some, ~size_t{0}, 64); }) == Exit::data);
  CHECK(pack_error_code([&] { unpack(some, (~size_t{0} / 64) * 8 + 1, 64); }) == Exit::data);
  try {
    unpack(Bytes(12), 10, 10);
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("13") != std::string::npos);
    CHECK(std::string(e.what()).find("12") != std::string::npos);
  }
}

TEST_CASE("pack: nonzero padding is a data error") {
  std::vector<uint64_t> v{1, 2, 3};
  Bytes packed = pack(v, 2);  // 6 of 8 bits used
  packed[0] |= 0x40;
  CHECK(pack_error_code([&] { unpack(packed, 3, 2); }) == Exit::data);
  packed[0] = 0x80 | 0x39;
  CHECK(pack_error_code([&] { unpack(packed, 3, 2); }) == Exit::data);
  for (unsigned bits : {1u, 5u, 9u, 17u, 31u, 57u, 63u}) {
    for (size_t n : {1, 3, 65}) {
      if (n * bits % 8 == 0) continue;
      Bytes p = pack(random_values(n, bits), bits);
      p.back() = static_cast<uint8_t>(p.back() | 0x80);
      CHECK(pack_error_code([&] { unpack(p, n, bits); }) == Exit::data);
    }
  }
}

TEST_CASE("pack: bad widths and values are software errors") {
  std::vector<uint64_t> v{1, 2};
  CHECK(pack_error_code([&] { pack(v, 0); }) == Exit::software);
  CHECK(pack_error_code([&] { pack(v, 65); }) == Exit::software);
  CHECK(pack_error_code([&] { unpack(Bytes{0}, 1, 0); }) == Exit::software);
  CHECK(pack_error_code([&] { unpack(Bytes{0}, 1, 65); }) == Exit::software);
  CHECK(pack_error_code([&] { packed_size(1, 0); }) == Exit::software);
  CHECK(pack_error_code([&] { packed_size(1, 65); }) == Exit::software);
  for (unsigned bits : {1u, 2u, 8u, 16u, 17u, 24u, 32u, 40u, 48u, 56u, 63u}) {
    CAPTURE(bits);
    std::vector<uint64_t> w(70, 0);
    w[66] = uint64_t{1} << bits;
    CHECK(pack_error_code([&] { pack(w, bits); }) == Exit::software);
  }
  CHECK(packed_size(0, 5) == 0);
  CHECK(packed_size(3, 3) == 2);
  CHECK(packed_size(1000000, 17) == 2125000);
}

// encode_ring_vector writes a vector message in one pass; it must be the very bytes the generic
// cereal path gives, or readers (and the golden transcript) would disagree.
TEST_CASE("encode_ring_vector equals encode of the RingVector, signed and unsigned") {
  SessionId sid{};
  sid[0] = 7;
  Secret32 seed;
  seed.b.fill(3);
  for (unsigned bits : {1u, 7u, 16u, 32u, 33u, 62u}) {
    const Modulus m = Modulus::from_bits(bits);
    for (size_t n : {size_t{0}, size_t{1}, size_t{9}, size_t{1000}}) {
      std::vector<uint64_t> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = (i * 0x9E3779B97F4A7C15ull) & (m.R - 1);
      const RingVector body{m.R, n, pack(v, m.bits())};
      CAPTURE(bits);
      CAPTURE(n);
      CHECK(encode_ring_vector(MsgType::vector, sid, 0, 0, m, v) == encode(MsgType::vector, sid, 0, 0, body));
      CHECK(encode_ring_vector(MsgType::masked_input, sid, 4, 0, m, v, &seed) ==
            encode_signed(MsgType::masked_input, sid, 4, 0, body, seed));
    }
  }
}

TEST_CASE("unpack_add and first_outside agree with unpack at every width") {
  std::vector<uint64_t> moduli;
  for (unsigned bits = 1; bits <= 62; ++bits) moduli.push_back(uint64_t{1} << bits);
  for (uint64_t R : {uint64_t{3}, uint64_t{1000}, uint64_t{1000003}, (uint64_t{1} << 40) + 15,
                     (uint64_t{1} << 57) - 13, (uint64_t{1} << 62) - 57})
    moduli.push_back(R);
  for (uint64_t R : moduli) {
    const Modulus m = Modulus::make(R);
    CAPTURE(R);
    for (size_t n : {0, 1, 7, 9, 2047, 2048, 2049, 5000}) {
      CAPTURE(n);
      std::vector<Bytes> packed;
      std::vector<std::span<const uint8_t>> views;
      std::vector<uint64_t> sum(n), want(n);
      for (auto& x : sum) x = random_u64() % R;
      want = sum;
      for (int k = 0; k < 3; ++k) {
        std::vector<uint64_t> v(n);
        for (auto& x : v) x = random_u64() % R;
        if (n > 0) v[n - 1] = R - 1;
        packed.push_back(pack(v, m.bits()));
        for (size_t i = 0; i < n; ++i) want[i] = m.add(want[i], v[i]);
      }
      for (const auto& p : packed) {
        views.push_back(p);
        CHECK(first_outside(p, n, m) == n);
      }
      for (unsigned threads : {1u, 3u}) {
        std::vector<uint64_t> got = sum;
        unpack_add(got, views, m, threads);
        CHECK(got == want);
      }
      // An element that fits in bits(R) bits but is not below R.
      if (!m.pow2() && n > 0) {
        std::vector<uint64_t> v(n, 0);
        v[n / 2] = R;
        if (n > 2) v[n - 1] = R + 1 <= max_value(m.bits()) ? R + 1 : R;
        CHECK(first_outside(pack(v, m.bits()), n, m) == n / 2);
      }
    }
  }
  // unpack's size and padding errors, before anything is added.
  const Modulus m = Modulus::from_bits(3);
  std::vector<uint64_t> sum(3, 1);
  Bytes bad_size{0x39, 0, 0};  // 3 elements of 3 bits take 2 bytes
  std::vector<std::span<const uint8_t>> views{bad_size};
  CHECK(pack_error_code([&] { unpack_add(sum, views, m, 1); }) == Exit::data);
  Bytes bad_padding{0xff, 0xff};
  CHECK(pack_error_code([&] { first_outside(bad_padding, 5, m); }) == Exit::data);
  CHECK(sum == std::vector<uint64_t>(3, 1));
}

TEST_CASE("view_ring_vector reads what decode_body<RingVector> reads, with its errors") {
  const Modulus m = Modulus::from_bits(24);
  const SessionId sid{};
  std::vector<uint64_t> v{1, 2, 3, (1u << 24) - 1};
  Bytes msg = encode_ring_vector(MsgType::vector, sid, 0, 0, m, v);
  Envelope env = open_envelope(msg, "v");
  RingVectorView view = view_ring_vector(env, "v");
  RingVector body = decode_body<RingVector>(env, "v");
  CHECK(view.modulus == body.modulus);
  CHECK(view.length == body.length);
  CHECK(Bytes(view.packed.begin(), view.packed.end()) == body.packed);
  // Truncated, padded, or without the marker: decode_body's error, word for word.
  for (int c = 0; c < 4; ++c) {
    Envelope bad = env;
    if (c == 0) bad.body.pop_back();
    if (c == 1) bad.body.push_back(0);
    if (c == 2) bad.body[0] = 0;
    if (c == 3) bad.body.resize(10);
    std::string want, got;
    try {
      decode_body<RingVector>(bad, "v");
    } catch (const Error& e) {
      want = e.what();
    }
    try {
      view_ring_vector(bad, "v");
    } catch (const Error& e) {
      got = e.what();
    }
    CAPTURE(c);
    CHECK(!want.empty());
    CHECK(got == want);
  }
}

TEST_CASE("read_vector: decimal text, the fast path and the general one agree") {
  const Modulus m = Modulus::make(1000003);
  auto read = [&](const std::string& text, uint64_t length = 0) {
    return read_vector(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), m, length, nullptr, "t");
  };
  auto error = [&](const std::string& text) {
    try {
      read(text);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(read("1 2\n3\t\r\n\v\f1000002\n", 4) == std::vector<uint64_t>{1, 2, 3, 1000002});
  CHECK(read("") == std::vector<uint64_t>{});
  CHECK(read("  7") == std::vector<uint64_t>{7});
  CHECK(read("0000000000000000000000000005\n") == std::vector<uint64_t>{5});  // 28 digits: from_chars reads it
  CHECK(error("1\n2\n1000003\n") == "t: line 3: element 2 is '1000003', outside [0, 1000003)");
  CHECK(error("1 -2") == "t: line 1: element 1 is '-2', not a non-negative decimal integer");
  CHECK(error("1\n\n+2") == "t: line 3: element 1 is '+2', not a non-negative decimal integer");
  CHECK(error("12x") == "t: line 1: element 0 is '12x', not a non-negative decimal integer");
  CHECK(error("99999999999999999999999") == "t: line 1: element 0 is '99999999999999999999999', outside [0, 1000003)");
  CHECK(error("1 2").empty());
  std::vector<uint64_t> v(5000);
  for (auto& x : v) x = random_u64() % m.R;
  CHECK(read(vector_text(v), v.size()) == v);
  CHECK(error(vector_text(v)).empty());
}

TEST_CASE("open_envelope of a buffer it may keep: the same envelope, the same errors") {
  const Modulus m = Modulus::from_bits(20);
  const SessionId sid{1, 2, 3};
  std::vector<uint64_t> v(1001, 7);
  Secret32 seed;
  random_bytes(seed.data(), 32);
  for (const Bytes& msg : {encode_ring_vector(MsgType::vector, sid, 0, 0, m, v),
                           encode_ring_vector(MsgType::masked_input, sid, 3, 0, m, v, &seed)}) {
    const Envelope a = open_envelope(std::span<const uint8_t>(msg), "m");
    const Envelope b = open_envelope(Bytes(msg), "m");
    CHECK(a.type == b.type);
    CHECK(a.round == b.round);
    CHECK(a.session == b.session);
    CHECK(a.sender == b.sender);
    CHECK(a.recipient == b.recipient);
    CHECK(a.body == b.body);
    CHECK(a.checksum == b.checksum);
    CHECK(a.signature == b.signature);
    CHECK(seal_envelope(b) == msg);
    for (size_t cut : {size_t{0}, size_t{1}, msg.size() / 2}) {
      Bytes bad(msg.begin(), msg.end() - static_cast<std::ptrdiff_t>(cut));
      if (cut == 0) bad[50] ^= 1;
      std::string want, got;
      try {
        open_envelope(std::span<const uint8_t>(bad), "m");
      } catch (const Error& e) {
        want = e.what();
      }
      try {
        open_envelope(Bytes(bad), "m");
      } catch (const Error& e) {
        got = e.what();
      }
      CAPTURE(cut);
      CHECK(!want.empty());
      CHECK(got == want);
    }
  }
}

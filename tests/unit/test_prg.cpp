// PRG: known-answer tests for the raw primitives and for the Keystream
// construction, and the random-access property (any slice of the stream can
// be generated on its own).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "error.hpp"
#include "prg.hpp"

using namespace secagg;

namespace {

std::string hex_of(const uint8_t* p, size_t n) { return to_hex(std::span<const uint8_t>(p, n)); }

struct Seed {
  uint8_t b[32];
  explicit Seed(uint8_t start = 0, uint8_t step = 1) {
    for (int i = 0; i < 32; ++i) b[i] = static_cast<uint8_t>(start + step * i);
  }
};

std::vector<uint8_t> stream(PrgKind kind, const Seed& s, uint64_t offset, size_t n) {
  Keystream ks(kind, s.b);
  std::vector<uint8_t> out(n);
  ks.generate(offset, out.data(), n);
  return out;
}

constexpr PrgKind kKinds[] = {PrgKind::aes128ctr, PrgKind::chacha20};

}  // namespace

TEST_CASE("aes128ctr_xor: NIST SP 800-38A F.5.1 CTR-AES128.Encrypt") {
  // NIST SP 800-38A (2001), Appendix F.5.1. The initial counter block ends in
  // ...fdfeff, so the four blocks also exercise the carry out of the low bytes.
  Bytes key = from_hex("2b7e151628aed2a6abf7158809cf4f3c");
  Bytes iv = from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  Bytes pt = from_hex(
      "6bc1bee22e409f96e93d7e117393172a"
      "ae2d8a571e03ac9c9eb76fac45af8e51"
      "30c81c46a35ce411e5fbc1191a0a52ef"
      "f69f2445df4f9b17ad2b417be66c3710");
  const std::string ct =
      "874d6191b620e3261bef6864990db6ce"
      "9806f66b7970fdff8617187bb9fffdff"
      "5ae4df3edbd5d35e5b4f09020db03eab"
      "1e031dda2fbe03d1792170a0f3009cee";
  Bytes out(pt.size());
  aes128ctr_xor(key.data(), iv.data(), pt.data(), out.data(), pt.size());
  CHECK(to_hex(out) == ct);

  // F.5.2 (decryption) is the same operation; also in place.
  Bytes buf = from_hex(ct);
  aes128ctr_xor(key.data(), iv.data(), buf.data(), buf.data(), buf.size());
  CHECK(buf == pt);

  // An odd length stops mid-block.
  Bytes part(37);
  aes128ctr_xor(key.data(), iv.data(), pt.data(), part.data(), part.size());
  CHECK(to_hex(part) == ct.substr(0, 74));

  aes128ctr_xor(key.data(), iv.data(), pt.data(), out.data(), 0);  // n = 0 is fine
}

TEST_CASE("chacha20_ietf_xor: RFC 8439 test vectors") {
  Bytes key = from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

  SUBCASE("2.3.2 block function (keystream of one block, counter 1)") {
    Bytes nonce = from_hex("000000090000004a00000000");
    uint8_t zeros[64] = {}, out[64];
    chacha20_ietf_xor(key.data(), nonce.data(), 1, zeros, out, 64);
    CHECK(hex_of(out, 64) ==
          "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
          "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
  }

  SUBCASE("2.4.2 encryption of the sunscreen plaintext") {
    Bytes nonce = from_hex("000000000000004a00000000");
    const std::string pt =
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
        "future, sunscreen would be it.";
    REQUIRE(pt.size() == 114);
    const std::string ct =
        "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
        "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
        "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
        "5af90bbf74a35be6b40b8eedf2785e42874d";
    Bytes out(pt.size());
    chacha20_ietf_xor(key.data(), nonce.data(), 1, reinterpret_cast<const uint8_t*>(pt.data()),
                      out.data(), out.size());
    CHECK(to_hex(out) == ct);
    // Decryption is the same operation.
    Bytes back(out.size());
    chacha20_ietf_xor(key.data(), nonce.data(), 1, out.data(), back.data(), back.size());
    CHECK(std::string(back.begin(), back.end()) == pt);
  }

  SUBCASE("A.1 test vector #1: all-zero key and nonce, counter 0") {
    uint8_t zkey[32] = {}, znonce[12] = {}, zeros[64] = {}, out[64];
    chacha20_ietf_xor(zkey, znonce, 0, zeros, out, 64);
    CHECK(hex_of(out, 64) ==
          "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
          "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
  }
}

TEST_CASE("chacha20_ietf_xor refuses to wrap the 32-bit block counter") {
  uint8_t key[32] = {}, nonce[12] = {}, buf[129] = {};
  chacha20_ietf_xor(key, nonce, 0xffffffffu, buf, buf, 64);  // the last block: fine
  CHECK_THROWS_AS(chacha20_ietf_xor(key, nonce, 0xffffffffu, buf, buf, 65), Error);
  chacha20_ietf_xor(key, nonce, 0xfffffffeu, buf, buf, 128);
  CHECK_THROWS_AS(chacha20_ietf_xor(key, nonce, 0xfffffffeu, buf, buf, 129), Error);
}

TEST_CASE("prg_name and prg_from_name are inverse") {
  for (PrgKind k : kKinds) {
    auto back = prg_from_name(prg_name(k));
    REQUIRE(back.has_value());
    CHECK(*back == k);
  }
  CHECK(prg_name(PrgKind::aes128ctr) == "aes128ctr");
  CHECK(prg_name(PrgKind::chacha20) == "chacha20");
  CHECK_FALSE(prg_from_name("aes").has_value());
  CHECK_FALSE(prg_from_name("").has_value());
  CHECK_FALSE(prg_from_name("ChaCha20").has_value());
}

TEST_CASE("Keystream: frozen known answers (seed = bytes 00..1f)") {
  // Computed once and frozen: any change to the construction (key/IV layout,
  // counter encoding, nonce) must fail here. They agree with the OpenSSL
  // command line: `openssl enc -aes-128-ctr -K 000102..0f -iv 1011121314151617
  // 0000000000000000` and `openssl enc -chacha20 -K 000102..1f -iv 00..00`
  // (32-bit LE counter || 96-bit nonce) over zeros.
  Seed s;
  SUBCASE("aes128ctr") {
    CHECK(to_hex(stream(PrgKind::aes128ctr, s, 0, 32)) ==
          "8de6d8c0dd5bcc98df463acae0f52a759f34c3a0e93807bfbfad42ca76154a2b");
    CHECK(to_hex(stream(PrgKind::aes128ctr, s, 1000, 32)) ==
          "4b0fc978f0e4a741db0cd0296ed8ece6b0d44600920dec625c780106909dc653");
  }
  SUBCASE("chacha20") {
    CHECK(to_hex(stream(PrgKind::chacha20, s, 0, 32)) ==
          "39fd2b7dd9c5196a8dbd0377b8dc4a498a35d86fbcde6accb2cc7d4cd8ea2492");
    CHECK(to_hex(stream(PrgKind::chacha20, s, 1000, 32)) ==
          "0099419bc83f59c6a34ea269be33dc30279be6bd138faf74361a3bd15642d58b");
  }
}

TEST_CASE("Keystream aes128ctr is AES-128-CTR with key seed[0..16), IV seed[16..24) || counter") {
  Seed s(0x5a, 7);
  const size_t n = 1000;
  std::vector<uint8_t> zeros(n, 0), ref(n);
  uint8_t iv[16] = {};
  std::memcpy(iv, s.b + 16, 8);
  aes128ctr_xor(s.b, iv, zeros.data(), ref.data(), n);
  CHECK(stream(PrgKind::aes128ctr, s, 0, n) == ref);

  // The counter is big-endian in the last 8 bytes: check far offsets, including
  // ones whose counter crosses 32-bit and 56-bit boundaries inside the request.
  for (uint64_t block : {uint64_t{0x12345}, uint64_t{0xffffffff}, uint64_t{0x1ffffffffffffff},
                         uint64_t{1} << 59, (uint64_t{1} << 60) - 2}) {
    for (uint64_t skip : {0, 5, 15}) {
      CAPTURE(block);
      CAPTURE(skip);
      for (int i = 0; i < 8; ++i) iv[8 + i] = static_cast<uint8_t>(block >> (56 - 8 * i));
      std::vector<uint8_t> r(80);
      aes128ctr_xor(s.b, iv, zeros.data(), r.data(), r.size());
      auto got = stream(PrgKind::aes128ctr, s, block * 16 + skip, 64);
      CHECK(got == std::vector<uint8_t>(r.begin() + skip, r.begin() + skip + 64));
    }
  }
}

TEST_CASE("Keystream chacha20 is ChaCha20 with key = seed, zero nonce, counter = offset / 64") {
  Seed s(0xa5, 3);
  const size_t n = 1000;
  std::vector<uint8_t> zeros(n, 0), ref(n);
  uint8_t nonce[12] = {};
  chacha20_ietf_xor(s.b, nonce, 0, zeros.data(), ref.data(), n);
  CHECK(stream(PrgKind::chacha20, s, 0, n) == ref);
  for (uint32_t block : {1u, 77u, 0x10000u, 0xfffffffeu}) {
    CAPTURE(block);
    std::vector<uint8_t> r(128);
    chacha20_ietf_xor(s.b, nonce, block, zeros.data(), r.data(), r.size());
    CHECK(stream(PrgKind::chacha20, s, uint64_t{block} * 64 + 3, 100) ==
          std::vector<uint8_t>(r.begin() + 3, r.begin() + 103));
  }
}

TEST_CASE("Keystream: any slice equals the same slice of one long stream") {
  const size_t N = 70000;  // several 16 KiB internal chunks
  for (PrgKind kind : kKinds) {
    CAPTURE(prg_name(kind));
    Seed s(11, 13);
    auto whole = stream(kind, s, 0, N);

    // Fresh Keystream per slice, and one Keystream reused for every slice in an
    // arbitrary order (the AES context is re-positioned, not re-keyed).
    Keystream reused(kind, s.b);
    uint64_t x = 12345;
    auto next = [&x](uint64_t mod) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      return (x >> 33) % mod;
    };
    const uint64_t fixed[][2] = {{0, 1},      {1, 1},       {15, 1},    {15, 2},    {16, 16},
                                 {17, 31},    {63, 1},      {63, 2},    {64, 64},   {65, 127},
                                 {999, 1001}, {3, 16384},   {7, 16385}, {1, 40000}, {0, N},
                                 {N - 1, 1},  {N - 17, 17}, {16383, 3}, {16384, 5}};
    auto check = [&](uint64_t off, uint64_t len) {
      CAPTURE(off);
      CAPTURE(len);
      std::vector<uint8_t> a(len), b(len);
      Keystream fresh(kind, s.b);
      fresh.generate(off, a.data(), len);
      reused.generate(off, b.data(), len);
      std::vector<uint8_t> want(whole.begin() + off, whole.begin() + off + len);
      CHECK(a == want);
      CHECK(b == want);
    };
    for (auto& fl : fixed) check(fl[0], fl[1]);
    for (int t = 0; t < 200; ++t) {
      uint64_t off = next(N);
      uint64_t len = next(std::min<uint64_t>(N - off, t % 3 == 0 ? 40000 : 300) + 1);
      check(off, len);
    }

    // Consecutive pieces of odd sizes through one Keystream (the continuation path).
    Keystream seq(kind, s.b);
    std::vector<uint8_t> cat(N);
    uint64_t pos = 0;
    for (int t = 0; pos < N; ++t) {
      uint64_t len = std::min<uint64_t>(N - pos, 1 + (t * 7919) % 5000);
      seq.generate(pos, cat.data() + pos, len);
      pos += len;
    }
    CHECK(cat == whole);

    seq.generate(5, nullptr, 0);  // n = 0 writes nothing
  }
}

TEST_CASE("Keystream: seeds and PRGs give different streams") {
  Seed a(0, 1), b(0, 1);
  b.b[31] ^= 1;  // chacha20 key byte
  Seed c(0, 1);
  c.b[20] ^= 1;  // aes128ctr IV prefix byte
  Seed d(0, 1);
  d.b[3] ^= 0x80;  // key byte for both
  for (PrgKind kind : kKinds) {
    CAPTURE(prg_name(kind));
    auto sa = stream(kind, a, 0, 64);
    CHECK(sa != stream(kind, d, 0, 64));
    CHECK(sa != stream(kind, c, 0, 64));
  }
  CHECK(stream(PrgKind::chacha20, a, 0, 64) != stream(PrgKind::chacha20, b, 0, 64));
  // aes128ctr, as documented, reads only seed[0..24) (128-bit key, 64-bit IV prefix).
  CHECK(stream(PrgKind::aes128ctr, a, 0, 64) == stream(PrgKind::aes128ctr, b, 0, 64));
  CHECK(stream(PrgKind::aes128ctr, a, 0, 64) != stream(PrgKind::chacha20, a, 0, 64));
  CHECK(Keystream(PrgKind::chacha20, a.b).kind() == PrgKind::chacha20);
  CHECK(Keystream(PrgKind::aes128ctr, a.b).kind() == PrgKind::aes128ctr);
}

TEST_CASE("Keystream chacha20 stops at 2^38 bytes") {
  Seed s;
  Keystream ks(PrgKind::chacha20, s.b);
  const uint64_t limit = uint64_t{1} << 38;
  uint8_t buf[128];
  ks.generate(limit - 64, buf, 64);  // the last block
  ks.generate(limit - 1, buf, 1);
  auto expect_usage = [&](uint64_t off, size_t n) {
    try {
      ks.generate(off, buf, n);
      FAIL("no exception for offset " << off << " length " << n);
    } catch (const Error& e) {
      CHECK(e.code() == Exit::usage);
    }
  };
  expect_usage(limit - 10, 11);
  expect_usage(limit, 1);
  expect_usage(~uint64_t{0}, 2);
  // aes128ctr has a 64-bit block counter: far offsets are fine.
  Keystream aes(PrgKind::aes128ctr, s.b);
  aes.generate(~uint64_t{0} - 200, buf, 128);
}

TEST_CASE("Keystream rejects an unknown PRG kind") {
  Seed s;
  try {
    Keystream ks(static_cast<PrgKind>(9), s.b);
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::usage);
  }
}

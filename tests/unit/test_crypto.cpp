// Tests of lib/crypto/crypto: published known-answer vectors (RFC 7748, draft-irtf-cfrg-xchacha),
// the Wycheproof suites from ../shared/vectors when that folder is present, and the
// properties the protocol relies on (pair-key symmetry and separation, AEAD tamper detection).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <sodium.h>

#include "bytes.hpp"
#include "crypto.hpp"
#include "error.hpp"
#include "random.hpp"

#ifndef SECAGG_VECTORS_DIR
#define SECAGG_VECTORS_DIR ""
#endif

using namespace secagg;

namespace {

Secret32 secret_hex(std::string_view hex) {
  const Bytes b = from_hex(hex);
  REQUIRE(b.size() == 32);
  Secret32 s;
  std::copy(b.begin(), b.end(), s.b.begin());
  return s;
}

Key32 key_hex(std::string_view hex) {
  const Bytes b = from_hex(hex);
  REQUIRE(b.size() == 32);
  Key32 k{};
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

std::array<uint8_t, kAeadNonceBytes> nonce_hex(std::string_view hex) {
  const Bytes b = from_hex(hex);
  REQUIRE(b.size() == kAeadNonceBytes);
  std::array<uint8_t, kAeadNonceBytes> n{};
  std::copy(b.begin(), b.end(), n.begin());
  return n;
}

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string hex_of(const Secret32& s) { return to_hex(s.b); }

template <class Range>
bool all_zero(const Range& r) {
  return std::all_of(r.begin(), r.end(), [](uint8_t v) { return v == 0; });
}

template <class A, class B>
bool same_bytes(const A& a, const B& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

Secret32 random_secret() {
  Secret32 s;
  random_bytes(s.data(), s.size());
  return s;
}

// The Wycheproof folder, or nullopt (after saying so) when it is absent.
std::optional<std::filesystem::path> wycheproof_dir() {
  const std::string dir = SECAGG_VECTORS_DIR;
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    MESSAGE("skipped: test vector folder '" << dir << "' is absent");
    return std::nullopt;
  }
  return std::filesystem::path(dir) / "wycheproof";
}

// Parses a JSON file into doc; fails the test if it is missing or malformed.
void load_json(const std::filesystem::path& path, rapidjson::Document& doc) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path.string());
  std::ostringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  doc.Parse(s.c_str(), s.size());
  REQUIRE_MESSAGE(!doc.HasParseError(), "malformed JSON in " << path.string());
  REQUIRE(doc.IsObject());
  REQUIRE(doc.HasMember("testGroups"));
  REQUIRE(doc["testGroups"].IsArray());
}

std::string str(const rapidjson::Value& obj, const char* member) {
  REQUIRE_MESSAGE(obj.HasMember(member), "missing member " << member);
  REQUIRE(obj[member].IsString());
  return std::string(obj[member].GetString(), obj[member].GetStringLength());
}

}  // namespace

// ---------------------------------------------------------------------------
// X25519

TEST_CASE("X25519: RFC 7748 section 5.2 test vectors") {
  // RFC 7748, section 5.2, first scalar / u-coordinate pair.
  {
    const auto k = secret_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
    const auto u = key_hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
    const auto out = x25519(k, u);
    REQUIRE(out.has_value());
    CHECK(hex_of(*out) == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  }
  // RFC 7748, section 5.2, second pair (the u-coordinate has its top bit set, which X25519 masks).
  {
    const auto k = secret_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
    const auto u = key_hex("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
    const auto out = x25519(k, u);
    REQUIRE(out.has_value());
    CHECK(hex_of(*out) == "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  }
  // RFC 7748, section 5.2, iterated test: k = u = 9, then k, u = X25519(k, u), k.
  // Published values after 1 and 1,000 iterations (the 1,000,000 one is too slow for a unit test).
  {
    Secret32 k;
    k.b[0] = 9;
    Key32 u{};
    u[0] = 9;
    for (int i = 1; i <= 1000; ++i) {
      const auto next = x25519(k, u);
      REQUIRE(next.has_value());
      std::copy(k.b.begin(), k.b.end(), u.begin());
      k = *next;
      if (i == 1) CHECK(hex_of(k) == "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
    CHECK(hex_of(k) == "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
  }
}

TEST_CASE("X25519: RFC 7748 section 6.1 Diffie-Hellman") {
  // RFC 7748, section 6.1.
  const auto a = secret_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto b = secret_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const Key32 a_pub = x25519_public(a), b_pub = x25519_public(b);
  CHECK(to_hex(a_pub) == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  CHECK(to_hex(b_pub) == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto ka = x25519(a, b_pub), kb = x25519(b, a_pub);
  REQUIRE(ka.has_value());
  REQUIRE(kb.has_value());
  CHECK(hex_of(*ka) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  CHECK(hex_of(*kb) == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST_CASE("X25519: key pairs") {
  const auto alice = x25519_keypair();
  const auto bob = x25519_keypair();
  CHECK(alice.pk == x25519_public(alice.sk));
  CHECK(bob.pk == x25519_public(bob.sk));
  CHECK_FALSE(alice.sk == bob.sk);
  CHECK(alice.pk != bob.pk);
  CHECK_FALSE(all_zero(alice.sk.b));

  const auto ab = x25519(alice.sk, bob.pk), ba = x25519(bob.sk, alice.pk);
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(*ab == *ba);
  CHECK_FALSE(all_zero(ab->b));

  const auto carol = x25519_keypair();
  const auto ac = x25519(alice.sk, carol.pk);
  REQUIRE(ac.has_value());
  CHECK_FALSE(*ac == *ab);
}

TEST_CASE("X25519: a low-order peer key is refused") {
  const auto me = x25519_keypair();
  Key32 zero{};  // u = 0 has order 1 (times the cofactor): the output is all zero
  CHECK_FALSE(x25519(me.sk, zero).has_value());
  Key32 one{};
  one[0] = 1;  // u = 1 has order 4
  CHECK_FALSE(x25519(me.sk, one).has_value());
}

TEST_CASE("X25519: Wycheproof x25519_test.json") {
  const auto dir = wycheproof_dir();
  if (!dir) return;
  rapidjson::Document doc;
  load_json(*dir / "x25519_test.json", doc);

  int checked = 0, valid = 0, invalid = 0, acceptable_ok = 0, acceptable_refused = 0, zero_refused = 0,
      other_curve = 0;
  for (const auto& group : doc["testGroups"].GetArray()) {
    REQUIRE(group.HasMember("tests"));
    REQUIRE(group["tests"].IsArray());
    if (str(group, "curve") != "curve25519") {  // X448 groups, should the file ever hold any
      other_curve += static_cast<int>(group["tests"].Size());
      continue;
    }
    for (const auto& t : group["tests"].GetArray()) {
      const int id = t["tcId"].GetInt();
      const std::string result = str(t, "result");
      CAPTURE(id);
      CAPTURE(result);
      const Bytes priv = from_hex(str(t, "private")), pub = from_hex(str(t, "public")),
                  shared = from_hex(str(t, "shared"));
      ++checked;
      if (priv.size() != 32 || pub.size() != 32) {
        // Our API takes fixed 32-byte keys: such inputs cannot even be passed, i.e. are refused.
        CHECK(result != "valid");
        result == "invalid" ? ++invalid : ++acceptable_refused;
        continue;
      }
      Secret32 sk;
      std::copy(priv.begin(), priv.end(), sk.b.begin());
      Key32 pk{};
      std::copy(pub.begin(), pub.end(), pk.begin());
      const auto got = x25519(sk, pk);
      const bool equal = got && same_bytes(got->b, shared);
      const bool zero = all_zero(shared);

      if (result == "valid") {
        ++valid;
        REQUIRE(got.has_value());
        CHECK(to_hex(got->b) == to_hex(shared));
      } else if (result == "invalid") {
        ++invalid;
        CHECK_FALSE(equal);
      } else if (result == "acceptable") {
        CHECK((!got || equal));
        got ? ++acceptable_ok : ++acceptable_refused;
      } else {
        FAIL("unknown result " << result);
      }
      // Every case whose shared secret is all zero (low-order public key) must be refused,
      // and, as crypto.hpp documents, that is the only reason to refuse.
      if (zero) {
        CHECK_FALSE(got.has_value());
        if (!got) ++zero_refused;
      } else {
        CHECK(got.has_value());
      }
    }
  }
  CHECK(checked > 0);
  CHECK(zero_refused > 0);
  if (doc.HasMember("numberOfTests") && doc["numberOfTests"].IsInt())
    CHECK(checked + other_curve == doc["numberOfTests"].GetInt());
  MESSAGE("Wycheproof X25519: " << checked << " cases checked (" << valid << " valid, " << acceptable_ok
                                << " acceptable and computed, " << acceptable_refused
                                << " acceptable and refused, " << invalid << " invalid); " << zero_refused
                                << " all-zero shared secrets refused; " << other_curve
                                << " cases for other curves skipped");
}

// ---------------------------------------------------------------------------
// BLAKE2b

TEST_CASE("BLAKE2b-256") {
  // Expected digests from an independent implementation (Python's hashlib.blake2b, digest_size=32).
  CHECK(to_hex(blake2b_256({})) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  CHECK(to_hex(blake2b_256(bytes_of("abc"))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("BLAKE2b-256 keyed") {
  // Python's hashlib.blake2b(msg, digest_size=32, key=key).
  Bytes key32(32), key16(16);
  for (int i = 0; i < 32; ++i) key32[i] = static_cast<uint8_t>(i);
  for (int i = 0; i < 16; ++i) key16[i] = static_cast<uint8_t>(i);
  CHECK(to_hex(blake2b_256_keyed(key32, bytes_of("abc"))) ==
        "d63a32d3e44738d7907f964316c241adaba0abfeabc32349677578a15a203f7f");
  CHECK(to_hex(blake2b_256_keyed(key16, {})) == "037c7d740ea795902b5aebe210fafffff1f627f74010f8dc79c0d5b8a9fb5847");
  // libsodium takes keys of 16 to 64 bytes; another length is a caller's bug, not a short key.
  CHECK_THROWS_AS(blake2b_256_keyed(Bytes(15), {}), Error);
  CHECK_THROWS_AS(blake2b_256_keyed(Bytes(65), {}), Error);
}

TEST_CASE("derive_pair_key") {
  Secret32 shared;
  for (int i = 0; i < 32; ++i) shared.b[i] = static_cast<uint8_t>(i);  // 00 01 .. 1f
  const Bytes sid = {0x01, 0x02, 0x03, 0x04, 0x05};
  const std::string_view label = "secagg mask seed";

  const Secret32 k = derive_pair_key(shared, label, sid, 3, 0x01020304);

  SUBCASE("matches the documented layout computed directly") {
    // label || 0x00 || session_id || le32(min(a, b)) || le32(max(a, b)), written out by hand.
    Bytes msg = bytes_of(label);
    msg.push_back(0x00);
    msg.insert(msg.end(), sid.begin(), sid.end());
    for (uint8_t v : {0x03, 0x00, 0x00, 0x00}) msg.push_back(v);  // le32(3)
    for (uint8_t v : {0x04, 0x03, 0x02, 0x01}) msg.push_back(v);  // le32(0x01020304)
    CHECK(to_hex(msg) == "736563616767206d61736b20736565640001020304050300000004030201");
    Secret32 direct;
    REQUIRE(crypto_generichash(direct.data(), direct.size(), msg.data(), msg.size(), shared.data(),
                               shared.size()) == 0);
    CHECK(k == direct);
    // The same value from an independent BLAKE2b (Python hashlib.blake2b(msg, digest_size=32, key=shared)).
    CHECK(hex_of(k) == "0c8c08ce92e82d719961e8347811dcf0657fd3e3c0166d3ecf4355fa5771ce1e");
  }

  SUBCASE("symmetric in the pair") {
    CHECK(derive_pair_key(shared, label, sid, 0x01020304, 3) == k);
    const auto rnd = random_secret();
    CHECK(derive_pair_key(rnd, "x", {}, 7, 2) == derive_pair_key(rnd, "x", {}, 2, 7));
  }

  SUBCASE("separated by label, session, pair and secret") {
    CHECK_FALSE(derive_pair_key(shared, "secagg mask seed2", sid, 3, 0x01020304) == k);
    CHECK_FALSE(derive_pair_key(shared, "secagg share key", sid, 3, 0x01020304) == k);
    const Bytes sid2 = {0x01, 0x02, 0x03, 0x04, 0x06};
    CHECK_FALSE(derive_pair_key(shared, label, sid2, 3, 0x01020304) == k);
    CHECK_FALSE(derive_pair_key(shared, label, {}, 3, 0x01020304) == k);
    CHECK_FALSE(derive_pair_key(shared, label, sid, 3, 0x01020305) == k);
    CHECK_FALSE(derive_pair_key(shared, label, sid, 4, 0x01020304) == k);
    CHECK_FALSE(derive_pair_key(shared, label, sid, 0x01020304, 0x01020304) == k);
    Secret32 other = shared;
    other.b[31] ^= 1;
    CHECK_FALSE(derive_pair_key(other, label, sid, 3, 0x01020304) == k);
    // The 0x00 separator keeps label and session id apart: "ab"+"c..." differs from "a"+"bc...".
    const Bytes s1 = {'c'}, s2 = {'b', 'c'};
    CHECK_FALSE(derive_pair_key(shared, "ab", s1, 1, 2) == derive_pair_key(shared, "a", s2, 1, 2));
  }
}

// ---------------------------------------------------------------------------
// XChaCha20-Poly1305

TEST_CASE("XChaCha20-Poly1305: draft-irtf-cfrg-xchacha-03 appendix A.3.1") {
  // draft-irtf-cfrg-xchacha-03, appendix A.3.1 (the same case is Wycheproof tcId 1).
  const auto key = secret_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
  const auto nonce = nonce_hex("404142434445464748494a4b4c4d4e4f5051525354555657");
  const Bytes ad = from_hex("50515253c0c1c2c3c4c5c6c7");
  const Bytes pt = bytes_of(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
      "sunscreen would be it.");
  const std::string expected =
      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
      "21f9664c97637da9768812f615c68b13b52e"
      "c0875924c1c7987947deafd8780acf49";  // tag
  const Bytes sealed = aead_seal(key, nonce, ad, pt);
  CHECK(to_hex(sealed) == expected);
  const auto opened = aead_open(key, nonce, ad, from_hex(expected));
  REQUIRE(opened.has_value());
  CHECK(same_bytes(*opened, pt));
}

TEST_CASE("XChaCha20-Poly1305: Wycheproof xchacha20_poly1305_test.json") {
  const auto dir = wycheproof_dir();
  if (!dir) return;
  rapidjson::Document doc;
  load_json(*dir / "xchacha20_poly1305_test.json", doc);

  int checked = 0, valid = 0, invalid = 0, bad_params = 0;
  for (const auto& group : doc["testGroups"].GetArray()) {
    REQUIRE(group.HasMember("tests"));
    REQUIRE(group["tests"].IsArray());
    for (const auto& t : group["tests"].GetArray()) {
      const int id = t["tcId"].GetInt();
      const std::string result = str(t, "result");
      CAPTURE(id);
      CAPTURE(result);
      const Bytes key = from_hex(str(t, "key")), iv = from_hex(str(t, "iv")), aad = from_hex(str(t, "aad")),
                  msg = from_hex(str(t, "msg")), ct = from_hex(str(t, "ct")), tag = from_hex(str(t, "tag"));
      ++checked;
      if (key.size() != kAeadKeyBytes || iv.size() != kAeadNonceBytes || tag.size() != kAeadTagBytes) {
        // Wrong key, nonce or tag size for XChaCha20-Poly1305: our fixed-size API cannot take
        // them at all, so they are refused; the suite must not call any of them valid.
        CHECK(result != "valid");
        ++bad_params;
        continue;
      }
      Secret32 k;
      std::copy(key.begin(), key.end(), k.b.begin());
      std::array<uint8_t, kAeadNonceBytes> n{};
      std::copy(iv.begin(), iv.end(), n.begin());
      Bytes ct_tag = ct;
      ct_tag.insert(ct_tag.end(), tag.begin(), tag.end());

      const Bytes sealed = aead_seal(k, n, aad, msg);
      const auto opened = aead_open(k, n, aad, ct_tag);
      if (result == "valid") {
        ++valid;
        CHECK(to_hex(sealed) == to_hex(ct_tag));
        REQUIRE(opened.has_value());
        CHECK(to_hex(*opened) == to_hex(msg));
      } else if (result == "invalid") {
        ++invalid;
        CHECK_FALSE(opened.has_value());
        CHECK(sealed != ct_tag);
      } else if (result == "acceptable") {
        if (opened) CHECK(to_hex(*opened) == to_hex(msg));
      } else {
        FAIL("unknown result " << result);
      }
    }
  }
  CHECK(checked > 0);
  CHECK(valid > 0);
  CHECK(invalid > 0);
  if (doc.HasMember("numberOfTests") && doc["numberOfTests"].IsInt())
    CHECK(checked == doc["numberOfTests"].GetInt());
  MESSAGE("Wycheproof XChaCha20-Poly1305: " << checked << " cases checked (" << valid << " valid, " << invalid
                                            << " invalid refused by open, " << bad_params
                                            << " refused for their key/nonce/tag size)");
}

TEST_CASE("XChaCha20-Poly1305: round trip and tampering") {
  const Secret32 key = random_secret();
  std::array<uint8_t, kAeadNonceBytes> nonce{};
  random_bytes(nonce.data(), nonce.size());
  const Bytes ad = bytes_of("secagg round 2 client 17");
  const Bytes pt = bytes_of("a share of a mask seed, thirty-seven b");

  const Bytes ct = aead_seal(key, nonce, ad, pt);
  REQUIRE(ct.size() == pt.size() + kAeadTagBytes);
  CHECK_FALSE(std::equal(pt.begin(), pt.end(), ct.begin()));
  {
    const auto back = aead_open(key, nonce, ad, ct);
    REQUIRE(back.has_value());
    CHECK(same_bytes(*back, pt));
  }

  SUBCASE("empty plaintext and empty AD") {
    const Bytes c = aead_seal(key, nonce, {}, {});
    CHECK(c.size() == kAeadTagBytes);
    const auto back = aead_open(key, nonce, {}, c);
    REQUIRE(back.has_value());
    CHECK(back->empty());
    CHECK_FALSE(aead_open(key, nonce, ad, c).has_value());
  }

  SUBCASE("any flipped bit of ciphertext or tag is refused") {
    int refused = 0, tried = 0;
    for (size_t i = 0; i < ct.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        Bytes bad = ct;
        bad[i] ^= static_cast<uint8_t>(1u << bit);
        ++tried;
        if (!aead_open(key, nonce, ad, bad)) ++refused;
      }
    CHECK(tried == static_cast<int>(ct.size() * 8));
    CHECK(refused == tried);
  }

  SUBCASE("any flipped bit of the nonce is refused") {
    int refused = 0, tried = 0;
    for (size_t i = 0; i < nonce.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        auto bad = nonce;
        bad[i] ^= static_cast<uint8_t>(1u << bit);
        ++tried;
        if (!aead_open(key, bad, ad, ct)) ++refused;
      }
    CHECK(refused == tried);
  }

  SUBCASE("any flipped bit of the AD is refused, and so are a longer, shorter or missing AD") {
    int refused = 0, tried = 0;
    for (size_t i = 0; i < ad.size(); ++i)
      for (int bit = 0; bit < 8; ++bit) {
        Bytes bad = ad;
        bad[i] ^= static_cast<uint8_t>(1u << bit);
        ++tried;
        if (!aead_open(key, nonce, bad, ct)) ++refused;
      }
    CHECK(refused == tried);
    Bytes longer = ad;
    longer.push_back(0);
    CHECK_FALSE(aead_open(key, nonce, longer, ct).has_value());
    CHECK_FALSE(aead_open(key, nonce, std::span<const uint8_t>(ad).first(ad.size() - 1), ct).has_value());
    CHECK_FALSE(aead_open(key, nonce, {}, ct).has_value());
  }

  SUBCASE("a wrong key is refused") {
    Secret32 wrong = key;
    wrong.b[0] ^= 0x80;
    CHECK_FALSE(aead_open(wrong, nonce, ad, ct).has_value());
    CHECK_FALSE(aead_open(random_secret(), nonce, ad, ct).has_value());
  }

  SUBCASE("truncated or extended ciphertexts are refused") {
    for (size_t len = 0; len < kAeadTagBytes; ++len) {
      CAPTURE(len);
      CHECK_FALSE(aead_open(key, nonce, ad, std::span<const uint8_t>(ct).first(len)).has_value());
    }
    for (size_t len = kAeadTagBytes; len < ct.size(); ++len) {
      CAPTURE(len);
      CHECK_FALSE(aead_open(key, nonce, ad, std::span<const uint8_t>(ct).first(len)).has_value());
      CHECK_FALSE(aead_open(key, nonce, ad, std::span<const uint8_t>(ct).last(len)).has_value());
    }
    Bytes longer = ct;
    longer.push_back(0);
    CHECK_FALSE(aead_open(key, nonce, ad, longer).has_value());
  }

  SUBCASE("sealing is deterministic in (key, nonce, ad, plaintext)") {
    CHECK(aead_seal(key, nonce, ad, pt) == ct);
    auto other = nonce;
    other[23] ^= 1;
    CHECK(aead_seal(key, other, ad, pt) != ct);
  }
}

// Identities and certificates (lib/protocol/identity.hpp; man/secagg-formats.5, Certificate): a
// certificate verifies under its CA, for its id, until it expires; anything else is refused with
// words that name what is wrong.
#include <doctest/doctest.h>

#include <string>

#include "error.hpp"
#include "identity.hpp"

using namespace secagg;

namespace {

// The message of verify_certificate's refusal ("" if it accepts), checking its exit code.
std::string refusal(const Certificate& c, const Key32& ca_pk, uint32_t id, uint64_t now) {
  try {
    verify_certificate(c, ca_pk, id, now, "c.cert");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Decoding a certificate message, returning the refusal's message ("" if it decodes).
std::string decode_refusal(const Envelope& env) {
  try {
    decode_certificate(env, "c.cert");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a certificate verifies under its CA, for its id, before it expires") {
  const Identity ca = make_identity(), client = make_identity();
  CHECK(ed25519_public(ca.seed) == ca.pk);
  CHECK(ca.pk != client.pk);
  const Certificate c = certify(ca, 7, client.pk, 2000);
  CHECK(refusal(c, ca.pk, 7, 1999) == "");
  CHECK(contains(refusal(c, ca.pk, 7, 2000), "c.cert: expired at 2000"));
  CHECK(contains(refusal(c, ca.pk, 7, 5000), "expired"));
  const Certificate never = certify(ca, 7, client.pk, 0);
  CHECK(refusal(never, ca.pk, 7, UINT64_MAX) == "");
  // Another CA, another id.
  const Identity other = make_identity();
  CHECK(contains(refusal(c, other.pk, 7, 0), "c.cert: issued by another CA"));
  CHECK(contains(refusal(c, ca.pk, 8, 0), "c.cert: certifies client 7, not 8"));
  // A certificate another CA made for the same key and id does not verify under this one.
  CHECK(contains(refusal(certify(other, 7, client.pk, 0), ca.pk, 7, 0), "another CA"));
  CHECK_THROWS_AS(certify(ca, 0, client.pk, 0), Error);
}

TEST_CASE("a flipped byte in any field of a certificate is refused") {
  const Identity ca = make_identity(), client = make_identity();
  const Certificate good = certify(ca, 7, client.pk, 0);
  {
    Certificate c = good;
    c.id ^= 0x100;  // the verifier asks for 7: a wrong id
    CHECK(contains(refusal(c, ca.pk, 7, 0), "certifies client 263, not 7"));
    // Asked for the id the certificate now says, the signature fails.
    CHECK(contains(refusal(c, ca.pk, c.id, 0), "bad signature"));
  }
  for (size_t i = 0; i < 32; i += 7) {
    Certificate c = good;
    c.identity_pk[i] ^= 1;
    CHECK(contains(refusal(c, ca.pk, 7, 0), "c.cert: bad signature"));
    c = good;
    c.ca_pk[i] ^= 1;
    CHECK(contains(refusal(c, ca.pk, 7, 0), "another CA"));
  }
  {
    Certificate c = good;
    c.expires ^= 1;  // 0 (never) to 1: the signature covers it
    CHECK(contains(refusal(c, ca.pk, 7, 0), "bad signature"));
  }
  for (size_t i = 0; i < 64; i += 9) {
    Certificate c = good;
    c.signature[i] ^= 0x80;
    CHECK(contains(refusal(c, ca.pk, 7, 0), "bad signature"));
  }
}

TEST_CASE("certificate, identity and identity-public messages round trip and refuse a malformed body") {
  const Identity ca = make_identity(), client = make_identity();
  const Certificate c = certify(ca, 9, client.pk, 12345);
  const Envelope env = open_envelope(encode_certificate(c), "c.cert");
  CHECK(env.type == MsgType::certificate);
  CHECK(env.session == SessionId{});
  CHECK(env.sender == 0);
  CHECK(env.recipient == 9);
  const Certificate back = decode_certificate(env, "c.cert");
  CHECK(back.id == 9);
  CHECK(back.identity_pk == client.pk);
  CHECK(back.ca_pk == ca.pk);
  CHECK(back.expires == 12345);
  CHECK(back.signature == c.signature);
  CHECK(refusal(back, ca.pk, 9, 12344) == "");
  CHECK(contains(summary(env, "c.cert"), "certificate round=- "));
  CHECK(contains(summary(env, "c.cert"), "id=9 identity_pk=" + to_hex(client.pk)));

  // Malformed bodies: truncated, a byte more, empty, a big-endian marker; each is refused.
  for (int cut : {1, 8, 40}) {
    Envelope e = env;
    e.body.resize(e.body.size() - static_cast<size_t>(cut));
    CHECK(contains(decode_refusal(e), "c.cert: malformed certificate body"));
  }
  {
    Envelope e = env;
    e.body.push_back(0);
    CHECK(contains(decode_refusal(e), "c.cert: certificate body has 1 unexpected trailing bytes"));
    e.body.clear();
    CHECK(contains(decode_refusal(e), "malformed certificate body"));
  }
  {
    // The envelope's recipient must be the certified id, its session zero, its sender 0.
    Envelope e = env;
    e.recipient = 3;
    CHECK(contains(decode_refusal(e), "malformed certificate: sender 0 and recipient 3, expected 0 and 9"));
    e = env;
    e.session[0] = 1;
    CHECK(contains(decode_refusal(e), "malformed certificate: its session id is not zero"));
    // Id 0 is the server's.
    Certificate zero = c;
    zero.id = 0;
    Envelope z = open_envelope(encode(MsgType::certificate, SessionId{}, 0, 0, zero), "c.cert");
    CHECK(contains(decode_refusal(z), "malformed certificate: it certifies id 0"));
  }
  // Another type is not a certificate.
  const Envelope pub = open_envelope(encode_identity_public(client.pk), "c.pub");
  CHECK(contains(decode_refusal(pub), "c.cert: is a message of type identity-public, not certificate"));
  CHECK(decode_identity_public(pub, "c.pub") == client.pk);

  // An identity: its seed is secret in JSON, and a pk that is not its seed's is refused.
  const Envelope key = open_envelope(encode_identity(client), "c.key");
  CHECK(decode_identity(key, "c.key").seed == client.seed);
  const std::string redacted = to_json(key, false, "c.key");
  CHECK(contains(redacted, "\"seed\": \"redacted\""));
  CHECK(!contains(redacted, to_hex(client.seed.b)));
  CHECK(contains(to_json(key, true, "c.key"), "\"seed\": \"" + to_hex(client.seed.b) + "\""));
  Identity bad = client;
  bad.pk = ca.pk;
  const Envelope wrong = open_envelope(encode(MsgType::identity, SessionId{}, 0, 0, bad), "c.key");
  CHECK_THROWS_WITH_AS(decode_identity(wrong, "c.key"), "c.key: malformed identity: its public key is not its seed's",
                       Error);
  CHECK_THROWS_WITH_AS(decode_identity(pub, "c.pub"), "c.pub: is a message of type identity-public, not identity", Error);
}

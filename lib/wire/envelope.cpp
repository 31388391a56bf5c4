#include "envelope.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "crypto.hpp"
#include "error.hpp"
#include "le.hpp"

namespace secagg {

namespace {

void check_signing(const Envelope& env, const ChecksumSigner* sign) {
  const bool is_signed = signed_type(env.type);
  if (!is_signed && env.signature)
    throw Error(Exit::software, fmt::format("a {} message carries no signature", type_name(env.type)));
  if (is_signed && !env.signature && !sign)
    throw Error(Exit::software, fmt::format("a {} message must be signed", type_name(env.type)));
}

// out = room for the header || body: writes the header into the room, then appends the
// checksum and, for a signed type, the signature.
void finish(Bytes& out, const Envelope& env, const ChecksumSigner* sign) {
  uint8_t* h = out.data();
  std::memcpy(h, kMagic.data(), kMagic.size());
  le::store16(h + 4, kFormatVersion);
  h[6] = static_cast<uint8_t>(env.type);
  h[7] = round_number(env.round);
  std::memcpy(h + 8, env.session.data(), env.session.size());
  le::store32(h + 24, env.sender);
  le::store32(h + 28, env.recipient);
  le::store64(h + 32, out.size() - kHeaderBytes);
  Digest32 sum = blake2b_256(out);
  out.insert(out.end(), sum.begin(), sum.end());
  if (signed_type(env.type)) {
    Signature64 sig = sign ? (*sign)(sum) : *env.signature;
    out.insert(out.end(), sig.begin(), sig.end());
  }
}

Bytes seal(const Envelope& env, const ChecksumSigner* sign) {
  check_signing(env, sign);
  Bytes out;
  out.reserve(kHeaderBytes + env.body.size() + trailer_bytes(static_cast<uint8_t>(env.type)));
  out.resize(kHeaderBytes);
  out.insert(out.end(), env.body.begin(), env.body.end());
  finish(out, env, sign);
  return out;
}

}  // namespace

Bytes seal_envelope(const Envelope& env) { return seal(env, nullptr); }
Bytes seal_envelope(const Envelope& env, const ChecksumSigner& sign) { return seal(env, &sign); }

Bytes seal_framed(const Envelope& header, Bytes&& framed, const ChecksumSigner* sign) {
  check_signing(header, sign);
  if (framed.size() < kHeaderBytes) throw Error(Exit::software, "a framed body lacks the room for its header");
  finish(framed, header, sign);
  return std::move(framed);
}

bool looks_like_envelope(std::span<const uint8_t> bytes) {
  return bytes.size() >= kMagic.size() && std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) == 0;
}

namespace {
void check_version(std::span<const uint8_t> bytes, const std::string& origin) {
  uint16_t version = le::get16(bytes.data() + 4);
  if (version != kFormatVersion)
    throw Error(Exit::data, origin + ": format version " + std::to_string(version) +
                                " is not supported (this secagg reads version " + std::to_string(kFormatVersion) + ")");
}
}  // namespace

uint64_t message_size(std::span<const uint8_t> header, uint64_t max_body, const std::string& origin) {
  auto bad = [&](const std::string& what) { return Error(Exit::data, origin + ": " + what); };
  if (!looks_like_envelope(header)) throw bad("not a secagg message (no SAGG magic)");
  if (header.size() < kHeaderBytes) throw Error(Exit::software, "message_size needs a whole header");
  check_version(header, origin);
  const uint8_t type = header[6];
  if (!valid_type(type)) throw bad("unknown message type " + std::to_string(type));
  const uint64_t body_len = le::get64(header.data() + 32);
  const uint64_t limit = std::min(max_body, kMaxBodyBytes);
  if (body_len > limit)
    throw bad(fmt::format("body length {} is more than a {} message can have here ({} bytes)", body_len,
                          type_name(static_cast<MsgType>(type)), limit));
  return kHeaderBytes + body_len + trailer_bytes(type);
}

namespace {
// open_envelope's checks and every field but the body, which is bytes [kHeaderBytes, end).
Envelope open_checked(std::span<const uint8_t> bytes, const std::string& origin, size_t& end) {
  auto bad = [&](const std::string& what) { return Error(Exit::data, origin + ": " + what); };
  if (bytes.size() < kMagic.size() || !looks_like_envelope(bytes))
    throw bad("not a secagg message (no SAGG magic)");
  if (bytes.size() < kHeaderBytes + kChecksumBytes)
    throw bad("truncated: " + std::to_string(bytes.size()) + " bytes, a message has at least " +
              std::to_string(kHeaderBytes + kChecksumBytes));
  check_version(bytes, origin);
  uint64_t body_len = le::get64(bytes.data() + 32);
  if (body_len > kMaxBodyBytes) throw bad("body length " + std::to_string(body_len) + " is beyond the format's limit");
  // The trailer's length depends on the type; an unknown type is refused after the checksum.
  const uint8_t type = bytes[6];
  const size_t trailer = trailer_bytes(type);
  uint64_t want = kHeaderBytes + body_len + trailer;
  if (trailer > kChecksumBytes && bytes.size() == want - kSignatureBytes)
    throw bad(fmt::format("missing signature: this {} message ends after its checksum, without its sender's "
                          "{}-byte signature",
                          type_name(static_cast<MsgType>(type)), kSignatureBytes));
  if (bytes.size() < want)
    throw bad("truncated: " + std::to_string(bytes.size()) + " bytes, the header announces " + std::to_string(want));
  if (bytes.size() > want)
    throw bad(std::to_string(bytes.size() - want) + " unexpected bytes after the end of the message");
  Digest32 sum = blake2b_256(bytes.first(kHeaderBytes + body_len));
  if (sodium_memcmp(sum.data(), bytes.data() + kHeaderBytes + body_len, kChecksumBytes) != 0)
    throw bad("checksum mismatch: the message is corrupted");
  if (!valid_type(type)) throw bad("unknown message type " + std::to_string(type));
  Envelope env;
  env.type = static_cast<MsgType>(type);
  if (bytes[7] != round_number(round_of(env.type)))
    throw bad(std::string(type_name(env.type)) + " message carries round " + std::to_string(bytes[7]) +
              ", expected " + std::to_string(round_number(round_of(env.type))));
  env.round = round_of(env.type);
  env.checksum = sum;
  if (trailer > kChecksumBytes) {
    env.signature.emplace();
    std::memcpy(env.signature->data(), bytes.data() + kHeaderBytes + body_len + kChecksumBytes, kSignatureBytes);
  }
  std::memcpy(env.session.data(), bytes.data() + 8, kSessionIdBytes);
  env.sender = le::get32(bytes.data() + 24);
  env.recipient = le::get32(bytes.data() + 28);
  end = kHeaderBytes + body_len;
  return env;
}
}  // namespace

Envelope open_envelope(std::span<const uint8_t> bytes, const std::string& origin) {
  size_t end = 0;
  Envelope env = open_checked(bytes, origin, end);
  env.body.assign(bytes.begin() + kHeaderBytes, bytes.begin() + static_cast<std::ptrdiff_t>(end));
  return env;
}

Envelope open_envelope(Bytes&& bytes, const std::string& origin) {
  size_t end = 0;
  Envelope env = open_checked(bytes, origin, end);
  // The body moved to the front of the buffer it came in: no second buffer of its size.
  bytes.resize(end);
  bytes.erase(bytes.begin(), bytes.begin() + kHeaderBytes);
  env.body = std::move(bytes);
  return env;
}

std::string session_hex(const SessionId& sid) { return to_hex(sid); }

}  // namespace secagg

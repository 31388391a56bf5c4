#include "vectors.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "error.hpp"
#include "tokens.hpp"
#include "messages.hpp"
#include "pack.hpp"

namespace secagg {
namespace {

std::vector<uint64_t> parse_text(std::span<const uint8_t> bytes, Modulus m, uint64_t expected_length,
                                 const std::string& origin) {
  std::vector<uint64_t> out;
  // The session's length when it is known and the text could hold it (two bytes per element at
  // least): no reallocation on the way.
  if (expected_length != 0 && expected_length <= bytes.size() / 2 + 1) out.reserve(expected_length);
  for_each_token(bytes, [&](std::string_view word, size_t line) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && ptr == word.data() + word.size() && v >= m.R))
      throw Error(Exit::data, fmt::format("{}: line {}: element {} is '{}', outside [0, {})", origin, line, out.size(),
                                          printable(word), m.R));
    if (ec != std::errc() || ptr != word.data() + word.size())
      throw Error(Exit::data, fmt::format("{}: line {}: element {} is '{}', not a non-negative decimal integer", origin,
                                          line, out.size(), printable(word)));
    out.push_back(v);
  });
  return out;
}

// parse_text's common case in one tight pass: tokens of at most 19 decimal digits (below 2^64),
// each below R. nullopt at anything else (a token parse_text would refuse, or one it reads with
// from_chars' more general rules, as 20 digits with leading zeros): parse_text then decides.
std::optional<std::vector<uint64_t>> parse_plain_text(std::span<const uint8_t> bytes, Modulus m,
                                                      uint64_t expected_length) {
  std::vector<uint64_t> out;
  if (expected_length != 0 && expected_length <= bytes.size() / 2 + 1) out.reserve(expected_length);
  const uint8_t* p = bytes.data();
  const uint8_t* const end = p + bytes.size();
  auto space = [](uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (p < end) {
    if (space(*p)) {
      ++p;
      continue;
    }
    const uint8_t* tok = p;
    uint64_t v = 0;
    for (; p < end && static_cast<uint8_t>(*p - '0') < 10; ++p) v = v * 10 + static_cast<uint64_t>(*p - '0');
    if (p == tok || p - tok > 19 || (p < end && !space(*p)) || v >= m.R) return std::nullopt;
    out.push_back(v);
  }
  return out;
}

}  // namespace

std::vector<uint64_t> read_vector(std::span<const uint8_t> bytes, Modulus m, uint64_t expected_length,
                                  const SessionId* session, const std::string& origin) {
  std::vector<uint64_t> v;
  if (looks_like_envelope(bytes)) {
    Envelope env = open_envelope(bytes, origin);
    if (env.type != MsgType::vector && env.type != MsgType::masked_input)
      throw Error(Exit::data, fmt::format("{}: is a message of type {}, not a vector", origin, type_name(env.type)));
    SessionId zero{};
    if (session && env.session != zero && env.session != *session)
      throw Error(Exit::data, fmt::format("{}: vector belongs to session {}, not {}", origin, session_hex(env.session),
                                          session_hex(*session)));
    const RingVectorView body = view_ring_vector(env, origin);  // the packed elements, not a copy
    if (body.modulus != m.R)
      throw Error(Exit::data, fmt::format("{}: vector is modulo {}, the session works modulo {}", origin, body.modulus, m.R));
    try {
      v = unpack(body.packed, body.length, m.bits());
    } catch (const Error& e) {
      throw Error(Exit::data, fmt::format("{}: {}", origin, e.what()));
    }
    if (!m.pow2())  // bits(R) bits hold exactly [0, R) when R is a power of two
      for (size_t i = 0; i < v.size(); ++i)
        if (v[i] >= m.R)
          throw Error(Exit::data, fmt::format("{}: element {} is {}, outside [0, {})", origin, i, v[i], m.R));
  } else {
    auto plain = parse_plain_text(bytes, m, expected_length);
    v = plain ? std::move(*plain) : parse_text(bytes, m, expected_length, origin);
  }
  if (expected_length != 0 && v.size() != expected_length)
    throw Error(Exit::data, fmt::format("{}: vector has {} elements, the session expects {}", origin, v.size(),
                                        expected_length));
  return v;
}

uint64_t max_input_bytes(uint64_t values) { return 64 * values + 65536; }

Bytes vector_message(std::span<const uint64_t> v, Modulus m, const SessionId& session) {
  return encode_ring_vector(MsgType::vector, session, kServerId, kServerId, m, v);
}

Bytes part_message(std::span<const uint64_t> v, uint64_t offset, uint64_t total, const Digest32& inputs,
                   std::vector<uint32_t> responders, Modulus m, const SessionId& session) {
  const UnmaskPart body{.modulus = m.R,
                        .total = total,
                        .offset = offset,
                        .count = v.size(),
                        .inputs = inputs,
                        .responders = std::move(responders),
                        .packed = pack(v, m.bits())};
  return encode(MsgType::unmask_part, session, kServerId, kServerId, body);
}

Part read_part(const Envelope& env, Modulus m, uint64_t total, const std::string& origin) {
  if (env.type != MsgType::unmask_part)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, not an unmask-part (from secagg-collect unmask "
                                        "--range)",
                                        origin, type_name(env.type)));
  Part part{.body = decode_body<UnmaskPart>(env, origin), .elements = {}};
  UnmaskPart& b = part.body;
  auto bad = [&](const std::string& what) { return Error(Exit::data, fmt::format("{}: {}", origin, what)); };
  if (b.modulus != m.R) throw bad(fmt::format("part is modulo {}, the session works modulo {}", b.modulus, m.R));
  if (b.total != total)
    throw bad(fmt::format("part is of a vector of {} elements, the session's have {}", b.total, total));
  if (b.count == 0 || b.offset >= total || b.count > total - b.offset)
    throw bad(fmt::format("part's range [{}, {}) is not within [0, {}) or is empty", b.offset, b.offset + b.count,
                          total));
  for (size_t i = 0; i < b.responders.size(); ++i)
    if (b.responders[i] == 0 || (i > 0 && b.responders[i] <= b.responders[i - 1]))
      throw bad("part's responders are not sorted distinct client ids");
  try {
    part.elements = unpack(b.packed, static_cast<size_t>(b.count), m.bits());
  } catch (const Error& e) {
    throw bad(e.what());
  }
  Bytes().swap(b.packed);
  for (size_t i = 0; i < part.elements.size(); ++i)
    if (part.elements[i] >= m.R)
      throw bad(fmt::format("element {} is {}, outside [0, {})", b.offset + i, part.elements[i], m.R));
  return part;
}

std::string vector_text(std::span<const uint64_t> v) {
  std::string out;
  out.reserve(v.size() * 11);
  char buf[24];
  for (uint64_t x : v) {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, x);
    out.append(buf, p);
    out.push_back('\n');
  }
  return out;
}

}  // namespace secagg

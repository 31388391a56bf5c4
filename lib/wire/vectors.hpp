// Ring vectors as users see them: whitespace-separated decimal text, or a
// binary `vector` message (bit-packed). Readers accept either.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "envelope.hpp"
#include "messages.hpp"
#include "modulus.hpp"

namespace secagg {

// Decode a vector file. `expected_length` 0 means any length. Every element must be in
// [0, R). A binary vector must carry modulus R and, if `session` is given and the
// vector names one (non-zero), that session. Throws Error(Exit::data) naming origin.
std::vector<uint64_t> read_vector(std::span<const uint8_t> bytes, Modulus m, uint64_t expected_length,
                                  const SessionId* session, const std::string& origin);

// The most bytes an input of `values` elements may take, in any format a reader accepts (decimal
// text, a binary vector, a .npy file or raw floats): 64 per element (text with generous
// whitespace; binary needs at most 8) plus 64 KiB for headers. Inputs are read with this bound
// (read_file), so a huge or endless file is refused before it fills memory.
uint64_t max_input_bytes(uint64_t values);

Bytes vector_message(std::span<const uint64_t> v, Modulus m, const SessionId& session);
std::string vector_text(std::span<const uint64_t> v);  // one element per line

// An unmask-part message (secagg-collect unmask --range): v holds the aggregate's elements
// [offset, offset + v.size()) of a vector of `total` elements.
Bytes part_message(std::span<const uint64_t> v, uint64_t offset, uint64_t total, const Digest32& inputs,
                   std::vector<uint32_t> responders, Modulus m, const SessionId& session);
// A part's body, checked against a session of modulus m and length `total`: a range [offset,
// offset + count) with 1 <= count and offset + count <= total, packed elements of m's bits that are
// exactly count (zero padding) and each below R, responders sorted and distinct. The body's
// `packed` is emptied into `elements`. Throws Error(Exit::data) naming origin.
struct Part {
  UnmaskPart body;
  std::vector<uint64_t> elements;
};
Part read_part(const Envelope& env, Modulus m, uint64_t total, const std::string& origin);

}  // namespace secagg

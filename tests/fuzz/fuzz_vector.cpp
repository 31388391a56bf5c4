// Fuzz target: read_vector (decimal text or a binary `vector` / `masked-input` message).
//
// Input layout:
//   byte 0   modulus: kModuli[byte % size]
//   byte 1   expected length: kLengths[byte % size] (0: any length)
//   byte 2   bit 0: pass a session id (kSession) for the vector to match
//   rest     the vector file
// A file that looks like an envelope is also run resealed (fuzz_common.hpp).
// A vector that reads must hold only elements below R and the expected number of them,
// and must survive the round trip through vector_message / vector_text.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "envelope.hpp"
#include "error.hpp"
#include "fuzz_common.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

constexpr uint64_t kModuli[] = {
    uint64_t{1} << 32,          // the corpus session's modulus
    2,                          // 1-bit packing
    3,
    251,
    uint64_t{1} << 8,           // whole-byte packing
    65537,
    uint64_t{1} << 16,
    1000003,                    // 20 bits
    (uint64_t{1} << 24) - 3,
    (uint64_t{1} << 31) - 1,
    (uint64_t{1} << 32) + 15,   // 33 bits
    (uint64_t{1} << 56) + 1,    // 57 bits: the streaming unpacker
    (uint64_t{1} << 61) - 1,
    (uint64_t{1} << 62) - 57,
    uint64_t{1} << 62,          // the largest modulus
    10,
};
constexpr uint64_t kLengths[] = {0, 16, 1, 8, 1000, 3, 64, 7};

// The deterministic corpus session (make-corpus.sh, SECAGG_INSECURE_DETERMINISTIC_SEED) has
// its own id; any fixed id does here, since vectors with a zero session match every session.
const SessionId kSession = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

void run(std::span<const uint8_t> bytes, Modulus m, uint64_t length, const SessionId* sid) {
  std::vector<uint64_t> v;
  try {
    v = read_vector(bytes, m, length, sid, "fuzz.vec");
  } catch (const Error& e) {
    fuzz::note(e);
    return;
  }
  if (length != 0 && v.size() != length) throw std::logic_error("read_vector returned the wrong length");
  for (uint64_t x : v)
    if (x >= m.R) throw std::logic_error("read_vector returned an element outside [0, R)");
  // Round trips: what was read writes back and reads again to the same vector.
  Bytes msg = vector_message(v, m, kSession);
  if (read_vector(msg, m, length, &kSession, "roundtrip.vec") != v)
    throw std::logic_error("vector_message / read_vector round trip differs");
  std::string text = vector_text(v);
  if (read_vector(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()), m, length, nullptr,
                  "roundtrip.txt") != v)
    throw std::logic_error("vector_text / read_vector round trip differs");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Selector sel{data, size};
  Modulus m{kModuli[sel.take() % std::size(kModuli)]};
  uint64_t length = kLengths[sel.take() % std::size(kLengths)];
  const SessionId* sid = (sel.take() & 1) ? &kSession : nullptr;
  auto file = sel.rest();
  run(file, m, length, sid);
  if (looks_like_envelope(file) && file.size() >= fuzz::kMinEnvelope) {
    Bytes b(file.begin(), file.end());
    fuzz::reseal(b);
    run(b, m, length, sid);
  }
  return 0;
}

// Fuzz target: open_envelope, then decode_body of the type the envelope announces (and,
// since a forged type byte makes any body arrive as any type, of every other body type),
// to_json (secrets hidden and shown) and summary.
//
// Input: one envelope file as secagg-inspect reads it. Run as given, and once more resealed
// (fuzz_common.hpp) so body mutations get past the checksum.
//
// Besides "returns or throws secagg::Error", to_json's output must parse as one JSON object
// (checked with RapidJSON, strictly: no NaN or Infinity): secagg-inspect --json promises a JSON
// document to scripts.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "envelope.hpp"
#include "error.hpp"
#include "fuzz_common.hpp"
#include "messages.hpp"

using namespace secagg;

namespace {

const std::string kOrigin = "fuzz.msg";

template <class T>
void decode_as(const Envelope& env) {
  try {
    (void)decode_body<T>(env, kOrigin);
  } catch (const Error& e) {
    fuzz::note(e);
  }
}

void check_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError() || !d.IsObject())
    throw std::logic_error("to_json produced invalid JSON: rapidjson error " + std::to_string(d.GetParseError()) +
                           " at offset " + std::to_string(d.GetErrorOffset()) + ": " + text.substr(0, 400));
}

void run(std::span<const uint8_t> bytes) {
  Envelope env;
  try {
    env = open_envelope(bytes, kOrigin);
  } catch (const Error& e) {
    fuzz::note(e);
    return;
  }
  // Every body type, whatever the header says.
  decode_as<Params>(env);
  decode_as<AdvertiseKeys>(env);
  decode_as<Roster>(env);
  decode_as<SealedShares>(env);
  decode_as<RingVector>(env);
  decode_as<IdList>(env);
  decode_as<UnmaskShares>(env);
  decode_as<ClientState>(env);
  try {
    check_json(to_json(env, false, kOrigin));
  } catch (const Error& e) {
    fuzz::note(e);
  }
  try {
    check_json(to_json(env, true, kOrigin));
  } catch (const Error& e) {
    fuzz::note(e);
  }
  try {
    std::string s = summary(env, kOrigin);
    if (s.find('\n') != std::string::npos) throw std::logic_error("summary spans more than one line: " + s);
  } catch (const Error& e) {
    fuzz::note(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  run({data, size});
  if (looks_like_envelope({data, size}) && size >= fuzz::kMinEnvelope) {
    Bytes b = fuzz::copy(data, size);
    fuzz::reseal(b);
    run(b);
  }
  return 0;
}

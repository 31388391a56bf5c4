// Fuzz target: read_floats in every input format (.npy or decimal text by detection, raw
// float32, raw float64), and npy::parse_header directly.
//
// Input layout:
//   byte 0   format: 0 detect (.npy or text), 1 raw float32, 2 raw float64 (byte % 3)
//   rest     the file
// What reads must survive write_floats / read_floats round trips: .npy and raw float64
// keep every bit; text keeps every value (NaNs as NaN).
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.hpp"
#include "floats.hpp"
#include "fuzz_common.hpp"
#include "npy.hpp"

using namespace secagg;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(b[i])) return false;
  return true;
}

bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

void roundtrip(const std::vector<double>& v) {
  Bytes npy = write_floats(v, FloatOutput::npy, npy::Dtype::f64);
  if (!same_bits(read_floats(npy, FloatInput::detect, "roundtrip.npy"), v))
    throw std::logic_error("float64 .npy round trip differs");
  Bytes raw = write_floats(v, FloatOutput::raw, npy::Dtype::f64);
  if (!same_bits(read_floats(raw, FloatInput::raw_f64, "roundtrip.f64"), v))
    throw std::logic_error("raw float64 round trip differs");
  Bytes text = write_floats(v, FloatOutput::text, npy::Dtype::f64);
  if (!same_values(read_floats(text, FloatInput::detect, "roundtrip.txt"), v))
    throw std::logic_error("float64 text round trip differs");
  // float32: refused (Error) when a finite value does not fit, otherwise reads back as the
  // float32 rounding of each value, in all three forms.
  try {
    std::vector<double> r32(v.size());
    for (size_t i = 0; i < v.size(); ++i) r32[i] = static_cast<double>(static_cast<float>(v[i]));
    Bytes n32 = write_floats(v, FloatOutput::npy, npy::Dtype::f32);
    if (!same_values(read_floats(n32, FloatInput::detect, "roundtrip32.npy"), r32))
      throw std::logic_error("float32 .npy round trip differs");
    Bytes raw32 = write_floats(v, FloatOutput::raw, npy::Dtype::f32);
    if (!same_values(read_floats(raw32, FloatInput::raw_f32, "roundtrip.f32"), r32))
      throw std::logic_error("raw float32 round trip differs");
    // Text holds the shortest decimal that reads back as the same float32: compare as float32.
    Bytes t32 = write_floats(v, FloatOutput::text, npy::Dtype::f32);
    std::vector<double> back = read_floats(t32, FloatInput::detect, "roundtrip32.txt");
    for (auto& x : back) x = static_cast<double>(static_cast<float>(x));
    if (!same_values(back, r32)) throw std::logic_error("float32 text round trip differs");
  } catch (const Error& e) {
    fuzz::note(e);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Selector sel{data, size};
  static constexpr FloatInput kFormats[] = {FloatInput::detect, FloatInput::raw_f32, FloatInput::raw_f64};
  FloatInput format = kFormats[sel.take() % 3];
  auto file = sel.rest();
  try {
    (void)npy::parse_header(file, "fuzz.npy");
  } catch (const Error& e) {
    fuzz::note(e);
  }
  std::vector<double> v;
  try {
    v = read_floats(file, format, "fuzz.in");
  } catch (const Error& e) {
    fuzz::note(e);
    return 0;
  }
  roundtrip(v);
  return 0;
}

// Float vectors as users give them to secagg-quantize and get them back: a .npy file
// (lib/wire/npy.hpp), raw little-endian float32 or float64, or decimal text.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "npy.hpp"

namespace secagg {

// detect: a .npy file if the bytes start with its magic, otherwise decimal text.
enum class FloatInput { detect, raw_f32, raw_f64 };

// Read a float vector (a .npy array is flattened in C order). Text is decimal numbers
// (as strtod reads them in the C locale, plus an optional leading '+'; "nan" and "inf"
// included) separated by ASCII whitespace. Non-finite values are returned as they are.
// Throws Error(Exit::data) naming origin: a secagg message, a malformed .npy file, raw
// bytes that are not a whole number of values (or a .npy file given as raw), a token
// that is not a number or is out of the range of a double.
std::vector<double> read_floats(std::span<const uint8_t> bytes, FloatInput format, const std::string& origin);

enum class FloatOutput { npy, raw, text };

// npy: a version 1.0 .npy file of shape (n,); raw: little-endian values; text: one value
// per line in the shortest form that reads back exactly (as a float32 for f32). A value
// that float32 cannot hold is refused (Error(Exit::data)).
Bytes write_floats(std::span<const double> v, FloatOutput how, npy::Dtype dtype);

}  // namespace secagg

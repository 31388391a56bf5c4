// NumPy .npy files holding floats: a strict reader for format versions 1.0, 2.0 and 3.0
// (float32 and float64, either byte order, any shape, flattened in C order) and a writer
// of one-dimensional version 1.0 files.
//
//   offset  size  field
//   0       6     magic "\x93NUMPY"
//   6       1     major version (1, 2 or 3)
//   7       1     minor version (0)
//   8       2|4   header length H: le16 in version 1, le32 in versions 2 and 3
//   10|12   H     header: a Python dict literal, padded with spaces, ending in '\n':
//                 {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//   ...           the data: product(shape) items of the dtype, nothing after them
//
// The header is parsed by a small bounded parser, never evaluated: exactly the keys
// descr (a string), fortran_order (True or False) and shape (a tuple of non-negative
// integers, at most kMaxDims of them), each once, in any order.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"

namespace secagg::npy {

inline constexpr size_t kMaxHeaderBytes = 65536;     // a longer header is refused
inline constexpr size_t kMaxDims = 64;               // NumPy 2 allows 64 dimensions
inline constexpr uint64_t kMaxElements = uint64_t{1} << 30;

enum class Dtype { f32, f64 };
inline size_t item_size(Dtype d) { return d == Dtype::f32 ? 4 : 8; }

struct Header {
  unsigned major = 1, minor = 0;
  Dtype dtype = Dtype::f64;
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<uint64_t> shape;  // () is a scalar: one element
  uint64_t count = 1;           // product of shape
  size_t data_offset = 0;       // where the data starts
};

// True if the bytes start with the .npy magic.
bool looks_like_npy(std::span<const uint8_t> bytes);

// Parse and check the preamble and header, and that exactly count items of data follow.
// Refuses (Error(Exit::data), naming origin) a bad magic or version, a header that is
// malformed, too long or truncated, a dtype other than '<f4', '<f8', '>f4', '>f8', a
// Fortran-order array with more than one dimension above 1, more than kMaxElements
// elements, and data that is shorter or longer than the shape says.
Header parse_header(std::span<const uint8_t> bytes, const std::string& origin);

// The array's elements as doubles, in C order (float32 values convert exactly).
std::vector<double> read_floats(std::span<const uint8_t> bytes, const std::string& origin);

// A version 1.0 file of shape (v.size(),), little-endian float32 ('<f4', each value
// rounded to nearest) or float64 ('<f8'); the header is padded so the data starts at a
// multiple of 64 bytes.
Bytes write_floats(std::span<const double> v, Dtype dtype);

// The same, of the given shape (C order; its product must be v.size(), () is a scalar).
Bytes write_floats(std::span<const double> v, Dtype dtype, const std::vector<uint64_t>& shape);

// A version 1.0 float32 file of shape (v.size(),), the values as they are: for arrays kept in
// float32 (an SSGA residual, lib/protocol/residual.hpp) without a float64 copy.
Bytes write_floats(std::span<const float> v);

}  // namespace secagg::npy

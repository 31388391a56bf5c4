// NumPy .npz files: a zip archive of .npy files, one per named array, as numpy.savez
// (members stored) and numpy.savez_compressed (members deflated) write them.
//
// Reading uses the zip's central directory (PKWARE APPNOTE 6.3, sections 4.3.7 to 4.3.16):
// every member must be stored (method 0) or deflated (method 8), unencrypted, named
// NAME.npy, once; its CRC-32 is checked. ZIP64 sizes in a member's extra field are read;
// an archive whose directory itself needs ZIP64 (more than 65535 members or 4 GiB) is
// refused. Each member is then a .npy file read by lib/wire/npy.hpp.
//
// The layout of the flat vector: the arrays sorted by name (bytewise, as std::string
// compares), each flattened in C order. Sorting, rather than the archive's order, makes the
// layout depend only on the names and shapes, so that parties who saved the same arrays in
// a different order still agree on it.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"
#include "npy.hpp"

namespace secagg::npz {

struct Array {
  std::string name;              // the member's name without ".npy"
  std::vector<uint64_t> shape;   // () is a scalar
  std::vector<double> values;    // C order; empty when read with shapes_only
};

// True if the bytes start like a zip archive (a local file header, or the end record of an
// empty archive).
bool looks_like_npz(std::span<const uint8_t> bytes);

// The arrays in archive order. Throws Error(Exit::data) naming origin (and the member) for
// anything that is not such an archive of float32/float64 arrays, or whose members together
// would hold more than max_elements values (checked before anything is inflated, from the
// sizes the directory declares, so a small file cannot make it allocate more).
std::vector<Array> read(std::span<const uint8_t> bytes, const std::string& origin, uint64_t max_elements,
                        bool shapes_only = false);

// The arrays sorted by name: the layout of the flat vector.
std::vector<Array> in_layout_order(std::vector<Array> arrays);

// The arrays flattened into one vector in layout order.
std::vector<double> flatten(const std::vector<Array>& arrays);

// Product of the shape's dimensions (1 for a scalar).
uint64_t count(const std::vector<uint64_t>& shape);

// "(3, 4)", "(5,)", "()".
std::string shape_text(const std::vector<uint64_t>& shape);

// An archive numpy.load reads: one stored member NAME.npy per array, in the given order,
// written with lib/wire/npy.hpp in the given dtype. values holds the arrays' values in layout
// order (sorted by name), exactly as many as the shapes need. Throws Error(Exit::data) if
// the archive would exceed 4 GiB (it is written without ZIP64).
Bytes write(const std::vector<Array>& shapes, std::span<const double> values, npy::Dtype dtype);

// A shape spec from the command line: entries separated by commas, each [NAME=]DIMS with
// DIMS a product like 3x4 or 5 (a dimension may be 0 or 1). Without names the arrays are
// arr_0, arr_1, ... as numpy.savez names positional arguments. All entries named or none.
// Throws Error(Exit::usage) for a malformed spec or a repeated name.
std::vector<Array> parse_shape_spec(const std::string& spec, bool* named);

}  // namespace secagg::npz

// Bit-packed vectors: n elements of `bits` bits each (1..64), little-endian
// bit order (element 0 in the lowest bits of byte 0), padded with zero bits to
// a whole byte. ceil(n * bits / 8) bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bytes.hpp"

namespace secagg {

size_t packed_size(size_t n, unsigned bits);
Bytes pack(std::span<const uint64_t> v, unsigned bits);  // throws Error(Exit::software) if an element needs more bits
// The same into dst, which holds packed_size(v.size(), bits) bytes (a message being built).
void pack_into(std::span<const uint64_t> v, unsigned bits, uint8_t* dst);
// Throws Error(Exit::data) if data.size() != packed_size(n, bits) or the padding bits are not zero.
std::vector<uint64_t> unpack(std::span<const uint8_t> data, size_t n, unsigned bits);

}  // namespace secagg

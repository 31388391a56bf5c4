// Bit-packed vectors: n elements of `bits` bits each (1..64), little-endian
// bit order (element 0 in the lowest bits of byte 0), padded with zero bits to
// a whole byte. ceil(n * bits / 8) bytes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bytes.hpp"
#include "modulus.hpp"

namespace secagg {

size_t packed_size(size_t n, unsigned bits);
Bytes pack(std::span<const uint64_t> v, unsigned bits);  // throws Error(Exit::software) if an element needs more bits
// The same into dst, which holds packed_size(v.size(), bits) bytes (a message being built).
void pack_into(std::span<const uint64_t> v, unsigned bits, uint8_t* dst);
// Throws Error(Exit::data) if data.size() != packed_size(n, bits) or the padding bits are not zero.
std::vector<uint64_t> unpack(std::span<const uint8_t> data, size_t n, unsigned bits);
// unpack's checks alone, with its errors: the size, and zero padding bits.
void check_packed(std::span<const uint8_t> data, size_t n, unsigned bits);

// Packed vectors of sum.size() elements of m.bits() bits, each in [0, R) (first_outside), added
// into sum mod R on `threads` threads without unpacking any of them whole: tile by tile of the
// sum, every vector's elements of that tile. Throws check_packed's errors before adding anything.
void unpack_add(std::span<uint64_t> sum, std::span<const std::span<const uint8_t>> vectors, Modulus m,
                unsigned threads);
// The index of the first element of a packed vector (n elements of m.bits() bits) that is not in
// [0, R), or n if there is none (always n when R is a power of two). check_packed's errors first.
size_t first_outside(std::span<const uint8_t> data, size_t n, Modulus m);

}  // namespace secagg

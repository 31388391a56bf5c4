// GCC's 128-bit unsigned integer, for exact products of two 64-bit values (ring sampling,
// Shamir's field, the modulus bound). __extension__ keeps -Wpedantic quiet about the type.
#pragma once

namespace secagg {

__extension__ typedef unsigned __int128 u128;

}  // namespace secagg

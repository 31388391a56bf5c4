// The client and server sides of a distributed-DP session's values (docs/privacy.md, "The
// pipeline"), after the distributed discrete Gaussian of Kairouz, Liu and Steinke (ICML 2021):
// encode rotates, clips, scales, rounds and noises a client's update into the ring; decode
// undoes what can be undone on the sum.
#pragma once
#include <cstdint>
#include <vector>

#include "messages.hpp"
#include "random_bits.hpp"

namespace secagg::dp {

// In place: the Walsh-Hadamard transform of x (length a power of two), unnormalised (H H = d I).
void hadamard(std::vector<double>& x);

// The rotation's random signs, +1 or -1 for each of d coordinates: the same for every party of
// the session, from a key derived from its id.
std::vector<int8_t> rotation_signs(const SessionId& session, uint64_t d);

struct EncodeReport {
  double norm = 0;             // the update's L2 norm before clipping
  bool clipped = false;        // the norm was above the clip
  unsigned rounding_tries = 0;  // conditional rounding's draws until one met its bound
  uint64_t wrapped = 0;        // coordinates whose noised integer lies outside [-R/2, R/2)
};

// A client's update of p.dp_input_length finite floats (weight 1) as a ring vector of p.length
// elements: element 0 is 1, then the d coordinates of round(s * clip_c(H D pad(x) / sqrt(d)))
// plus discrete Gaussian noise of stddev s * z * c / sqrt(contributors), mod 2^bits.
std::vector<uint64_t> ddg_encode(const Params& p, const SessionId& session, std::vector<double> x, RandomBits& rng,
                                 EncodeReport* report);

struct Decoded {
  std::vector<double> average;  // p.dp_input_length values: the noisy sum over the contributors
  uint64_t contributors = 0;    // element 0 of the sum
  uint64_t near_edge = 0;       // coordinates within R/16 of the ring's edges (+-R/2): may have wrapped
};

// The average of the contributors' updates from the sum: centred, divided by s, rotated back,
// the padding dropped, divided by the contributors. Error(Exit::data) if element 0 is 0 or
// above p.clients.
Decoded ddg_decode(const Params& p, const SessionId& session, const std::vector<uint64_t>& sum,
                   const std::string& origin);

}  // namespace secagg::dp

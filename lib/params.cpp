#include "params.hpp"

#include <fmt/format.h>

#include "error.hpp"

namespace secagg {

uint32_t min_secure_threshold(uint32_t n) { return n / 2 + 1; }

void validate_params(const Params& p) {
  auto bad = [](const std::string& m) { return Error(Exit::usage, m); };
  if (p.clients < 2 || p.clients > kMaxClients)
    throw bad(fmt::format("clients is {}; it must be in [2, {}]", p.clients, kMaxClients));
  if (p.threshold < 1 || p.threshold > p.clients)
    throw bad(fmt::format("threshold is {}; it must be in [1, clients = {}]", p.threshold, p.clients));
  if (!p.insecure_threshold && p.threshold < min_secure_threshold(p.clients))
    throw bad(fmt::format("threshold {} is not above n/2 = {}{}: the server could unmask individual inputs "
                          "(use t >= {}, or --insecure-low-threshold to accept that)",
                          p.threshold, p.clients / 2, p.clients % 2 ? ".5" : "", min_secure_threshold(p.clients)));
  if (p.modulus < 2 || p.modulus > kMaxModulus)
    throw bad(fmt::format("modulus is {}; it must be in [2, 2^62]", p.modulus));
  if (p.length < 1 || p.length > kMaxLength)
    throw bad(fmt::format("length is {}; it must be in [1, 2^30]", p.length));
  if (p.prg != static_cast<uint8_t>(PrgKind::aes128ctr) && p.prg != static_cast<uint8_t>(PrgKind::chacha20))
    throw bad(fmt::format("unknown PRG {}", p.prg));
  if (p.neighbours != p.clients - 1)
    throw bad(fmt::format("neighbours is {}; this version supports full SecAgg only (neighbours = clients - 1 = {})",
                          p.neighbours, p.clients - 1));
}

}  // namespace secagg

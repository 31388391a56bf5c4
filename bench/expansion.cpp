// make bench: the communication expansion of the protocol paper's formula case, from the real
// encoders.
//
// Bonawitz et al. (the protocol paper, after its Table 1) state that with 256-bit keys and
// encrypted shares, inputs in [0, R_U - 1] and R = n (R_U - 1) + 1, each user transfers
//     (256 (7n - 4) + k ceil(log2 R) + n) / (k ceil(log2 R_U))
// times the bits of its raw vector (k: the vector length), 1.73x for 16-bit inputs, n = 2^10 and
// k = 2^20. A full session of that size is out of reach here (every client would expand 2^10
// masks of 2^20 elements), but the sizes of one client's messages depend only on n, the length
// and R, so this program makes client 1's messages with the library's own encoders and counts
// their bytes:
//   sent      advertise-keys (real), share-keys (real: client_share over the whole roster),
//             masked-input (a packed vector of the session's length and modulus), unmask-shares
//             (one self-mask share per client of U3 = everyone: no dropouts)
//   received  the roster (real), its inbox (n sealed shares, each the size of a real one),
//             the survivor list U3
// The raw vector is length x input bits. Prints each message's size, the totals and the ratio,
// next to the paper's formula for the same n, length and R_U.
//
// Usage: expansion [--clients N] [--length L] [--input-bits B] [--threads T]
// The default is the paper's case: N = 1024, L = 2^20, B = 16.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "client.hpp"
#include "envelope.hpp"
#include "messages.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server_session.hpp"
#include "session_dir.hpp"

using namespace secagg;

namespace {

struct Options {
  uint32_t clients = 1024;
  uint64_t length = uint64_t{1} << 20;
  unsigned input_bits = 16;
  unsigned threads = 0;
};

int run(const Options& o) {
  const uint64_t ru = uint64_t{1} << o.input_bits;
  Params p;
  p.clients = o.clients;
  p.threshold = min_secure_threshold(o.clients);
  p.neighbours = o.clients - 1;
  p.modulus = uint64_t{o.clients} * (ru - 1) + 1;  // the paper's footnote 8: no overflow
  p.length = o.length;
  validate_params(p);
  const Modulus ring = p.ring();
  const unsigned threads = o.threads ? o.threads : default_threads();
  const SessionId sid = new_session_id();

  // Round 0: every client's keys (for the roster), client 1's advertisement.
  std::vector<ClientState> st(p.clients);
  parallel_for(p.clients, threads, [&](size_t i) { st[i] = client_keygen(p, sid, static_cast<uint32_t>(i + 1)); });
  const Bytes advert = client_advertise(st[0]);
  Roster roster;
  for (const auto& c : st) roster.clients.push_back({c.id, c.c_pk, c.s_pk, c.sig_pk, std::nullopt});
  const Bytes roster_msg = encode(MsgType::roster, sid, kServerId, kServerId, roster);

  // Round 1: client 1's shares for everyone, for real; its inbox holds one share from each
  // client, forwarded by the server with the sender in place of the recipient (collect_shares),
  // so each entry has the size of one of client 1's own.
  const Envelope roster_env = open_envelope(roster_msg, SessionDir::name(Marker::roster));
  const Bytes shares_msg = client_share(st[0], roster_env, SessionDir::name(Marker::roster), threads);
  SealedShares inbox = decode_body<SealedShares>(open_envelope(shares_msg, "shares.msg"), "shares.msg");
  for (size_t i = 0; i < inbox.shares.size(); ++i) inbox.shares[i].peer = static_cast<uint32_t>(i + 1);
  const Bytes inbox_msg = encode(MsgType::inbox, sid, kServerId, 1, inbox);

  // Round 2: a masked input is a packed vector of `length` elements of bits(R) bits; its size
  // does not depend on the values.
  std::vector<uint64_t> y(p.length);
  for (auto& v : y) v = random_u64() % ring.R;
  Secret32 signing_seed;  // any key: a signature is 64 bytes whoever signs
  signing_seed.b.fill(1);
  const Bytes masked_msg = encode_ring_vector(MsgType::masked_input, sid, 1, kServerId, ring, y, &signing_seed);
  std::vector<uint64_t>().swap(y);
  IdList u3;
  for (uint32_t id = 1; id <= p.clients; ++id) u3.ids.push_back(id);
  const Bytes survivors_msg = encode(MsgType::survivors, sid, kServerId, kServerId, u3);

  // Round 4: no dropouts, so one self-mask share per client of U3 and no mask-key shares.
  UnmaskShares answer;
  for (uint32_t id = 1; id <= p.clients; ++id) {
    OwnedShare s;
    s.owner = id;
    s.share.x = 1;
    for (auto& e : s.share.y) e = random_u64() % shamir::kPrime;
    answer.self_mask.push_back(s);
  }
  const Bytes unmask_msg = encode_signed(MsgType::unmask_shares, sid, 1, kServerId, answer, signing_seed);

  const double raw = static_cast<double>(p.length) * o.input_bits / 8;
  struct Line {
    const char* what;
    size_t bytes;
    bool sent;
  };
  const std::vector<Line> lines = {
      {"round 0 sent: advertise-keys", advert.size(), true},
      {"round 0 received: roster", roster_msg.size(), false},
      {"round 1 sent: share-keys", shares_msg.size(), true},
      {"round 1 received: inbox", inbox_msg.size(), false},
      {"round 2 sent: masked-input", masked_msg.size(), true},
      {"round 2 received: survivors", survivors_msg.size(), false},
      {"round 4 sent: unmask-shares", unmask_msg.size(), true},
  };
  uint64_t sent = 0, received = 0;
  for (const auto& l : lines) (l.sent ? sent : received) += l.bytes;
  const double n = p.clients, k = static_cast<double>(p.length);
  const double logR = std::ceil(std::log2(static_cast<double>(ring.R)));
  const double formula = (256 * (7 * n - 4) + k * logR + n) / (k * o.input_bits);

  fmt::print("communication expansion: full SecAgg, n = {}, length {}, {}-bit inputs (R_U = 2^{}), R = n(R_U - 1) + 1 "
             "= {} ({} bits per element), no dropouts\n",
             p.clients, p.length, o.input_bits, o.input_bits, ring.R, ring.bits());
  for (const auto& l : lines) fmt::print("  {:<34} {:>14} bytes\n", l.what, l.bytes);
  fmt::print("  {:<34} {:>14} bytes\n", "sent", sent);
  fmt::print("  {:<34} {:>14} bytes\n", "received", received);
  fmt::print("  {:<34} {:>14.0f} bytes ({} x {} bits)\n", "raw vector", raw, p.length, o.input_bits);
  fmt::print("  expansion, sent + received: {:.4f}x (sent only: {:.4f}x); the paper's formula: {:.4f}x\n",
             (sent + received) / raw, sent / raw, formula);
  fmt::print("expansion n={} length={} input_bits={} R={} bits={} sent={} received={} raw={:.0f} measured={:.6f} "
             "sent_only={:.6f} formula={:.6f}\n",
             p.clients, p.length, o.input_bits, ring.R, ring.bits(), sent, received, raw, (sent + received) / raw,
             sent / raw, formula);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bench::Args args("expansion", argc, argv);
  for (std::string a; args.next(a);) {
    auto next = [&] { return args.value(); };
    if (a == "--clients") o.clients = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--length") o.length = std::stoull(next());
    else if (a == "--input-bits") o.input_bits = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else {
      std::fprintf(stderr, "usage: expansion [--clients N] [--length L] [--input-bits B] [--threads T]\n");
      return 64;
    }
  }
  if (o.input_bits < 1 || o.input_bits > 40 || o.clients < 2) {
    std::fprintf(stderr, "expansion: --input-bits must be in [1, 40] and --clients at least 2\n");
    return 64;
  }
  return bench::guarded_main("expansion", [&] { return run(o); });
}

// make bench: how close client masking comes to the PRG's raw speed.
//
// Builds a session in which client 1 has `neighbours` peers and a vector of `length`
// elements mod 2^bits, writes client 1's state and inbox to a scratch directory, then
// times, in the same run:
//   keystream  the session PRG alone producing the bytes masking must expand
//              ((1 + neighbours) * length * word bytes)
//   library    client_mask() in-process (decrypt inbox, X25519 agreements, fused expand+add, pack)
//   tool       the real secagg-mask executable on those files (process start, I/O included)
// and prints each as a ratio to the keystream time. Reports medians of `reps` runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <sys/wait.h>

#include "client.hpp"
#include "fileio.hpp"
#include "mask.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "prg.hpp"
#include "protocol.hpp"
#include "random.hpp"
#include "server.hpp"
#include "vectors.hpp"

using namespace secagg;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class F>
double median_time(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Options {
  uint32_t neighbours = 100;
  uint64_t length = 100000;
  unsigned bits = 32;
  PrgKind prg = PrgKind::aes128ctr;
  int reps = 15;
  unsigned threads = 1;
  std::string tool_dir = ".";
};

int run(const Options& o) {
  Params p;
  p.clients = o.neighbours + 1;
  p.threshold = min_secure_threshold(p.clients);
  p.neighbours = p.clients - 1;
  p.modulus = Modulus::from_bits(o.bits).R;
  p.length = o.length;
  p.prg = static_cast<uint8_t>(o.prg);
  validate_params(p);
  SessionId sid = new_session_id();

  // Rounds 0 and 1 for every client, so client 1 gets a real inbox.
  std::vector<ClientState> clients;
  std::vector<Incoming> adverts, shares;
  for (uint32_t id = 1; id <= p.clients; ++id) {
    clients.push_back(client_keygen(p, sid, id));
    adverts.push_back({"adv", open_envelope(client_advertise(clients.back()), "adv")});
  }
  Roster roster = collect_keys(p, sid, adverts);
  Envelope roster_env = open_envelope(encode(MsgType::roster, sid, kServerId, kServerId, roster), "roster");
  for (auto& c : clients) shares.push_back({"shares", open_envelope(client_share(c, roster_env, "roster"), "shares")});
  ShareRound r1 = collect_shares(p, sid, roster, shares);
  Bytes inbox = encode(MsgType::inbox, sid, kServerId, 1, r1.inboxes.at(1));
  Envelope inbox_env = open_envelope(inbox, "inbox");
  std::vector<uint64_t> x(p.length);
  for (auto& v : x) v = random_u64() & (p.modulus - 1);

  auto dir = std::filesystem::temp_directory_path() / fmt::format("secagg-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string state = (dir / "c1").string(), inbox_path = (dir / "inbox-1.msg").string(),
                    input = (dir / "x1.vec").string(), out = (dir / "masked1.msg").string();
  write_file_atomic(inbox_path, inbox);
  write_file_atomic(input, vector_message(x, p.ring(), sid));
  Bytes state_bytes = encode(MsgType::client_state, sid, 1, 1, clients[0]);

  // The limit: the session PRG producing exactly the bytes client 1 must expand.
  const size_t word = mask_word_bytes(p.ring());
  const uint64_t stream_bytes = uint64_t{p.clients} * p.length * word;
  std::vector<uint8_t> buf(64 * 1024);
  Secret32 seed;
  random_bytes(seed.data(), 32);
  double t_stream = median_time(o.reps, [&] {
    Keystream ks(o.prg, seed.data());
    for (uint32_t s = 0; s < p.clients; ++s)
      for (uint64_t off = 0; off < p.length * word; off += buf.size())
        ks.generate(off, buf.data(), std::min<uint64_t>(buf.size(), p.length * word - off));
  });

  double t_lib = median_time(o.reps, [&] {
    ClientState st = clients[0];
    client_mask(st, inbox_env, "inbox", x, o.threads);
  });

  std::string cmd = fmt::format("{}/secagg-mask --state {} --inbox {} --input {} -o {} --threads {}", o.tool_dir, state,
                                inbox_path, input, out, o.threads);
  double t_tool = median_time(o.reps, [&] {
    write_file_atomic(state, state_bytes, 0600);  // each run starts from round 1 again
    int rc = std::system(cmd.c_str());
    if (rc != 0) throw Error(Exit::software, "secagg-mask failed in the benchmark: " + cmd);
  });
  std::filesystem::remove_all(dir);

  fmt::print("mask benchmark: 1 client, {} neighbours, length {}, R = 2^{}, prg {}, {} thread(s), median of {}\n",
             o.neighbours, o.length, o.bits, prg_name(o.prg), o.threads, o.reps);
  fmt::print("  {:<44} {:>9.2f} ms  {:>6.2f} GB/s\n", fmt::format("keystream alone ({:.1f} MB)", stream_bytes / 1e6),
             t_stream * 1e3, stream_bytes / t_stream / 1e9);
  fmt::print("  {:<44} {:>9.2f} ms  ratio {:.2f}\n", "client_mask (library, in-process)", t_lib * 1e3, t_lib / t_stream);
  fmt::print("  {:<44} {:>9.2f} ms  ratio {:.2f}\n", "secagg-mask (executable, with I/O)", t_tool * 1e3,
             t_tool / t_stream);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mask_bench: %s needs a value\n", a.c_str());
        std::exit(64);
      }
      return argv[++i];
    };
    if (a == "--neighbours") o.neighbours = static_cast<uint32_t>(std::stoul(next()));
    else if (a == "--length") o.length = std::stoull(next());
    else if (a == "--bits") o.bits = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--reps") o.reps = std::stoi(next());
    else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--tools") o.tool_dir = next();
    else if (a == "--prg") {
      auto k = prg_from_name(next());
      if (!k) {
        std::fprintf(stderr, "mask_bench: unknown --prg\n");
        return 64;
      }
      o.prg = *k;
    } else {
      std::fprintf(stderr,
                   "usage: mask_bench [--neighbours K] [--length L] [--bits B] [--prg aes128ctr|chacha20] [--reps N] "
                   "[--threads T] [--tools DIR]\n");
      return 64;
    }
  }
  try {
    crypto_init();
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mask_bench: %s\n", e.what());
    return 70;
  }
}

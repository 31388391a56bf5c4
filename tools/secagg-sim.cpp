// secagg-sim: a whole session (n clients and the server) in one process, with a dropout
// schedule, per-round costs, and a check against the plaintext sum. The session itself is
// lib/sim (run_simulation); this file parses arguments and prints.
#include <charconv>
#include <cstdio>

#include <fmt/format.h>

#include "common.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "params.hpp"
#include "progress_line.hpp"
#include "session_dir.hpp"
#include "protocol.hpp"
#include "sim.hpp"
#include "sparse_sim.hpp"

using namespace secagg;

namespace {

uint64_t parse_uint(std::string_view s, const std::string& what) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    throw Error(Exit::usage, fmt::format("{}: '{}' is not a non-negative integer", what, s));
  return v;
}

// --drop ROUND:IDS, IDS a comma-separated list of ids and ranges a-b.
SimDrop parse_drop(const std::string& spec) {
  const std::string what = fmt::format("--drop '{}'", spec);
  auto colon = spec.find(':');
  if (colon == std::string::npos) throw Error(Exit::usage, what + ": expected ROUND:ID,ID,...");
  SimDrop d;
  d.round = static_cast<int>(std::min<uint64_t>(parse_uint(std::string_view(spec).substr(0, colon), what), 1000));
  std::string_view rest = std::string_view(spec).substr(colon + 1);
  if (rest.empty()) throw Error(Exit::usage, what + ": no client ids after the colon");
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto dash = item.find('-');
    uint64_t lo = parse_uint(item.substr(0, dash), what);
    uint64_t hi = dash == std::string_view::npos ? lo : parse_uint(item.substr(dash + 1), what);
    if (hi < lo) throw Error(Exit::usage, fmt::format("{}: range {} is empty", what, item));
    if (hi > kMaxClients) throw Error(Exit::usage, fmt::format("{}: client id {} is above {}", what, hi, kMaxClients));
    for (uint64_t id = lo; id <= hi; ++id) d.ids.push_back(static_cast<uint32_t>(id));
  }
  return d;
}

std::string modulus_text(uint64_t R) {
  Modulus m{R};
  return m.pow2() ? fmt::format("2^{}", m.bits()) : fmt::format("{}", R);
}

const char* result_word(const SimReport& r, bool upper) {
  switch (r.outcome) {
    case SimOutcome::matched: return upper ? "OK" : "ok";
    case SimOutcome::mismatched: return upper ? "MISMATCH" : "mismatch";
    case SimOutcome::aborted: return upper ? "ABORTED" : "aborted";
  }
  return "?";
}

// The keystream lines under the table: each stage's time against the time the session PRG takes
// to make the keystream that stage expands, on one core.
std::string limits(const SimReport& r) {
  std::string out = "client state:";
  for (const auto& s : r.rounds) out += fmt::format(" {} B after round {}{}", s.state_median, s.round, &s == &r.rounds.back() ? "" : ",");
  out += " (median)\n";
  if (!(r.keystream_gbps > 0)) return out;
  out += fmt::format("limit: {} keystream at {:.2f} GB/s on one core ({}-byte mask words)\n",
                                prg_name(r.params.prg_kind()), r.keystream_gbps, r.mask_word_bytes);
  for (const auto& s : r.rounds) {
    if (s.round == 2 && s.client_keystream_median > 0)
      out += fmt::format("  round 2 client: {:.1f} MB of keystream, limit {:.3f} ms; CPU {:.3f} ms median = {:.2f}x\n",
                         s.client_keystream_median / 1e6, s.client_limit_ms, s.client_cpu_median_ms,
                         s.client_limit_ratio);
    if (s.round == 4 && s.server_keystream > 0) {
      out += fmt::format("  round 4 server: {:.1f} MB of keystream, limit {:.3f} ms; remove_masks {:.3f} ms wall = "
                         "{:.2f}x ({:.3f} ms CPU, {} X25519)\n",
                         s.server_keystream / 1e6, s.server_limit_ms, s.unmask_wall_ms, s.unmask_limit_ratio,
                         s.unmask_cpu_ms, s.unmask_agreements);
      const double server = r.total.server_wall_ms;
      out += fmt::format("  round 4 server: Shamir reconstruction {:.3f} ms wall ({:.3f} ms CPU) = {:.2f}% of the server's "
                         "{:.3f} ms wall\n",
                         s.recover_wall_ms, s.recover_cpu_ms, server > 0 ? 100 * s.recover_wall_ms / server : 0.0,
                         server);
    }
  }
  return out;
}

std::string table(const SimReport& r) {
  std::string out = fmt::format("{:>5} {:>7} {:>11} {:>11} {:>13} {:>14} {:>10} {:>10} {:>9}\n", "round", "clients",
                                "cpu med ms", "cpu max ms", "server cpu ms", "server wall ms", "sent B", "recv B",
                                "expansion");
  auto row = [&](const std::string& name, const SimRound& s) {
    out += fmt::format("{:>5} {:>7} {:>11.3f} {:>11.3f} {:>13.3f} {:>14.3f} {:>10} {:>10} {:>9.4f}\n", name, s.clients,
                       s.client_cpu_median_ms, s.client_cpu_max_ms, s.server_cpu_ms, s.server_wall_ms, s.sent_median,
                       s.received_median, s.expansion);
  };
  for (const auto& s : r.rounds) row(std::to_string(s.round), s);
  if (!r.rounds.empty()) row("total", r.total);
  out += limits(r);
  uint32_t refused = 0;
  for (const auto& s : r.rounds) refused += s.refused;
  if (refused)
    out += fmt::format("note: {} client(s) refused to go on; the first: {}\n", refused, r.first_refusal);
  return out;
}

std::string summary(const SimReport& r) {
  const Params& p = r.params;
  auto set = [](uint32_t v) { return v ? std::to_string(v) : std::string("-"); };
  std::string result = result_word(r, true);
  if (r.outcome == SimOutcome::aborted) result += fmt::format(" at round {}", r.abort_round);
  // An active session says so, with its C, and has one set more: U4 signed U3 in round 3, U5
  // answered round 4. An honest-but-curious line is what it always was.
  const std::string threat = p.active() ? fmt::format(" threat=active C={}", p.corrupt) : "";
  const std::string u5 = p.active() ? fmt::format(" U5={}", set(r.u5)) : "";
  return fmt::format("n={} t={} k={}{} length={} R={} prg={} threads={} seed={} U1={} U2={} U3={} U4={}{} "
                     "wall={:.3f}s result={}\n",
                     p.clients, p.threshold, p.neighbours, threat, p.length, modulus_text(p.modulus),
                     prg_name(p.prg_kind()), r.threads, r.seed, set(r.u1), set(r.u2), set(r.u3), set(r.u4), u5,
                     r.wall_ms / 1000, result);
}

uint64_t bytes_per_client(const SimReport& r) { return r.total.sent_median + r.total.received_median; }

// The sparse round's result: the selection against the truth, and each client's bytes against
// the dense session's (docs/sparse.md, "Cost").
std::string sparse_summary(const SparseSimConfig& c, const SparseSimReport& r) {
  std::string out = fmt::format("sparse: N={} K={} n={} union={} bits={} selected={} R_max={} (max |residual| {}) "
                                "max error {:.3g} (bound {:.3g})\n",
                                c.model_length, c.k, c.sim.params.clients, union_mode_name(c.mode), c.bits, r.selected,
                                r.r_max, r.true_max, r.max_error, r.error_bound);
  const uint64_t u = bytes_per_client(r.union_session), v = bytes_per_client(r.values_session);
  out += fmt::format("bytes per client (median, sent + received): union session {}, values session {}, sparse round "
                     "{}",
                     u, v, u + v);
  if (r.dense_session) {
    const uint64_t d = bytes_per_client(*r.dense_session);
    out += fmt::format("; dense session {} = {:.1f}x the sparse round", d,
                       static_cast<double>(d) / static_cast<double>(u + v));
  }
  return out + "\n";
}

constexpr const char* kCsvHeader =
    "n,t,k,length,modulus,prg,threads,seed,round,clients,refused,client_cpu_median_ms,client_cpu_max_ms,"
    "server_cpu_ms,server_wall_ms,round_wall_ms,sent_median_bytes,sent_max_bytes,received_median_bytes,"
    "received_max_bytes,raw_input_bytes,expansion,result,keystream_gbps,client_keystream_bytes,client_limit_ms,"
    "client_limit_ratio,server_keystream_bytes,server_limit_ms,recover_cpu_ms,recover_wall_ms,unmask_cpu_ms,"
    "unmask_wall_ms,unmask_agreements,unmask_limit_ratio";
// An active session's rows end with two more columns; an honest-but-curious CSV is what it
// always was.
constexpr const char* kCsvActiveColumns = ",threat_model,corrupt";

std::string csv(const SimReport& r) {
  const Params& p = r.params;
  const std::string active = p.active() ? fmt::format(",{},{}", threat_model_name(p.threat), p.corrupt) : "";
  std::string out = std::string(kCsvHeader) + (p.active() ? kCsvActiveColumns : "") + "\n";
  for (const auto& s : r.rounds)
    out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{},{},{},{},{},{:.6f},{},"
                       "{:.3f},{},{:.3f},{:.4f},{},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{},{:.4f}{}\n",
                       p.clients, p.threshold, p.neighbours, p.length, p.modulus, prg_name(p.prg_kind()), r.threads,
                       r.seed, s.round, s.clients, s.refused, s.client_cpu_median_ms, s.client_cpu_max_ms,
                       s.server_cpu_ms, s.server_wall_ms, s.wall_ms, s.sent_median, s.sent_max, s.received_median,
                       s.received_max, r.raw_input_bytes, s.expansion, result_word(r, false), r.keystream_gbps,
                       s.client_keystream_median, s.client_limit_ms, s.client_limit_ratio, s.server_keystream,
                       s.server_limit_ms, s.recover_cpu_ms, s.recover_wall_ms, s.unmask_cpu_ms, s.unmask_wall_ms,
                       s.unmask_agreements, s.unmask_limit_ratio, active);
  return out;
}

void print_report(const SimReport& rep, bool quiet, const std::string& csv_path) {
  if (csv_path != "-") tool::write_output("-", quiet ? summary(rep) : table(rep) + summary(rep));
  if (!csv_path.empty()) tool::write_output(csv_path, csv(rep));
}

// secagg-sim --session: the session set up in s, simulated, and the server's file of every round
// that closed written into s as its round subcommand would write it, so that the directory is a
// finished (or aborted) session for status and combine. No client message is kept: a simulated
// session cannot be audited.
void simulate_session(const SessionDir& s, SimConfig cfg, bool quiet) {
  auto [p, sid] = s.params();
  if (p.active())
    throw Error(Exit::usage, fmt::format("{}: an active session: the simulator certifies its clients with a CA of its "
                                         "own, not the session's (run its clients with the tools)",
                                         s.path(Marker::params)));
  if (p.sparse != SparseKind::none)
    throw Error(Exit::usage, fmt::format("{}: a sparse session: simulate a sparse round with --sparse instead",
                                         s.path(Marker::params)));
  s.require_absent(Marker::roster);
  cfg.params = p;
  cfg.session = sid;
  std::vector<std::pair<Round, Bytes>> markers;
  cfg.on_marker = [&markers](Round r, const Bytes& m) { markers.emplace_back(r, m); };
  SimReport rep;
  {
    tool::ProgressLine bar("secagg-sim", tool::progress_wanted(quiet));
    cfg.progress = [&bar](double f, std::string_view stage) { bar.update(f, stage); };
    rep = run_simulation(cfg);
  }
  print_report(rep, quiet, {});
  if (rep.outcome == SimOutcome::mismatched) throw Error(Exit::software, rep.message);
  for (const auto& [r, m] : markers) s.begin(SessionDir::marker_of(r)).finish(m);
  if (rep.outcome == SimOutcome::aborted) throw Error(Exit::aborted, rep.message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a whole secure-aggregation session in one process: n clients and the server, through the same "
               "library code the tools use and with every message passed as bytes, with a dropout schedule. Checks "
               "the aggregate against the plaintext sum of the inputs, and reports per round the clients' CPU time, "
               "the server's CPU and wall time, the bytes each client sent and received, and the communication "
               "expansion.",
               "secagg-sim"};
  SimConfig cfg;
  unsigned bits = 32;
  uint64_t modulus = 0;
  std::string prg = "aes128ctr";
  std::vector<std::string> drops;
  std::string csv_path;
  bool quiet = false;
  cfg.threads = default_threads();
  std::string session_dir;
  app.add_option("--session", session_dir,
                 "Simulate the clients and server of the session set up in DIR (secagg-collect setup, e.g. a shard: "
                 "docs/shards.md), with its parameters and id, instead of --clients, --length and the options that "
                 "shape a session; writes the server's files of each round that closed (roster.msg, u2.msg, "
                 "survivors.msg, aggregate.vec; no client messages) into DIR. Honest-but-curious sessions only")
      ->type_name("DIR");
  app.add_option("--clients", cfg.params.clients, "Number of clients n (ids 1..n); required without --session");
  app.add_option("--threshold", cfg.params.threshold,
                 "Shamir threshold t (default: floor(n/2) + 1, or floor((k+1)/2) + 1 with --neighbours k, or "
                 "floor((n + C)/2) + 1 with --threat-model active, or with both the smallest t above (k + 1 + c)/2 for the c "
                 "corrupted neighbours a client may have)");
  app.add_option("--length", cfg.params.length, "Elements per input vector; required without --session");
  auto* o_bits = app.add_option("--modulus-bits", bits, "Work modulo R = 2^bits, 1..62 (default 32)")
                     ->check(CLI::Range(1u, 62u));
  auto* o_mod = app.add_option("--modulus", modulus, "Work modulo R, any integer in [2, 2^62]");
  o_bits->excludes(o_mod);
  app.add_option("--prg", prg, "Mask PRG: aes128ctr (default) or chacha20");
  app.add_option("--neighbours", cfg.params.neighbours,
                 "Neighbours per client k (default n - 1: full SecAgg; fewer: SecAgg+)");
  auto* o_dropout =
      app.add_option("--dropout", cfg.dropout_fraction,
                     "Fraction of the n clients (0..1) that drop at --dropout-round, drawn with the seed");
  app.add_option("--dropout-round", cfg.dropout_round,
                 "Round whose message the --dropout clients never deliver: 0, 1, 2 (default), 3 (active "
                 "sessions) or 4")
      ->needs(o_dropout);
  app.add_option("--drop", drops,
                 "ROUND:ID,ID,... (ids or ranges a-b): these clients never deliver their message of ROUND "
                 "(0, 1, 2, 4; 3 in an active session) and take no further part; repeatable")
      ->allow_extra_args(false);
  std::string threat_model = "honest-but-curious";
  uint32_t corrupt = 0;
  app.add_option("--threat-model", threat_model,
                 "honest-but-curious (default) or active: certified identities in round 0 and a round 3 in which "
                 "the clients sign U3 (with --neighbours k, each its view of U3 within its neighbourhood). The simulator makes the CA and every client's certified "
                 "identity itself, untimed, before the session");
  auto* o_corrupt = app.add_option("--corrupt", corrupt,
                                   "Active: corrupted clients C the threshold must withstand, t > (n + C) / 2 "
                                   "(default floor((n - 1) / 3))");
  app.add_option("--seed", cfg.seed, "Seed of the inputs and of the --dropout choice (default 1)");
  app.add_option("--threads", cfg.threads, "Threads (default: all cores)")->check(CLI::Range(1u, 256u));
  app.add_option("--csv", csv_path,
                 "Also write one CSV row per round to this file ('-': stdout, instead of the table)");
  app.add_flag("--quiet", quiet, "Print only the summary line (no table, no progress bar)");
  SparseSimConfig sparse;
  std::string union_mode = "private";
  auto* o_sparse = app.add_option("--sparse", sparse.k,
                                  "Run one sparse round (SSGA, docs/sparse.md) of K entries over a model of --length "
                                  "entries: its union session, then its values session, each checked");
  app.add_option("--union", union_mode, "With --sparse: how the union is formed, private (default) or plain")
      ->needs(o_sparse);
  app.add_option("--bits", sparse.bits, "With --sparse: quantization bits of the values (default 16)")
      ->check(CLI::Range(1u, 32u))
      ->needs(o_sparse);
  app.add_option("--union-cells-factor", sparse.cells_factor,
                 "With --sparse --union private: cells of the union table per index of the union bound (default "
                 "1.5)")
      ->needs(o_sparse);
  app.add_flag("--compare-dense", sparse.dense,
               "With --sparse: also run the dense session that sends all --length entries, for its costs")
      ->needs(o_sparse);

  return tool::run(app, argc, argv, [&] {
    if (!session_dir.empty()) {
      for (const char* o : {"--clients", "--length", "--modulus-bits", "--modulus", "--prg", "--neighbours",
                            "--threshold", "--threat-model", "--corrupt", "--sparse"})
        if (app.count(o))
          throw Error(Exit::usage, fmt::format("{} cannot be given with --session: the session's parameters are in "
                                               "its params.msg",
                                               o));
      return simulate_session(SessionDir(session_dir), cfg, quiet);
    }
    if (!app.count("--clients") || !app.count("--length"))
      throw Error(Exit::usage, "--clients and --length are required (or --session DIR)");
    cfg.params.modulus = o_mod->count() ? Modulus::make(modulus).R : Modulus::from_bits(bits).R;
    auto kind = prg_from_name(prg);
    if (!kind) throw Error(Exit::usage, fmt::format("--prg '{}' is not one of aes128ctr, chacha20", prg));
    cfg.params.prg = static_cast<uint8_t>(*kind);
    if (threat_model == "active") {
      cfg.params.threat = ThreatModel::active;
      cfg.params.corrupt = o_corrupt->count() ? corrupt : default_corrupt(cfg.params.clients);
    } else if (threat_model != "honest-but-curious") {
      throw Error(Exit::usage,
                  fmt::format("--threat-model '{}' is neither honest-but-curious nor active", threat_model));
    } else if (o_corrupt->count()) {
      throw Error(Exit::usage, "--corrupt belongs to an active session: give --threat-model active");
    }
    for (const auto& d : drops) cfg.drops.push_back(parse_drop(d));
    if (o_sparse->count()) {
      if (!csv_path.empty()) throw Error(Exit::usage, "--csv is not available with --sparse (it prints each session)");
      if (union_mode != "private" && union_mode != "plain")
        throw Error(Exit::usage, fmt::format("--union '{}' is neither private nor plain", union_mode));
      sparse.mode = union_mode == "plain" ? UnionMode::plain : UnionMode::private_;
      sparse.model_length = cfg.params.length;
      sparse.sim = cfg;
      SparseSimReport r;
      {
        tool::ProgressLine bar("secagg-sim", tool::progress_wanted(quiet));
        sparse.sim.progress = [&bar](double f, std::string_view stage) { bar.update(f, stage); };
        r = run_sparse_simulation(sparse);
      }
      std::string out;
      auto session = [&](const char* name, const SimReport& s) {
        if (s.params.clients == 0) return;  // did not run
        out += fmt::format("{} session:\n", name);
        out += quiet ? summary(s) : table(s) + summary(s);
      };
      session("union", r.union_session);
      session("values", r.values_session);
      if (r.dense_session) session("dense", *r.dense_session);
      if (r.outcome == SimOutcome::matched) out += sparse_summary(sparse, r);
      tool::write_output("-", out);
      if (r.outcome == SimOutcome::aborted) throw Error(Exit::aborted, r.message);
      if (r.outcome == SimOutcome::mismatched) throw Error(Exit::software, r.message);
      return;
    }

    SimReport rep;
    {
      tool::ProgressLine bar("secagg-sim", tool::progress_wanted(quiet));
      cfg.progress = [&bar](double f, std::string_view stage) { bar.update(f, stage); };
      rep = run_simulation(cfg);
    }
    print_report(rep, quiet, csv_path);
    if (rep.outcome == SimOutcome::aborted) throw Error(Exit::aborted, rep.message);
    if (rep.outcome == SimOutcome::mismatched) throw Error(Exit::software, rep.message);
  });
}

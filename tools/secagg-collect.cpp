// secagg-collect: every server step of a session, one subcommand per round.
#include <algorithm>
#include <iterator>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "dp_params.hpp"
#include "durations.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "audit.hpp"
#include "graph_bounds.hpp"
#include "id_ranges.hpp"
#include "identity.hpp"
#include "net/fd_limit.hpp"
#include "net/serve.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "progress_line.hpp"
#include "protocol.hpp"
#include "quote.hpp"
#include "random.hpp"
#include "selection_file.hpp"
#include "server_session.hpp"
#include "shards.hpp"
#include "session_dir.hpp"
#include "sparse_union.hpp"
#include "status.hpp"
#include "thread_pool.hpp"
#include "tokens.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

// Each file within the session's bounds and of the round's type, refused from its header
// otherwise: a header announcing a huge body costs 40 bytes of reading, not memory.
// Read and opened (checksummed) on all threads: round 2's masked inputs are megabytes each. Of
// several bad files, the first in the given order is reported, as a serial loop would.
std::vector<Incoming> read_all(const std::vector<std::string>& files, const Params& p, MsgType type) {
  std::vector<Incoming> in(files.size());
  parallel_for_each_checked(files.size(), default_threads(),
                            [&](size_t i) { in[i] = {files[i], tool::read_message(files[i], &p, type)}; });
  return in;
}

struct GraphSpec {
  std::string neighbours;  // "", a number, or "auto"
  bool threshold_given = false;
  double corruption = -1, dropout = -1;  // < 0: not stated
};

// An active session's graph (docs/security.md, "Active mode with SecAgg+"): sized for the C
// corrupted clients of params, with t > (k + 1 + c) / 2 for the c corrupted neighbours a client
// may have; the dropout rate (default 5%) sizes auto and, when stated, is checked.
void size_active_graph(Params& p, const GraphSpec& g, bool stated, double dropout) {
  if (g.corruption >= 0)
    throw Error(Exit::usage, "an active session counts its corrupted clients: give --corrupt C, not --corruption-rate");
  if (g.neighbours == "auto") {
    if (auto choice = choose_active_graph(p.clients, p.corrupt, stated ? dropout : 0.05)) {
      p.neighbours = choice->neighbours;
      if (!g.threshold_given) p.threshold = choice->threshold;
      return;
    }
    p.neighbours = p.clients - 1;  // nothing sparser works: full SecAgg
  }
  if (!g.threshold_given) p.threshold = min_active_threshold(p.clients, p.neighbours, p.corrupt);
  if (!stated || p.neighbours >= p.clients - 1) return;
  GraphBounds b = graph_bounds(p.clients, p.neighbours, static_cast<double>(p.corrupt) / p.clients, dropout);
  const std::string rates = fmt::format("for {} clients with C = {} corrupted and {:g}% dropping out", p.clients,
                                        p.corrupt, dropout * 100);
  if (!b.connected)
    throw Error(Exit::usage, fmt::format("{} neighbours is too few {}: the honest survivors' graph falls apart with "
                                         "probability up to 2^{:.1f}; choose more neighbours (--neighbours auto finds "
                                         "the fewest)",
                                         p.neighbours, rates, b.log2_disconnect));
  if (p.threshold > b.t_max)
    throw Error(Exit::usage, fmt::format("threshold {} is too high with {} neighbours {}: a client keeps fewer than {} "
                                         "surviving neighbours with probability above 2^-20/n and the session would "
                                         "abort; choose more neighbours (--neighbours auto finds the fewest)",
                                         p.threshold, p.neighbours, rates, p.threshold));
}

// Fills p.neighbours (and p.threshold for auto) and checks the Bell et al. bounds when rates are stated.
void size_graph(Params& p, const GraphSpec& g) {
  // NaN compares false with everything and would pass every bound below (and reach an
  // undefined float-to-integer cast in the graph sizing): refused with the bounds.
  for (double r : {g.corruption, g.dropout})
    if (!std::isfinite(r) || (r < 0 && r != -1))
      throw Error(Exit::usage, "rates must be numbers in [0, 1)");
  const bool stated = g.corruption >= 0 || g.dropout >= 0;
  const double corruption = std::max(g.corruption, 0.0), dropout = std::max(g.dropout, 0.0);
  if (corruption >= 1 || dropout >= 1 || corruption + dropout > 0.9)
    throw Error(Exit::usage, "rates must be below 1 and --corruption-rate + --dropout-rate at most 0.9");
  if (g.neighbours == "auto") {
    p.neighbours = p.clients - 1;
  } else if (!g.neighbours.empty()) {
    auto [ptr, ec] = std::from_chars(g.neighbours.data(), g.neighbours.data() + g.neighbours.size(), p.neighbours);
    if (ec != std::errc() || ptr != g.neighbours.data() + g.neighbours.size())
      throw Error(Exit::usage, fmt::format("--neighbours '{}' is neither a number nor 'auto'", g.neighbours));
  } else {
    p.neighbours = p.clients - 1;
  }
  if (p.active()) return size_active_graph(p, g, stated, dropout);
  if (g.neighbours == "auto") {
    const double c = stated ? corruption : 0.05, d = stated ? dropout : 0.05;
    auto choice = choose_graph(p.clients, c, d);
    if (!choice) {  // nothing sparser works: full SecAgg
      if (!g.threshold_given) p.threshold = min_secure_threshold(p.clients);
      return;
    }
    p.neighbours = choice->neighbours;
    if (!g.threshold_given) p.threshold = choice->threshold;
    return;
  }
  if (!g.threshold_given) throw Error(Exit::usage, "--threshold is required");
  if (stated && p.neighbours < p.clients - 1) {
    std::string why = check_graph(p.clients, p.neighbours, p.threshold, corruption, dropout);
    if (!why.empty()) throw Error(Exit::usage, why);
  }
}

// --threat-model, --ca and --corrupt into p (docs/security.md, "Active mode"). The threshold and
// graph follow in size_graph.
void set_threat_model(Params& p, const std::string& model, const std::string& ca_path,
                      std::optional<uint32_t> corrupt) {
  if (model == "honest-but-curious") {
    if (!ca_path.empty() || corrupt)
      throw Error(Exit::usage, "--ca and --corrupt belong to an active session: give --threat-model active");
    return;
  }
  if (model != "active")
    throw Error(Exit::usage, fmt::format("--threat-model '{}' is neither honest-but-curious nor active", model));
  if (ca_path.empty())
    throw Error(Exit::usage, "--threat-model active needs --ca CA.pub: the clients' identities are certified by it");
  p.threat = ThreatModel::active;
  p.ca_pk = decode_identity_public(tool::read_message(ca_path, nullptr, MsgType::identity_public), ca_path);
  p.corrupt = corrupt ? *corrupt : default_corrupt(p.clients);
}

// One line on stderr after a file-mode round: who is in and who dropped. A client without a
// message in the round is dropped for good, so a forgotten file must not pass unnoticed. Every
// message given is either accepted or fails the whole step, so those in are the messages given.
void report_round(Round round, uint64_t expected, const std::vector<uint32_t>& in, const IdRanges& dropped) {
  std::string line = fmt::format("secagg-collect: round {}: {} of {} clients in ({})", round, in.size(), expected,
                                 format_ranges(ranges_of(in)));
  line += dropped.empty() ? "; none dropped" : fmt::format("; dropped: {} (no message given)", format_ranges(dropped));
  std::fprintf(stderr, "%s\n", line.c_str());
}

// Rounds 1, 2 and 4: the clients expected are the previous round's set (sorted).
void report_round(Round round, const std::vector<uint32_t>& expected, std::vector<uint32_t> in) {
  std::sort(in.begin(), in.end());
  std::vector<uint32_t> dropped;
  std::set_difference(expected.begin(), expected.end(), in.begin(), in.end(), std::back_inserter(dropped));
  report_round(round, expected.size(), in, ranges_of(dropped));
}

// Round 0: every id in [1, n] is expected; the gaps are computed, not listed (n may be large).
void report_keys(uint32_t n, const std::vector<uint32_t>& in) {
  IdRanges dropped;
  uint64_t next = 1;
  for (uint32_t id : in) {
    if (id > next) dropped.push_back({static_cast<uint32_t>(next), id - 1});
    next = uint64_t{id} + 1;
  }
  if (next <= n) dropped.push_back({static_cast<uint32_t>(next), n});
  report_round(Round::r0, n, in, dropped);
}

// Validates p and writes S/params.msg under a new session id.
void write_params(const std::string& dir, Params p, const std::string& prg) {
  auto kind = prg_from_name(prg);
  if (!kind) throw Error(Exit::usage, fmt::format("--prg '{}' is not one of aes128ctr, chacha20", prg));
  p.prg = static_cast<uint8_t>(*kind);
  validate_params(p);
  SessionDir s(dir);
  s.require_absent(Marker::params);
  make_directory(dir);
  auto w = s.begin(Marker::params);
  random_context("setup");
  SessionId sid = new_session_id();
  w.finish(encode(MsgType::params, sid, kServerId, kServerId, p));
}

void setup(const std::string& dir, Params p, const std::string& modulus_bits, uint64_t modulus,
           const std::string& prg) {
  if (modulus_bits.empty() == (modulus == 0)) throw Error(Exit::usage, "give exactly one of --modulus-bits and --modulus");
  if (p.quantized() && p.clip == 0) throw Error(Exit::usage, "--bits needs --clip (the range [-clip, clip] of values)");
  if (p.quantized() && p.max_weight == 0) p.max_weight = 1;
  if (modulus_bits == "auto") {
    if (!p.quantized()) throw Error(Exit::usage, "--modulus-bits auto needs a quantization spec (--bits, --clip)");
    unsigned b = auto_modulus_bits(p.capacity(), p.max_weight, p.quant_bits);
    if (b == 0)
      throw Error(Exit::usage, fmt::format("{} clients x max weight {} x (2^{} - 1) does not fit below 2^62",
                                           p.capacity(), p.max_weight, p.quant_bits));
    p.modulus = Modulus::from_bits(b).R;
  } else if (!modulus_bits.empty()) {
    unsigned b = 0;
    auto [ptr, ec] = std::from_chars(modulus_bits.data(), modulus_bits.data() + modulus_bits.size(), b);
    if (ec != std::errc() || ptr != modulus_bits.data() + modulus_bits.size())
      throw Error(Exit::usage, fmt::format("--modulus-bits '{}' is neither a number nor 'auto'", modulus_bits));
    p.modulus = Modulus::from_bits(b).R;
  } else {
    p.modulus = Modulus::make(modulus).R;
  }
  // With a quantization spec, --length counts the floats; the ring vector adds the weight.
  if (p.quantized()) ++p.length;
  write_params(dir, p, prg);
}

// A distributed-DP session (docs/privacy.md): its ring, length and noise from the request, for
// its clients, threshold and threat model. Says on stderr what the noise is calibrated for.
void setup_dp(const std::string& dir, Params p, const DdgRequest& r, const std::string& prg) {
  setup_ddg(p, r);
  write_params(dir, p, prg);
  const dp::DdgSetting s = ddg_setting(p);
  const dp::Guarantee g = dp::ddg_epsilon(s, 1, 1, p.dp_delta);
  std::fprintf(stderr,
               "secagg-collect: setup: dp ddg: noise multiplier %.4g calibrated for %u honest contributors (t - C = "
               "%u - %u, not the n = %u expected), scale %.6g; one round costs epsilon = %.4g at delta = %g "
               "(secagg-quantize account for more rounds)\n",
               p.dp_noise_multiplier, p.dp_contributors, p.threshold, p.corrupt, p.clients, p.dp_scale, g.epsilon,
               p.dp_delta);
}

// A union session (issue 12; docs/sparse.md): its vectors are the union encoding's, which sizes
// their length and modulus from N, n and floor(K / n), so the options that size them otherwise
// are refused by the caller.
void setup_union(const std::string& dir, Params p, UnionMode mode, uint64_t k, double cells_factor,
                 const std::string& prg) {
  if (k < p.clients)
    throw Error(Exit::usage, fmt::format("--k {} is below --clients {}: each client sends floor(K / n) >= 1 indices",
                                         k, p.clients));
  const uint64_t per_client = k / p.clients;
  if (per_client > p.model_length)
    throw Error(Exit::usage, fmt::format("--k {} gives floor(K / n) = {} indices per client, above --model-length {}",
                                         k, per_client, p.model_length));
  const UnionSpec spec = size_union(mode, p.model_length, p.clients, static_cast<uint32_t>(per_client), cells_factor);
  p.sparse = mode == UnionMode::plain ? SparseKind::union_plain : SparseKind::union_private;
  p.per_client = spec.per_client;
  p.union_cells = mode == UnionMode::private_ ? spec.cells : 0;
  p.length = spec.length;
  p.modulus = Modulus::from_bits(spec.modulus_bits).R;
  write_params(dir, p, prg);
}

// A values session over sel.msg: |M| floats (plus the weight) clipped to R_max, bound to the
// selection by its digest, so that a client encodes and a server decodes against that file only.
void setup_values(const std::string& dir, Params p, const std::string& sel_path, const std::string& modulus_bits,
                  uint64_t modulus, const std::string& prg) {
  const SelectionFile f = read_selection_file(sel_path);
  const Selection& sel = f.selection;
  if (sel.indices.empty())
    throw Error(Exit::data, fmt::format("{}: the selection is empty (no client chose an index): there is nothing to "
                                        "aggregate",
                                        sel_path));
  // Every client's residual on M is zero: a values session would sum zeros, and a clip of 0 has no
  // quantization grid. The round is over; the residuals are unchanged.
  if (sel.r_max == 0)
    throw Error(Exit::data, fmt::format("{}: R_max is 0 (every residual on the selection is zero): there is nothing "
                                        "to send",
                                        sel_path));
  p.sparse = SparseKind::values;
  p.model_length = sel.model_length;
  p.selection = f.digest;
  p.length = sel.indices.size();
  p.clip = sel.r_max;
  setup(dir, p, modulus_bits, modulus, prg);
}

// The aggregate where the user asked for it: its vector message, or decimal text.
void write_aggregate(const std::string& out, bool text, const std::vector<uint64_t>& sum, const Bytes& vec) {
  if (text)
    tool::write_output(out, vector_text(sum));
  else
    tool::write_output(out, vec);
}

// A shard of the top session `top_dir` (docs/shards.md): its ring, length, quantization spec and
// PRG are the top session's, whose id it names; p carries its own clients, threshold and graph.
void setup_shard(const std::string& dir, const std::string& top_dir, const Params& own) {
  const SessionDir top(top_dir);
  const auto [tp, tsid] = top.params();
  Params p = shard_params(tp, tsid, own.clients, top.path(Marker::params));
  p.threshold = own.threshold;
  p.neighbours = own.neighbours;
  p.insecure_threshold = own.insecure_threshold;
  p.threat = own.threat;
  p.corrupt = own.corrupt;
  p.ca_pk = own.ca_pk;
  write_params(dir, p, std::string(prg_name(tp.prg_kind())));
}

// Adds the aggregates of finished shards of TOP (docs/shards.md) into TOP/aggregate.vec and the
// output. The user's copy first, as in 'unmask': if it cannot be written nothing is recorded.
void combine(const std::string& top_dir, const std::vector<std::string>& shards, const std::string& out, bool text) {
  tool::check_output_target(out);
  const SessionDir top(top_dir);
  const auto [tp, tsid] = top.params();
  auto w = top.begin(Marker::aggregate);
  const Combined c = combine_shards(top, shards);
  const Bytes vec = vector_message(c.sum, tp.ring(), tsid);
  write_aggregate(out, text, c.sum, vec);
  w.finish(vec);
  std::string line = fmt::format("secagg-collect: combine: {} shards of {} clients in all", c.shards.size(), c.clients);
  if (c.contributors >= 0) line += fmt::format(", {} of them in the sum (U3)", c.contributors);
  if (tp.quantized()) line += fmt::format("; total weight {}", c.sum[0]);
  std::fprintf(stderr, "%s\n", line.c_str());
}

// The union and the adaptive maximum of a union session whose round 4 is done, as a selection
// message (its envelope carries the union session's id).
void select(const std::string& dir, const std::string& out) {
  tool::check_output_target(out);
  SessionDir s(dir);
  auto [p, sid] = s.params();
  if (p.sparse != SparseKind::union_plain && p.sparse != SparseKind::union_private)
    throw Error(Exit::data, fmt::format("{}: a {} session, not a union session (secagg-collect setup --union)",
                                        s.path(Marker::params),
                                        p.sparse == SparseKind::none ? "dense" : sparse_name(p.sparse)));
  const std::string agg_path = s.path(Marker::aggregate);
  if (!s.has(Marker::aggregate))
    throw Error(Exit::noinput, fmt::format("{}: missing (it is written by round 4: secagg-collect unmask)", agg_path));
  const Bytes raw = read_file(agg_path, max_input_bytes(p.length));
  const std::vector<uint64_t> sum = read_vector(raw, p.ring(), p.length, &sid, agg_path);
  UnionView view = decode_union(union_spec(p), sid, sum, agg_path);
  const Selection sel{p.sparse, p.model_length, std::move(view.indices), view.r_max};
  tool::write_output(out, encode(MsgType::selection, sid, kServerId, kServerId, sel));
  // Totals only: in private mode the server knows no more, and in plain mode a line naming
  // clients would end up in logs.
  std::fprintf(stderr, "secagg-collect: select: %zu of N = %llu indices selected from %u clients; R_max = %s\n",
               sel.indices.size(), static_cast<unsigned long long>(sel.model_length), view.clients,
               fmt::format("{}", sel.r_max).c_str());
}

// One round in file mode: the round's messages from files, through the round engine, into the
// session directory. Held to the round's marker from the start: a concurrent run of the round
// waits for this one, then is refused. Every message given is either accepted or fails the whole
// step, and nothing is written until all are checked. `removing` hears round 4's mask removal.
void collect(const std::string& dir, Round round, const std::vector<std::string>& files,
             const std::function<void(const RoundResult&)>& output, unsigned threads,
             const ProgressFn& removing = {}) {
  SessionDir s(dir);
  auto [p, sid] = s.params();
  if (round == Round::r3 && !p.active())
    throw Error(Exit::usage, fmt::format("{}: an honest-but-curious session has no round 3 (its clients answer the "
                                         "survivor set directly: secagg-collect unmask)",
                                         s.path(Marker::params)));
  auto w = s.begin(SessionDir::marker_of(round));
  ServerSession e = ServerSession::load(s, p, sid, round);
  const std::vector<uint32_t> expected = e.expected();
  auto in = read_all(files, p, client_message(round));
  if (round == Round::r2) {
    // In batches of a few per thread: each message is unpacked to a whole vector while it is
    // added, and a bad one stops the step before the rest are unpacked.
    const size_t batch = 2 * size_t{default_threads()};
    for (size_t i = 0; i < in.size(); i += batch)
      e.accept_all(std::span(in).subspan(i, std::min(batch, in.size() - i)), default_threads());
  } else {
    e.accept_all(in, default_threads());
  }
  const RoundResult r = e.close(threads, {}, removing);
  // The user's copy first: if it cannot be written, nothing is recorded and the step can be rerun.
  if (output) output(r);
  if (SessionDir::keeps_messages(round))
    for (const auto& m : in) w.message(m.env.sender, seal_envelope(m.env));
  e.record(r, w);
  for (const std::string& line : round_warnings(r)) std::fprintf(stderr, "secagg-collect: warning: %s\n", line.c_str());
  if (round == Round::r0)
    report_keys(p.clients, r.in);
  else
    report_round(round, expected, r.in);
}

// --range A:B: 0 <= A < B <= length, or Exit::usage naming the bound.
std::pair<uint64_t, uint64_t> parse_range(const std::string& range) {
  const size_t colon = range.find(':');
  auto number = [&](std::string_view w, const char* bound) {
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), v);
    if (w.empty() || ec != std::errc() || ptr != w.data() + w.size())
      throw Error(Exit::usage, fmt::format("--range '{}': the {} '{}' is not a non-negative integer (give A:B, the "
                                           "elements A to B - 1)",
                                           range, bound, w));
    return v;
  };
  if (colon == std::string::npos)
    throw Error(Exit::usage, fmt::format("--range '{}' is not A:B (the elements A to B - 1)", range));
  const std::string_view r(range);
  const uint64_t a = number(r.substr(0, colon), "start A"), b = number(r.substr(colon + 1), "end B");
  if (a >= b)
    throw Error(Exit::usage, fmt::format("--range '{}': the start A = {} is not below the end B = {}", range, a, b));
  return {a, b};
}

// secagg-collect unmask --range A:B (docs/protocol.md, "Range unmasking"): round 4 checked as
// 'unmask' checks it, for elements [A, B) only, into an unmask-part message. Reads the session
// directory and writes nothing into it (no lock, no marker, no saved message): many range tasks
// may run at once over one directory.
void range_unmask(const std::string& dir, const std::string& range, const std::vector<std::string>& files,
                  const std::string& out, bool text, unsigned threads, tool::ProgressLine& line) {
  if (text)
    throw Error(Exit::usage, "--text cannot be given with --range: a range task writes an unmask-part message for "
                             "secagg-collect join, which writes the aggregate as text with --text");
  const auto [a, b] = parse_range(range);
  tool::check_output_target(out);
  SessionDir s(dir);
  auto [p, sid] = s.params();
  if (b > p.length)
    throw Error(Exit::usage, fmt::format("--range '{}': the end B = {} is beyond the session's length {}", range, b,
                                         p.length));
  s.require_absent(Marker::aggregate);
  ServerSession e = ServerSession::load(s, p, sid, Round::r4);
  const std::vector<uint32_t> expected = e.expected();
  auto in = read_all(files, p, MsgType::unmask_shares);
  e.accept_all(in, default_threads());
  const RoundResult r = e.unmask_range(a, b, threads, line.counter("round 4: removing the masks"));
  line.stop();
  tool::write_output(out, part_message(r.aggregate, a, p.length, round4_inputs_digest(sid, in), r.in, p.ring(), sid));
  for (const std::string& w : round_warnings(r)) std::fprintf(stderr, "secagg-collect: warning: %s\n", w.c_str());
  report_round(Round::r4, expected, r.in);
}

// secagg-collect join: the parts of every range, checked (one session, one set of round-4 inputs,
// no gap, no overlap), into the aggregate; round 4 recorded as 'unmask' records it, from the
// round-4 messages given with the parts (checked again, and against the parts' digest).
void join(const std::string& dir, const std::vector<std::string>& files, const std::string& out, bool text) {
  if (!text) tool::check_output_target(out);
  SessionDir s(dir);
  auto [p, sid] = s.params();
  auto w = s.begin(Marker::aggregate);
  ServerSession e = ServerSession::load(s, p, sid, Round::r4);
  const std::vector<uint32_t> expected = e.expected();
  struct Range {
    uint64_t begin, end;
    std::string file;
  };
  std::vector<Range> ranges;
  std::vector<Incoming> answers;
  std::vector<uint64_t> sum;
  std::optional<std::pair<Digest32, std::string>> inputs;  // the first part's digest, and its file
  for (const std::string& f : files) {
    Envelope env = tool::read_message(f, &p);
    if (env.type == MsgType::unmask_shares) {
      answers.push_back({f, std::move(env)});
      continue;
    }
    if (env.type != MsgType::unmask_part)
      throw Error(Exit::data, fmt::format("{}: is a message of type {}, neither an unmask-part (from secagg-collect "
                                          "unmask --range) nor an unmask-shares message",
                                          f, type_name(env.type)));
    if (env.session != sid)
      throw Error(Exit::data, fmt::format("{}: part of session {}, not of this session {}", f, session_hex(env.session),
                                          session_hex(sid)));
    Part part = read_part(env, p.ring(), p.length, f);
    if (!inputs)
      inputs.emplace(part.body.inputs, f);
    else if (part.body.inputs != inputs->first)
      throw Error(Exit::data, fmt::format("{}: computed from other round-4 messages than {} (their inputs digests "
                                          "differ): unmask every range from the same unmask*.msg files",
                                          f, inputs->second));
    if (sum.empty()) sum.assign(p.length, 0);
    std::copy(part.elements.begin(), part.elements.end(), sum.begin() + static_cast<ptrdiff_t>(part.body.offset));
    ranges.push_back({part.body.offset, part.body.offset + part.body.count, f});
  }
  if (ranges.empty())
    throw Error(Exit::usage, "join needs the parts (unmask-part messages from secagg-collect unmask --range)");
  if (answers.empty())
    throw Error(Exit::usage, "join records round 4 as unmask does: give the round-4 messages (unmask*.msg) the range "
                             "tasks were given, with the parts");
  std::sort(ranges.begin(), ranges.end(), [](const Range& x, const Range& y) { return x.begin < y.begin; });
  uint64_t next = 0;
  const Range* prev = nullptr;
  for (const Range& r : ranges) {
    if (r.begin < next)
      throw Error(Exit::data, fmt::format("{}: its range {}:{} overlaps {}'s {}:{}", r.file, r.begin, r.end, prev->file,
                                          prev->begin, prev->end));
    if (r.begin > next)
      throw Error(Exit::data, fmt::format("{}: the elements {}:{} are missing: no part holds them", r.file, next,
                                          r.begin));
    next = r.end;
    prev = &r;
  }
  if (next < p.length)
    throw Error(Exit::data, fmt::format("{}: the elements {}:{} are missing: no part holds them", prev->file, next,
                                        p.length));
  e.accept_all(answers, default_threads());
  const Digest32 d = round4_inputs_digest(sid, answers);
  if (d != inputs->first)
    throw Error(Exit::data, fmt::format("{}: the parts were computed from other round-4 messages than the {} given "
                                        "(their inputs digests differ)",
                                        inputs->second, answers.size()));
  const Bytes marker = vector_message(sum, p.ring(), sid);
  write_aggregate(out, text, sum, marker);
  std::vector<uint32_t> in;
  for (const auto& m : answers) {
    w.message(m.env.sender, seal_envelope(m.env));
    in.push_back(m.env.sender);
  }
  w.finish(marker);
  report_round(Round::r4, expected, in);
}

// secagg-collect audit: one line per check on stdout (or one JSON document), then Exit::data
// naming the first check that failed.
void audit(const std::string& dir, bool json) {
  const AuditReport rep = audit_session(SessionDir(dir), default_threads());
  std::string out;
  if (json) {
    out = fmt::format("{{\"session\": {}, \"ok\": {}, \"checks\": [", json_string(dir), rep.ok());
    for (size_t i = 0; i < rep.checks.size(); ++i) {
      const AuditCheck& c = rep.checks[i];
      out += fmt::format("{}\n  {{\"check\": {}, \"ok\": {}, \"detail\": {}}}", i ? "," : "", json_string(c.what),
                         c.ok, json_string(one_line(c.detail)));
    }
    out += "\n]}\n";
  } else {
    for (const AuditCheck& c : rep.checks)
      out += fmt::format("{:<5} {}: {}\n", c.ok ? "ok" : "FAIL", c.what, one_line(c.detail));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!rep.ok()) {
    const AuditCheck& f = rep.first_failure();
    throw Error(Exit::data, fmt::format("audit: {}: {}", f.what, one_line(f.detail)));
  }
}

// secagg-collect status: the session as the server sees it, on stdout. Reads only.
void status(const std::string& dir, bool json) {
  const SessionStatus st = session_status(SessionDir(dir));
  const std::string out = json ? status_json(st) : status_text(st);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// Descriptors the server keeps for itself besides its client connections: stdio, the listening
// socket, the event loop's (epoll, eventfd, timerfd), the session files it writes, and slack.
constexpr uint64_t kServerFds = 32;

// Returns the signal that stopped the server (0: the session finished).
int serve(const std::string& dir, net::ServeOptions opt, double round_timeout, double frame_timeout, bool verbose,
          bool quiet, bool text, const std::string& out) {
  opt.round_timeout = from_seconds(round_timeout);
  opt.frame_timeout = from_seconds(frame_timeout);
  // On a terminal, the round being collected: how many clients are in and how long it still
  // waits. The log lines go above it, unchanged.
  tool::ProgressLine status("secagg-collect", tool::progress_wanted(quiet));
  // The user's copy first, as in 'unmask'. The session is over: the status line goes first, in
  // case the aggregate goes to the same terminal.
  opt.on_aggregate = [&](const std::vector<uint64_t>& sum, const Bytes& vec) {
    status.stop();
    write_aggregate(out, text, sum, vec);
  };
  auto line = [&status](const std::string& m) {
    // One line per event; nothing from the network may break the line or drive a terminal.
    status.print("secagg-collect: " + one_line(m));
  };
  net::ServeLog log;
  log.warn = line;
  if (verbose) log.info = line;
  log.status = [&status](const net::RoundStatus& s) {
    const double in = s.expected ? static_cast<double>(s.in) / static_cast<double>(s.expected) : 1.0;
    if (!s.closing) {
      status.update(in, fmt::format("round {}: {} of {} clients in", s.round, s.in, s.expected), s.deadline);
      return;
    }
    status.restart();
    status.update(in, fmt::format("round {}: closed with {} of {} clients; collecting it", s.round, s.in, s.expected));
  };
  log.removing = status.counter("round 4: removing the masks");
  // Each open connection is a file descriptor: lift the soft limit (often 1024) to the hard one,
  // and keep the connections within it, so that the round's files can always be written
  // (docs/network.md, "File descriptors").
  const net::FdLimit fds = net::raise_fd_limit();
  const uint64_t budget = fds.soft > 2 * kServerFds ? fds.soft - kServerFds : fds.soft / 2;
  try {
    const uint64_t n = SessionDir(dir).params().first.clients;
    const bool by_default = opt.max_connections == 0;
    if (by_default) opt.max_connections = static_cast<size_t>(std::min(3 * n + opt.max_unidentified, budget));
    if (opt.max_connections > budget)
      line(fmt::format("warning: --max-connections {} is above the {} connections the open-file limit (ulimit -n {}, "
                       "hard limit {}) leaves room for",
                       opt.max_connections, budget, fds.soft, fds.hard));
    else if (by_default && n > opt.max_connections)
      line(fmt::format("warning: at most {} connections can be open at once (the open-file limit, ulimit -n, is {}; "
                       "the hard limit {}), fewer than this session's {} clients: the clients beyond it are refused "
                       "while a round is full",
                       opt.max_connections, fds.soft, fds.hard, n));
  } catch (const Error&) {
    // No readable session: run_server reports it.
  }
  return net::run_server(SessionDir(dir), opt, log);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The server side of a secure-aggregation session, one subcommand per protocol round. Each reads the "
               "clients' messages of its round, checks every one, and writes the next round's messages into the "
               "session directory.",
               "secagg-collect"};
  app.require_subcommand(1);
  std::string dir;
  std::vector<std::string> files;

  Params p;
  std::string modulus_bits;
  uint64_t modulus = 0;
  unsigned quant_bits = 0;
  std::string prg = "aes128ctr";
  bool insecure = false;
  auto* c_setup = app.add_subcommand("setup", "Create a session directory and its parameters (S/params.msg)");
  c_setup->add_option("--session", dir, "Session directory to create")->required();
  c_setup->add_option("--clients", p.clients, "Number of clients n (ids 1..n)")->required();
  GraphSpec graph;
  c_setup->add_option("--threshold", p.threshold,
                      "Shamir threshold t; must exceed half of each client's share holders (n/2 in full SecAgg); "
                      "required unless --neighbours auto");
  c_setup->add_option("--modulus-bits", modulus_bits,
                      "Work modulo R = 2^bits (1..62); 'auto': the smallest that cannot wrap with the quantization spec");
  c_setup->add_option("--modulus", modulus, "Work modulo R, any integer in [2, 2^62]");
  c_setup->add_option("--length", p.length,
                      "Elements per input vector; with --bits, floats per update (the ring vector adds the weight). "
                      "Required unless --union or --select sizes the vectors");
  std::string union_mode, select_path;
  uint64_t k_total = 0;
  double cells_factor = kDefaultCellsFactor;
  c_setup->add_option("--union", union_mode,
                      "SSGA union session (docs/sparse.md): 'private' (the server learns how many clients chose each "
                      "index, never who) or 'plain' (every client's indices in the clear, the paper's behaviour); "
                      "needs --model-length and --k, and sizes the vectors and the modulus itself");
  c_setup->add_option("--model-length", p.model_length, "Union session: entries N of the model (1..2^31)");
  c_setup->add_option("--k", k_total, "Union session: target number K of entries sent; each client sends its top "
                                      "floor(K / n)");
  c_setup->add_option("--union-cells-factor", cells_factor,
                      "Private union session: cells of the union table per index bound, scaled from the default 1.5; "
                      "a larger table is the retry for a union that did not decode");
  c_setup->add_option("--select", select_path,
                      "SSGA values session over this selection message (from secagg-collect select): |M| floats plus "
                      "the weight, clipped to R_max; needs --bits");
  c_setup->add_option("--bits", quant_bits,
                      "Quantization: map each float onto [0, 2^bits - 1] (1..32); with --dp, the ring's width "
                      "(R = 2^bits)");
  c_setup->add_option("--clip", p.clip, "Quantization: clip floats to [-clip, clip]");
  c_setup->add_option("--max-weight", p.max_weight, "Quantization: largest client weight, 1..2^32 (default 1)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
  c_setup->add_option("--prg", prg, "Mask PRG: aes128ctr (default) or chacha20");
  c_setup->add_option("--neighbours", graph.neighbours,
                      "SecAgg+: each client shares keys and masks with k neighbours (2..n-1; default n-1, full SecAgg); "
                      "its shares have k+1 holders. 'auto': the fewest that meet Bell et al.'s bounds for the stated "
                      "rates (default 5% each; active: --corrupt and --dropout-rate), with the smallest safe "
                      "threshold");
  // A rate in [0, 1); NaN and infinities are refused by name (CLI::Range lets NaN through).
  const CLI::Validator rate(
      [](std::string& v) -> std::string {
        double x = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
        if (ec != std::errc() || ptr != v.data() + v.size() || !std::isfinite(x) || x < 0 || x >= 1)
          return fmt::format("'{}' is not a number in [0, 1)", v);
        return {};
      },
      "RATE in [0, 1)");
  c_setup->add_option("--dropout-rate", graph.dropout,
                      "SecAgg+: fraction of clients expected to drop out; with it, setup checks k and t against Bell "
                      "et al.'s correctness bound")
      ->check(rate);
  c_setup->add_option("--corruption-rate", graph.corruption,
                      "SecAgg+: fraction of clients that may collude with the server; with it, setup checks k and t "
                      "against Bell et al.'s security bound")
      ->check(rate);
  c_setup->add_flag("--insecure-low-threshold", insecure,
                    "Accept t <= n/2, which lets a server unmask individual inputs (teaching only)");
  std::string threat_model = "honest-but-curious", ca_path;
  uint32_t corrupt = 0;
  c_setup->add_option("--threat-model", threat_model,
                      "honest-but-curious (default: the server follows the protocol) or active (the server may lie: "
                      "clients sign their keys with certified identities and sign the survivor set in round 3; "
                      "docs/security.md)");
  c_setup->add_option("--ca", ca_path,
                      "Active: the public key of the CA that certifies the clients' identities (CA.pub from "
                      "secagg-keygen identity); never the server's own key");
  c_setup->add_option("--corrupt", corrupt,
                      "Active: corrupted clients C the threshold must withstand, t > (n + C) / 2 (default "
                      "floor((n - 1) / 3)); with --neighbours k, t > (k + 1 + c) / 2 for the c corrupted neighbours "
                      "a client may have (docs/security.md); --threshold defaults to the smallest such t");

  std::string dp_kind;
  DdgRequest ddg;
  c_setup->add_option("--dp", dp_kind,
                      "Distributed differential privacy (docs/privacy.md): 'ddg', each client adds discrete Gaussian "
                      "noise to its rotated, clipped, scaled and rounded update (secagg-quantize encode); --length "
                      "counts its floats, --bits is the ring's width (R = 2^bits), and --l2-clip and "
                      "--noise-multiplier or --target-epsilon are required");
  c_setup->add_option("--l2-clip", ddg.l2_clip, "DP: clip each client's update to this L2 norm c");
  c_setup->add_option("--noise-multiplier", ddg.noise_multiplier,
                      "DP: the noise of the t - C honest contributors adds up to stddev z x c (z given here)");
  c_setup->add_option("--target-epsilon", ddg.target_epsilon,
                      "DP: instead of --noise-multiplier, the smallest z whose epsilon over --rounds is at most this");
  c_setup->add_option("--delta", ddg.delta, "DP: the delta of the (epsilon, delta) guarantee (default 1e-5)");
  c_setup->add_option("--rounds", ddg.rounds, "DP: with --target-epsilon, the rounds the budget covers (default 1)");
  c_setup->add_option("--sampling", ddg.sampling,
                      "DP: with --target-epsilon, the rate at which clients are Poisson-sampled into each round "
                      "(default 1)");
  c_setup->add_option("--beta", ddg.beta,
                      "DP: conditional rounding retries while the rounded norm exceeds the bound that holds with "
                      "probability 1 - beta (default e^-0.5, the DDG paper's)");

  std::string shard_of;
  c_setup->add_option("--shard-of", shard_of,
                      "Make a shard of the top session TOP (docs/shards.md): its modulus, length, quantization spec "
                      "and PRG are TOP's, sized for the whole federation; give --clients and the threshold and graph "
                      "of this shard only")
      ->type_name("TOP");
  c_setup->add_option("--shard-clients", p.shard_clients,
                      "Make a hierarchical top session: each of its --clients is the server of a shard of at most "
                      "this many clients, which masks its shard's aggregate as its input (secagg-mask --shard); the "
                      "modulus is sized for clients x shard clients")
      ->check(CLI::Range(2u, kMaxClients));

  auto add_round = [&](const char* name, const char* help) {
    auto* c = app.add_subcommand(name, help);
    c->add_option("--session", dir, "Session directory (from secagg-collect setup)")->required();
    c->add_option("files", files, "The clients' messages of this round (missing clients count as dropped)");
    return c;
  };
  auto* c_keys = add_round("keys", "Round 0: collect advertise-keys messages; writes S/roster.msg (U1)");
  auto* c_shares = add_round("shares", "Round 1: collect share-keys messages; writes S/inbox-<id>.msg for each client "
                                       "of U2");
  auto* c_masked = add_round("masked", "Round 2: collect masked inputs; writes S/survivors.msg (U3)");
  auto* c_consistency = add_round("consistency",
                                  "Round 3, active sessions: collect the clients' signatures over U3 "
                                  "(consistency-signature messages from secagg-unmask sign); writes S/consistency.msg "
                                  "(U3 and the signatures of U4), aborting below t");
  std::string select_out;
  auto* c_select = app.add_subcommand(
      "select", "SSGA: decode a union session's aggregate into a selection message (the union M of the clients' top "
                "indices and the adaptive maximum R_max) for secagg-collect setup --select");
  c_select->add_option("--session", dir, "The union session, its round 4 done")->required();
  c_select->add_option("-o,--output", select_out, "Where to write the selection message")->required();
  auto* c_unmask = add_round("unmask", "Round 4: collect unmasking shares, remove the masks, write the aggregate to "
                                       "S/aggregate.vec and to the output");
  bool text = false;
  std::string out = "-";
  unsigned threads = default_threads();
  c_unmask->add_flag("--text", text, "Write the aggregate as decimal text, one element per line");
  c_unmask->add_option("-o,--output", out, "Where to write the aggregate (default: stdout)");
  c_unmask->add_option("--threads", threads, "Threads for mask removal (default: all cores)")->check(CLI::Range(1u, 256u));
  bool quiet = false;
  c_unmask->add_flag("--quiet", quiet, "No progress line while the masks are removed, even when stderr is a terminal");
  std::string range;
  c_unmask->add_option("--range", range,
                       "Unmask the elements A to B - 1 only (0 <= A < B <= length) into an unmask-part message for "
                       "join; reads the session directory and writes nothing into it, so that many ranges can run "
                       "at once");
  auto* c_join = app.add_subcommand(
      "join", "Round 4 from range parts: check the parts of 'unmask --range' (one session, the same round-4 messages, "
              "no gap, no overlap) and the round-4 messages they were computed from, write the aggregate to "
              "S/aggregate.vec and to the output, and record round 4 as unmask does");
  c_join->add_option("--session", dir, "Session directory (from secagg-collect setup)")->required();
  c_join->add_option("files", files, "The parts (unmask-part messages) and the round-4 messages (unmask-shares) the "
                                     "range tasks were given");
  c_join->add_flag("--text", text, "Write the aggregate as decimal text, one element per line");
  c_join->add_option("-o,--output", out, "Where to write the aggregate (default: stdout)");

  std::vector<std::string> shard_dirs;
  auto* c_combine = app.add_subcommand(
      "combine", "Add the aggregates of finished shard sessions of the top session (docs/shards.md): writes their sum "
                 "mod R to TOP/aggregate.vec and to the output, for secagg-quantize decode --params TOP/params.msg");
  c_combine->add_option("--session", dir, "The top session (secagg-collect setup, its shards set up with --shard-of)")
      ->required();
  c_combine->add_option("shards", shard_dirs, "The shard session directories, each with its round 4 done")
      ->required();
  c_combine->add_flag("--text", text, "Write the sum as decimal text, one element per line");
  c_combine->add_option("-o,--output", out, "Where to write the sum (default: stdout)");

  bool audit_json = false;
  auto* c_audit = app.add_subcommand(
      "audit", "Check a finished (or aborted) session directory offline, as a third party would: replay every round "
               "through the round engine from the client messages the directory keeps (checksums, signatures, "
               "certificates against the CA, the sets and thresholds, round-3 signatures, round-4 shares against "
               "their commitments) and compare every file the server wrote, the aggregate included, byte for byte");
  c_audit->add_option("--session", dir, "The session directory")->required();
  c_audit->add_flag("--json", audit_json, "One JSON document instead of one line per check");

  bool status_as_json = false;
  auto* c_status = app.add_subcommand(
      "status", "Show the server's view of a session at any point: its parameters in words, each round done or "
                "pending, the sets U1 to U4 (U5) and who dropped in which round, how many more clients may drop, what "
                "the server can compute now, and the next command. Reads the session directory only, without a lock: "
                "safe while serve runs, and on an aborted session");
  c_status->add_option("--session", dir, "The session directory")->required();
  c_status->add_flag("--json", status_as_json, "One JSON document (every id listed) instead of text");

  net::ServeOptions sopt;
  double round_timeout = 120, frame_timeout = 30;
  bool verbose = false;
  auto* c_serve = app.add_subcommand(
      "serve", "Socket mode: run every server round of the session over TCP in one process, writing into the session "
               "directory what the round subcommands write, and the aggregate to S/aggregate.vec and the output");
  c_serve->add_option("--session", dir, "Session directory (from secagg-collect setup)")->required();
  c_serve->add_option("--listen", sopt.listen, "Address to listen on, HOST:PORT (port 0: any free port)")->required();
  c_serve->add_option("--round-timeout", round_timeout,
                      "Seconds each round waits for its clients before it closes with those that answered (default "
                      "120)")
      ->check(CLI::PositiveNumber);
  c_serve->add_option("--frame-timeout", frame_timeout,
                      "Seconds a connection may take to deliver its message, and to take its answer (default 30)")
      ->check(CLI::PositiveNumber);
  c_serve->add_option("--port-file", sopt.port_file, "Write the port listened on to this file once listening");
  c_serve->add_flag("--resume", sopt.resume,
                    "Continue a session whose earlier rounds are already in the session directory");
  c_serve->add_option("--max-connections", sopt.max_connections,
                      "Connections open at once; beyond it the oldest connection that has not sent a header is turned "
                      "away, or else the new one (default 3n + --max-unidentified, at most the open-file limit minus "
                      "32)");
  c_serve->add_option("--max-unidentified", sopt.max_unidentified,
                      "Connections that have not sent a valid header yet; a new one turns the oldest away with a "
                      "retry notice (default 64)")
      ->check(CLI::PositiveNumber);
  c_serve->add_option("--max-pending-bytes", sopt.max_pending_bytes,
                      "Bytes of unfinished frames the server may hold; each frame reserves its announced size, and "
                      "frames beyond it wait (default: 64 MiB or two masked inputs, whichever is more)")
      ->check(CLI::PositiveNumber);
  c_serve->add_flag("--text", text, "Write the aggregate as decimal text, one element per line");
  c_serve->add_option("-o,--output", out, "Where to write the aggregate (default: stdout)");
  c_serve->add_option("--threads", threads, "Threads for mask removal (default: all cores)")->check(CLI::Range(1u, 256u));
  c_serve->add_option("--tls-cert", sopt.tls_cert,
                      "Speak TLS 1.3 only, with the certificate chain in this PEM file (the server's certificate first)");
  c_serve->add_option("--tls-key", sopt.tls_key,
                      "The private key of --tls-cert, an unencrypted PEM file that group and others may not read");
  c_serve->add_flag("-v,--verbose", verbose, "Log every round's opening and closing and every accepted message");
  c_serve->add_flag("--quiet", quiet,
                    "No status line (the round, the clients in, the time to its deadline), even when stderr is a "
                    "terminal; the log lines are printed all the same");

  int stopped_by = 0;
  const int rc = tool::run(app, argc, argv, [&] {
    if (c_setup->parsed()) {
      p.insecure_threshold = insecure ? 1 : 0;
      graph.threshold_given = c_setup->count("--threshold") > 0;
      set_threat_model(p, threat_model, ca_path, c_setup->count("--corrupt") > 0 ? std::optional(corrupt)
                                                                                   : std::nullopt);
      if (p.clients < 2) throw Error(Exit::usage, fmt::format("--clients {} is below 2", p.clients));
      size_graph(p, graph);
      if (quant_bits > 255) throw Error(Exit::usage, "--bits must be in [1, 32]");
      p.quant_bits = static_cast<uint8_t>(quant_bits);
      auto given = [&](const char* opt) { return c_setup->count(opt) > 0; };
      auto refuse = [&](std::initializer_list<const char*> opts, const char* with, const char* why) {
        for (const char* o : opts)
          if (given(o)) throw Error(Exit::usage, fmt::format("{} cannot be given with {}: {}", o, with, why));
      };
      const bool dp_only = given("--l2-clip") || given("--noise-multiplier") || given("--target-epsilon") ||
                           given("--delta") || given("--rounds") || given("--sampling") || given("--beta");
      if (given("--dp")) {
        if (dp_kind != "ddg") throw Error(Exit::usage, fmt::format("--dp '{}' is not ddg", dp_kind));
        refuse({"--modulus-bits", "--modulus", "--clip", "--max-weight", "--union", "--select", "--model-length", "--k",
                "--union-cells-factor", "--shard-of", "--shard-clients"},
               "--dp", "a DP session sizes its ring with --bits and encodes its own values");
        if (!given("--length") || !given("--bits") || !given("--l2-clip"))
          throw Error(Exit::usage, "--dp ddg needs --length, --bits and --l2-clip");
        if (given("--noise-multiplier") == given("--target-epsilon"))
          throw Error(Exit::usage, "--dp ddg needs exactly one of --noise-multiplier and --target-epsilon");
        if (given("--noise-multiplier") && (given("--rounds") || given("--sampling")))
          throw Error(Exit::usage, "--rounds and --sampling choose the noise for --target-epsilon; with "
                                   "--noise-multiplier, secagg-quantize account gives epsilon for any rounds");
        // --bits is the ring's width here, and --length the floats of an update.
        ddg.bits = quant_bits;
        ddg.input_length = p.length;
        p.quant_bits = 0;
        setup_dp(dir, p, ddg, prg);
        return;
      }
      if (dp_only) throw Error(Exit::usage, "--l2-clip, --noise-multiplier, --target-epsilon, --delta, --rounds, "
                                            "--sampling and --beta belong to a DP session: give --dp ddg");
      if (given("--shard-of")) {
        refuse({"--length", "--modulus-bits", "--modulus", "--bits", "--clip", "--max-weight", "--prg", "--union",
                "--select", "--model-length", "--k", "--union-cells-factor", "--shard-clients"},
               "--shard-of", "a shard takes its ring, length, quantization spec and PRG from its top session");
        setup_shard(dir, shard_of, p);
        return;
      }
      if (given("--shard-clients") && (given("--union") || given("--select")))
        throw Error(Exit::usage, "--shard-clients makes a dense top session: a sparse session cannot be sharded");
      if (given("--union") && given("--select"))
        throw Error(Exit::usage, "--union and --select make different sessions: give one");
      if (given("--union")) {
        refuse({"--modulus-bits", "--modulus", "--length", "--bits", "--clip", "--max-weight"}, "--union",
               "the union encoding sizes the vectors and the modulus");
        if (union_mode != "private" && union_mode != "plain")
          throw Error(Exit::usage, fmt::format("--union '{}' is neither private nor plain", union_mode));
        const UnionMode mode = union_mode == "plain" ? UnionMode::plain : UnionMode::private_;
        if (!given("--model-length") || !given("--k")) throw Error(Exit::usage, "--union needs --model-length and --k");
        if (mode == UnionMode::plain && given("--union-cells-factor"))
          throw Error(Exit::usage, "--union-cells-factor sizes a private union's table; a plain union has none");
        setup_union(dir, p, mode, k_total, cells_factor, prg);
      } else {
        refuse({"--model-length", "--k", "--union-cells-factor"}, "a session without --union",
               "they size a union session");
        if (given("--select")) {
          refuse({"--length", "--clip"}, "--select", "the selection gives the length |M| and the clip R_max");
          if (!p.quantized()) throw Error(Exit::usage, "--select needs --bits (a values session is quantized)");
          setup_values(dir, p, select_path, modulus_bits, modulus, prg);
        } else {
          if (!given("--length")) throw Error(Exit::usage, "--length is required (or --union, or --select)");
          setup(dir, p, modulus_bits, modulus, prg);
        }
      }
    } else if (c_keys->parsed()) {
      collect(dir, Round::r0, files, {}, threads);
    } else if (c_shares->parsed()) {
      collect(dir, Round::r1, files, {}, threads);
    } else if (c_masked->parsed()) {
      collect(dir, Round::r2, files, {}, threads);
    } else if (c_consistency->parsed()) {
      collect(dir, Round::r3, files, {}, threads);
    } else if (c_unmask->parsed() && c_unmask->count("--range") > 0) {
      tool::ProgressLine line("secagg-collect", tool::progress_wanted(quiet));
      range_unmask(dir, range, files, out, text, threads, line);
    } else if (c_join->parsed()) {
      join(dir, files, out, text);
    } else if (c_unmask->parsed()) {
      tool::ProgressLine line("secagg-collect", tool::progress_wanted(quiet));
      collect(
          dir, Round::r4, files,
          [&](const RoundResult& r) {
            line.stop();  // before the aggregate, which may go to the same terminal, and the round's report
            write_aggregate(out, text, r.aggregate, r.marker);
          },
          threads, line.counter("round 4: removing the masks"));
    } else if (c_combine->parsed()) {
      combine(dir, shard_dirs, out, text);
    } else if (c_audit->parsed()) {
      audit(dir, audit_json);
    } else if (c_status->parsed()) {
      status(dir, status_as_json);
    } else if (c_select->parsed()) {
      select(dir, select_out);
    } else if (c_serve->parsed()) {
      sopt.threads = threads;
      stopped_by = serve(dir, sopt, round_timeout, frame_timeout, verbose, quiet, text, out);
    }
  });
  // SIGINT or SIGTERM: serve logged where it stopped; the shell's convention, 128 + the signal.
  return rc == 0 && stopped_by != 0 ? 128 + stopped_by : rc;
}

#include "status.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <numeric>
#include <span>

#include <sys/stat.h>

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "graph.hpp"
#include "id_ranges.hpp"
#include "protocol.hpp"
#include "quote.hpp"
#include "server_session.hpp"

namespace secagg {
namespace {

// The subcommand that collects round r in file mode, and the client step that makes its messages.
const char* collect_subcommand(Round r) {
  switch (r) {
    case Round::r0: return "keys";
    case Round::r1: return "shares";
    case Round::r2: return "masked";
    case Round::r3: return "consistency";
    default: return "unmask";
  }
}
const char* client_step(Round r) {
  switch (r) {
    case Round::r0: return "secagg-keygen";
    case Round::r1: return "secagg-share";
    case Round::r2: return "secagg-mask";
    case Round::r3: return "secagg-unmask sign";
    default: return "secagg-unmask";
  }
}

// Refuses a directory that is not there with its own name, before params.msg's "missing". Another
// reason not to stat it (no permission) is left to the read of params.msg, which names it.
void require_directory(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      throw Error(Exit::noinput, fmt::format("{}: no such session directory (secagg-collect setup --session {} makes "
                                             "one)",
                                             dir, shell_word(dir)));
    return;
  }
  if (!S_ISDIR(st.st_mode))
    throw Error(Exit::noinput, fmt::format("{}: not a directory: a session is the directory secagg-collect setup makes",
                                           dir));
}

// A set a marker file holds must be sorted and within the set the round expected.
void check_set(const std::vector<uint32_t>& in, const std::vector<uint32_t>& expected, const std::string& file,
               const char* set, const char* of) {
  if (!sorted_unique(in) || !is_subset(in, expected))
    throw Error(Exit::data, fmt::format("{}: {} is not a sorted part of {}", file, set, of));
}

// The clients of `ids` whose message of round r is in the directory.
std::vector<uint32_t> with_message(const SessionDir& s, Round r, const std::vector<uint32_t>& ids) {
  std::vector<uint32_t> out;
  for (uint32_t id : ids)
    if (path_exists(s.transcript_path(r, id))) out.push_back(id);
  return out;
}

// The name of the set round i of st waits for: the set the round before it formed, "" for the ids.
std::string expected_set(const SessionStatus& st, size_t i) {
  return i == 0 ? std::string() : formed_set(st.rounds[i - 1].round, st.params.active());
}

DropoutMargin margin_of(const SessionStatus& st, size_t pending, const std::optional<Roster>& roster) {
  const Params& p = st.params;
  const std::vector<uint32_t>& set = st.rounds[pending].expected;
  DropoutMargin m;
  m.set = expected_set(st, pending);
  m.size = set.size();
  m.left = static_cast<int64_t>(set.size()) - p.threshold;
  if (!roster) return m;
  const NeighbourGraph graph(p, st.sid, *roster);
  if (graph.full()) return m;
  // The owners of secrets round 4 rebuilds: U2 once known (its dropouts' mask keys too), else S.
  const std::vector<uint32_t>& owners = pending >= 2 ? st.rounds[1].in : set;
  for (uint32_t x : owners) {
    const uint32_t near = count_common(graph.closed(x), set);
    if (!m.tightest || near < m.tightest_size) {
      m.tightest = x;
      m.tightest_size = near;
    }
  }
  if (m.tightest) m.tightest_left = static_cast<int64_t>(m.tightest_size) - p.threshold;
  return m;
}

// What to run once round 4 is done: what the sum is for.
void next_after(SessionStatus& st, const SessionDir& s) {
  const std::string params = shell_word(s.path(Marker::params)), agg = shell_word(st.aggregate);
  switch (st.params.sparse) {
    case SparseKind::union_plain:
    case SparseKind::union_private:
      st.next = fmt::format("secagg-collect select --session {} -o sel.msg", shell_word(st.dir));
      st.next_notes = {"the union of the clients' top indices, for a values session (setup --select)"};
      return;
    case SparseKind::values:
      st.next = fmt::format("secagg-quantize decode --params {} --select sel.msg --input {} -o average.npy", params,
                            agg);
      st.next_notes = {"sel.msg: the selection this session was set up with"};
      return;
    case SparseKind::none: break;
  }
  if (st.params.private_dp()) {
    st.next = fmt::format("secagg-quantize decode --params {} --input {} -o average.npy", params, agg);
    st.next_notes = {"the average of the clients' clipped updates, with their noise (docs/privacy.md)",
                     fmt::format("secagg-quantize account --params {} --rounds R: what R such rounds cost", params)};
    return;
  }
  if (st.params.is_shard()) {
    st.next = fmt::format("secagg-collect combine --session TOP {} ... -o total.vec", shell_word(st.dir));
    st.next_notes = {fmt::format("TOP: the top session {} this is a shard of, once every shard is done",
                                 session_hex(st.params.parent))};
    return;
  }
  if (st.params.quantized()) {
    st.next = fmt::format("secagg-quantize decode --params {} --input {} -o average.npy", params, agg);
    st.next_notes = {"the weighted average of the clients' updates"};
    return;
  }
  st.next = fmt::format("secagg-inspect --text {}", agg);
  st.next_notes = {"prints the sum; the session is done"};
}

void next_round_step(SessionStatus& st, size_t pending) {
  const RoundStatus& r = st.rounds[pending];
  const std::string of = pending == 0 ? fmt::format("clients 1-{}", st.params.clients) : expected_set(st, pending);
  st.next = fmt::format("secagg-collect {} --session {}{} FILE...", collect_subcommand(r.round), shell_word(st.dir),
                        r.round == Round::r4 ? " --text" : "");
  st.next_notes = {fmt::format("FILE: the {} messages of {} ({})", type_name(client_message(r.round)), of,
                               client_step(r.round))};
  if (!r.saved.empty())
    st.next_notes.push_back(fmt::format("serve saved {} of them in {}; serve --resume goes on from there",
                                        r.saved.size(), st.dir));
}

}  // namespace

const RoundStatus& SessionStatus::round(Round r) const {
  for (const RoundStatus& s : rounds)
    if (s.round == r) return s;
  throw Error(Exit::software, fmt::format("this session has no round {}", r));
}

SessionStatus session_status(const SessionDir& s) {
  require_directory(s.dir());
  SessionStatus st;
  st.dir = s.dir();
  std::tie(st.params, st.sid) = s.params();
  const Params& p = st.params;
  const bool active = p.active();
  std::vector<uint32_t> expected(p.clients);
  std::iota(expected.begin(), expected.end(), 1u);
  std::optional<Roster> roster;
  const char* of = "the ids [1, n]";
  for (Round r : active ? std::span<const Round>(kActiveRounds) : std::span<const Round>(kRounds)) {
    RoundStatus rs;
    rs.round = r;
    if (st.pending == Round::none) {
      rs.expected = expected;
      rs.done = s.has(SessionDir::marker_of(r));
    }
    if (st.pending == Round::none && !rs.done) {
      st.pending = r;
      if (SessionDir::keeps_messages(r)) rs.saved = with_message(s, r, expected);
    }
    if (rs.done) {
      const std::string file = s.path(SessionDir::marker_of(r));
      switch (r) {
        case Round::r0:
          roster = s.roster(st.sid);
          rs.in = roster->ids();
          break;
        case Round::r1: rs.in = s.u2(st.sid); break;
        case Round::r2: rs.in = s.survivors(st.sid); break;
        case Round::r3:
          rs.in = s.consistency(st.sid).signer_ids();
          break;
        case Round::r4:
          // The aggregate does not list who answered: the answers the directory keeps do.
          rs.in = with_message(s, r, expected);
          st.aggregate = file;
          break;
        case Round::none: break;
      }
      check_set(rs.in, expected, file, formed_set(r, active), of);
      std::set_difference(expected.begin(), expected.end(), rs.in.begin(), rs.in.end(),
                          std::back_inserter(rs.dropped));
      expected = rs.in;
      of = formed_set(r, active);
    }
    st.rounds.push_back(std::move(rs));
  }
  if (st.pending == Round::none) {
    next_after(st, s);
    return st;
  }
  size_t pending = 0;
  while (st.rounds[pending].round != st.pending) ++pending;
  st.margin = margin_of(st, pending, roster);
  next_round_step(st, pending);
  return st;
}

// ---- Words ----------------------------------------------------------------------------------------

namespace {

std::string modulus_words(const Params& p) {
  const Modulus m = p.ring();
  return m.pow2() ? fmt::format("2^{}", m.bits()) : fmt::format("{}", m.R);
}

std::string ids_text(const std::vector<uint32_t>& ids) { return format_ranges(ranges_of(ids), 6); }

std::string clients_text(size_t n) { return fmt::format("{} client{}", n, n == 1 ? "" : "s"); }

std::string round_line(const SessionStatus& st, size_t i) {
  const RoundStatus& r = st.rounds[i];
  const bool active = st.params.active();
  if (r.done) {
    std::string line = fmt::format("done     {} = {} ({})", formed_set(r.round, active),
                                   r.in.empty() ? "-" : ids_text(r.in), clients_text(r.in.size()));
    if (!r.dropped.empty()) line += "; dropped: " + ids_text(r.dropped);
    return line;
  }
  if (r.round != st.pending) return "pending";
  const std::string set = expected_set(st, i);
  std::string line = fmt::format("pending  {} messages from {}{}", type_name(client_message(r.round)),
                                 set.empty() ? "clients " : set + " = ", ids_text(r.expected));
  if (!r.saved.empty()) line += fmt::format("; saved: {}", ids_text(r.saved));
  return line;
}

std::vector<std::string> margin_lines(const SessionStatus& st) {
  if (!st.margin) return {"none needed: the session is done"};
  const DropoutMargin& m = *st.margin;
  const uint32_t t = st.params.threshold;
  const int64_t safe = m.safe();
  std::string head;
  if (safe > 0)
    head = fmt::format("{} more dropout{} {} safe", safe, safe == 1 ? "" : "s", safe == 1 ? "is" : "are");
  else if (safe == 0)
    head = "no more dropouts are safe";
  else
    head = "none: the session cannot finish";
  if (m.tightest)
    return {fmt::format("{}: client {}'s neighbourhood holds {} of {}", head, *m.tightest, m.tightest_size, m.set),
            fmt::format("(SecAgg+: t = {} in each neighbourhood; {} has {} in all)", t, m.set, m.size)};
  if (!m.set.empty()) return {fmt::format("{} ({} has {}, t = {})", head, m.set, clients_text(m.size), t)};
  std::vector<std::string> out{fmt::format("{} ({}, t = {})", head, clients_text(m.size), t)};
  if (st.params.neighbours + 1 < st.params.clients)
    out.push_back("SecAgg+: also t in each neighbourhood, known once U1 is");
  return out;
}

std::string computable(const SessionStatus& st) {
  if (!st.aggregate.empty())
    return fmt::format("the sum of the inputs of U3 ({}): {}", clients_text(st.round(Round::r2).in.size()),
                       st.aggregate);
  if (st.round(Round::r2).done) return "nothing about the inputs (it holds only their masked sum)";
  return "nothing about the inputs";
}

std::string json_ids(const std::vector<uint32_t>& ids) { return fmt::format("[{}]", fmt::join(ids, ", ")); }

std::string json_strings(const std::vector<std::string>& lines) {
  std::string out = "[";
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? ", " : "") + json_string(lines[i]);
  return out + "]";
}

}  // namespace

std::vector<std::string> params_words(const Params& p) {
  std::vector<std::string> out;
  std::string who = fmt::format("{} clients, threshold {}, ", p.clients, p.threshold);
  who += p.active() ? fmt::format("active, up to C = {} corrupted", p.corrupt) : std::string("honest-but-curious");
  out.push_back(who);
  if (p.neighbours + 1 >= p.clients)
    out.push_back(fmt::format("full SecAgg: each client shares with the {} others", p.clients - 1));
  else
    out.push_back(fmt::format("SecAgg+: each client shares with {} neighbours", p.neighbours));
  if (p.insecure_threshold) out.push_back("insecure low threshold: t <= n/2 (teaching only)");
  const std::string mod = modulus_words(p);
  switch (p.sparse) {
    case SparseKind::union_plain:
    case SparseKind::union_private:
      out.push_back(fmt::format("{} union: each client's top {} of {} indices, mod {}",
                                p.sparse == SparseKind::union_plain ? "plain" : "private", p.per_client,
                                p.model_length, mod));
      return out;
    case SparseKind::values:
      out.push_back(fmt::format("values of {} selected entries of {}, {} bits, mod {}", p.length - 1, p.model_length,
                                p.quant_bits, mod));
      return out;
    case SparseKind::none: break;
  }
  if (p.is_shard()) out.push_back(fmt::format("a shard of session {} (docs/shards.md)", session_hex(p.parent)));
  if (p.shard_clients)
    out.push_back(fmt::format("hierarchical top: each client is the server of a shard of at most {} clients",
                              p.shard_clients));
  if (p.private_dp()) {
    out.push_back(fmt::format("updates of {} floats (padded to {}), mod {}, every weight 1", p.dp_input_length,
                              p.length - 1, mod));
    out.push_back(fmt::format("distributed DP (ddg): L2 clip {:g}, noise multiplier {:.4g} for {} honest "
                              "contributors, delta {:g}",
                              p.dp_l2_clip, p.dp_noise_multiplier, p.dp_contributors, p.dp_delta));
    return out;
  }
  if (p.quantized())
    out.push_back(fmt::format("updates of {} floats in [-{:g}, {:g}], {} bits, weights up to {}, mod {}", p.length - 1,
                              p.clip, p.clip, p.quant_bits, p.max_weight, mod));
  else
    out.push_back(fmt::format("vectors of {} elements mod {} ({} masks)", p.length, mod, prg_name(p.prg_kind())));
  return out;
}

std::string status_text(const SessionStatus& st) {
  std::string out;
  auto put = [&](const std::string& label, const std::string& text) { out += fmt::format("{:<11} {}\n", label, text); };
  auto put_lines = [&](const std::string& label, const std::vector<std::string>& lines) {
    for (size_t i = 0; i < lines.size(); ++i) put(i ? "" : label, lines[i]);
  };
  put("session", fmt::format("{} (id {})", st.dir, session_hex(st.sid)));
  put_lines("parameters", params_words(st.params));
  for (size_t i = 0; i < st.rounds.size(); ++i)
    put(fmt::format("round {}", st.rounds[i].round), round_line(st, i));
  put_lines("margin", margin_lines(st));
  put("can compute", computable(st));
  std::vector<std::string> next{st.next};
  next.insert(next.end(), st.next_notes.begin(), st.next_notes.end());
  put_lines("next", next);
  return out;
}

std::string status_json(const SessionStatus& st) {
  const Params& p = st.params;
  const bool active = p.active();
  std::string out = fmt::format("{{\"session\": {}, \"id\": \"{}\",\n", json_string(st.dir), session_hex(st.sid));
  out += fmt::format(
      " \"parameters\": {{\"clients\": {}, \"threshold\": {}, \"neighbours\": {}, \"threat_model\": \"{}\", "
      "\"corrupt\": {}, \"modulus\": {}, \"length\": {}, \"words\": {}}},\n",
      p.clients, p.threshold, p.neighbours, threat_model_name(p.threat), p.corrupt, p.modulus, p.length,
      json_strings(params_words(p)));
  out += " \"rounds\": [";
  for (size_t i = 0; i < st.rounds.size(); ++i) {
    const RoundStatus& r = st.rounds[i];
    const bool known = r.done || r.round == st.pending;
    out += fmt::format("{}\n  {{\"round\": {}, \"state\": \"{}\", \"set\": \"{}\", \"expected\": {}", i ? "," : "",
                       round_number(r.round), r.done ? "done" : "pending", formed_set(r.round, active),
                       known ? json_ids(r.expected) : "null");
    if (r.done) out += fmt::format(", \"ids\": {}, \"dropped\": {}", json_ids(r.in), json_ids(r.dropped));
    if (r.round == st.pending) out += fmt::format(", \"saved\": {}", json_ids(r.saved));
    out += "}";
  }
  out += "],\n \"sets\": {";
  bool first = true;
  for (const RoundStatus& r : st.rounds)
    if (r.done) {
      out += fmt::format("{}\"{}\": {}", first ? "" : ", ", formed_set(r.round, active), json_ids(r.in));
      first = false;
    }
  out += "},\n";
  out += fmt::format(" \"pending\": {},\n",
                     st.pending == Round::none ? std::string("null") : fmt::format("{}", round_number(st.pending)));
  if (st.margin) {
    const DropoutMargin& m = *st.margin;
    out += fmt::format(" \"margin\": {{\"set\": {}, \"size\": {}, \"threshold\": {}, \"left\": {}, \"safe\": {}, "
                       "\"neighbourhood\": {}}},\n",
                       m.set.empty() ? std::string("null") : json_string(m.set), m.size, p.threshold, m.left, m.safe(),
                       m.tightest ? fmt::format("{{\"client\": {}, \"size\": {}, \"left\": {}}}", *m.tightest,
                                                m.tightest_size, m.tightest_left)
                                  : std::string("null"));
  } else {
    out += " \"margin\": null,\n";
  }
  out += fmt::format(" \"can_compute\": \"{}\", \"aggregate\": {},\n", st.aggregate.empty() ? "nothing" : "sum",
                     st.aggregate.empty() ? std::string("null") : json_string(st.aggregate));
  out += fmt::format(" \"next\": {}, \"next_notes\": {}}}\n", json_string(st.next), json_strings(st.next_notes));
  return out;
}

}  // namespace secagg

#include "shards.hpp"

#include <bit>
#include <map>

#include <fmt/format.h>

#include "error.hpp"
#include "fileio.hpp"
#include "vectors.hpp"

namespace secagg {

namespace {

bool same_spec(const Params& a, const Params& b) {
  return a.modulus == b.modulus && a.length == b.length && a.prg == b.prg && a.quant_bits == b.quant_bits &&
         std::bit_cast<uint64_t>(a.clip) == std::bit_cast<uint64_t>(b.clip) && a.max_weight == b.max_weight;
}

}  // namespace

Params shard_params(const Params& top, const SessionId& top_sid, uint32_t clients, const std::string& top_origin) {
  if (top.is_shard())
    throw Error(Exit::data, fmt::format("{}: is a shard's parameters, not a top session's: shards are one level deep",
                                        top_origin));
  if (top.sparse != SparseKind::none)
    throw Error(Exit::data, fmt::format("{}: a sparse session cannot be split into shards", top_origin));
  if (top.shard_clients != 0 && clients > top.shard_clients)
    throw Error(Exit::usage, fmt::format("--clients {} is above the {} clients a shard of {} may have (its "
                                         "--shard-clients, which sizes its modulus)",
                                         clients, top.shard_clients, top_origin));
  if (clients > top.capacity())
    throw Error(Exit::usage, fmt::format("--clients {} is above the {} clients of the whole federation {} (its "
                                         "--clients, which sizes its modulus)",
                                         clients, top.capacity(), top_origin));
  Params p;
  p.clients = clients;
  p.modulus = top.modulus;
  p.length = top.length;
  p.prg = top.prg;
  p.quant_bits = top.quant_bits;
  p.clip = top.clip;
  p.max_weight = top.max_weight;
  p.parent = top_sid;
  return p;
}

void check_shard_of(const Params& shard, const Params& top, const SessionId& top_sid, const std::string& origin) {
  if (!shard.is_shard())
    throw Error(Exit::data, fmt::format("{}: is not a shard session (set up without --shard-of)", origin));
  if (shard.parent != top_sid)
    throw Error(Exit::data, fmt::format("{}: is a shard of session {}, not of {}", origin, session_hex(shard.parent),
                                        session_hex(top_sid)));
  if (!same_spec(shard, top))
    throw Error(Exit::data, fmt::format("{}: its modulus, length, quantization spec or PRG differ from its top "
                                        "session's",
                                        origin));
}

namespace {

// A finished shard's aggregate, checked against its own session.
std::vector<uint64_t> read_shard_aggregate(const SessionDir& s, const Params& sp, const SessionId& ssid) {
  const std::string agg = s.path(Marker::aggregate);
  if (!s.has(Marker::aggregate))
    throw Error(Exit::noinput, fmt::format("{}: missing: shard {} has not finished (its round 4, secagg-collect "
                                           "unmask, writes it)",
                                           agg, s.dir()));
  return read_vector(read_file(agg, max_input_bytes(sp.length)), sp.ring(), sp.length, &ssid, agg);
}

}  // namespace

std::vector<uint64_t> shard_input(const Params& top, const SessionId& top_sid, const std::string& shard_dir,
                                  const std::string& top_origin) {
  if (top.shard_clients == 0)
    throw Error(Exit::data, fmt::format("{}: not a hierarchical top session (set up with --shard-clients): its "
                                        "clients mask inputs of their own, not a shard's aggregate",
                                        top_origin));
  const SessionDir s(shard_dir);
  const auto [sp, ssid] = s.params();
  check_shard_of(sp, top, top_sid, s.path(Marker::params));
  if (sp.clients > top.shard_clients)
    throw Error(Exit::data, fmt::format("{}: a shard of {} clients, above the {} of {} (its --shard-clients)",
                                        s.path(Marker::params), sp.clients, top.shard_clients, top_origin));
  return read_shard_aggregate(s, sp, ssid);
}

Combined combine_shards(const SessionDir& top, const std::vector<std::string>& shard_dirs) {
  const auto [tp, tsid] = top.params();
  if (tp.is_shard())
    throw Error(Exit::data, fmt::format("{}: is a shard's parameters, not a top session's", top.path(Marker::params)));
  if (shard_dirs.empty()) throw Error(Exit::usage, "combine needs at least one shard session directory");
  const Modulus R = tp.ring();
  Combined c;
  c.sum.assign(tp.length, 0);
  c.contributors = 0;
  std::map<SessionId, std::string> seen;
  for (const std::string& dir : shard_dirs) {
    const SessionDir s(dir);
    const auto [sp, ssid] = s.params();
    check_shard_of(sp, tp, tsid, s.path(Marker::params));
    if (auto [it, fresh] = seen.emplace(ssid, dir); !fresh)
      throw Error(Exit::usage, fmt::format("{} and {} are the same shard session ({}): each shard is added once",
                                           it->second, dir, session_hex(ssid)));
    c.clients += sp.clients;
    if (c.clients > tp.capacity())
      throw Error(Exit::data, fmt::format("{}: the shards given have {} clients in all, more than the {} of {}, for "
                                          "which its modulus is sized: their sum could wrap",
                                          dir, c.clients, tp.capacity(), top.path(Marker::params)));
    const std::vector<uint64_t> v = read_shard_aggregate(s, sp, ssid);
    for (size_t i = 0; i < v.size(); ++i) c.sum[i] = R.add(c.sum[i], v[i]);
    ShardSum one{.dir = dir, .clients = sp.clients, .contributors = -1};
    if (s.has(Marker::survivors)) one.contributors = static_cast<int64_t>(s.survivors(ssid).size());
    if (one.contributors < 0 || c.contributors < 0)
      c.contributors = -1;
    else
      c.contributors += one.contributors;
    c.shards.push_back(std::move(one));
  }
  return c;
}

}  // namespace secagg

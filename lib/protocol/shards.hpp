// Sharded federations (docs/shards.md): a federation too large for one server process is split
// into shard sessions, each an ordinary session of its own clients with its own server, whose
// parameters name the top session they belong to. Their aggregates are then either added by one
// party (combine) or summed by a top-level secure aggregation whose clients are the shard
// servers (a hierarchical top session, Params::shard_clients; the shard server masks its shard's
// aggregate as its input: secagg-mask --shard).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "messages.hpp"
#include "session_dir.hpp"

namespace secagg {

// The parameters of a shard of `top` with n clients: the top session's modulus, vector length,
// quantization spec and PRG, and its id as parent; threshold, graph and threat model are the
// caller's. Throws Error(Exit::data) naming top_origin if top is itself a shard, and
// Error(Exit::usage) if n is above what the top session allows (its capacity, or its
// shard_clients in a hierarchical top session).
Params shard_params(const Params& top, const SessionId& top_sid, uint32_t clients, const std::string& top_origin);

// A shard's parameters against its top session's: Error(Exit::data) naming `origin` unless shard
// names top_sid as its parent and shares modulus, length, quantization spec and PRG.
void check_shard_of(const Params& shard, const Params& top, const SessionId& top_sid, const std::string& origin);

struct ShardSum {
  std::string dir;
  uint32_t clients = 0;      // n of the shard
  int64_t contributors = -1;  // |U3|, from its survivors.msg; -1 if the directory has none
};

struct Combined {
  std::vector<uint64_t> sum;  // the sum mod R of the shards' aggregates
  std::vector<ShardSum> shards;
  uint64_t clients = 0;       // sum of the shards' n
  int64_t contributors = -1;  // sum of the shards' |U3|; -1 if some shard's is unknown
};

// The input of a hierarchical top session's client that is the server of shard `shard_dir`: that
// shard's aggregate. Refuses (Exit::data, naming the file) a top session without shard_clients, a
// shard of another session or with more clients than shard_clients; Exit::noinput if the shard
// has not finished.
std::vector<uint64_t> shard_input(const Params& top, const SessionId& top_sid, const std::string& shard_dir,
                                  const std::string& top_origin);

// Adds the aggregates of finished shard sessions of `top`, one at a time (memory: two vectors).
// Refuses, naming the file: a shard of another top session or with other parameters
// (Exit::data), a shard given twice (Exit::usage, both directories), an unfinished shard
// (Exit::noinput: its aggregate.vec is missing), and shards whose clients together exceed the top
// session's capacity, for which the modulus could wrap (Exit::data).
Combined combine_shards(const SessionDir& top, const std::vector<std::string>& shard_dirs);

}  // namespace secagg

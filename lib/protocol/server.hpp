// The server-side pieces below the round engine (server_session.hpp): a client message with
// where it came from, a fresh session id, and round 4's last step, removing the masks.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "graph.hpp"
#include "messages.hpp"
#include "progress.hpp"

namespace secagg {

struct Incoming {
  std::string origin;  // file name or peer, for messages
  Envelope env;
};

SessionId new_session_id();

// What round 4 reconstructs from the responses of at least t clients of U3: the self-mask seeds
// of U3 and the mask keys of U2 \ U3.
struct Recovered {
  std::vector<std::pair<uint32_t, Secret32>> self_seeds;  // u in U3
  std::vector<std::pair<uint32_t, Secret32>> mask_keys;   // u in U2 \ U3
  std::vector<uint32_t> responders;                       // U4
  // Honest-but-curious sessions: a responder whose share the reconstruction found inconsistent
  // with the others and left out (owner, responder; self_mask or mask key).
  struct Culprit {
    uint32_t owner = 0, responder = 0;
    bool self_mask = false;
  };
  std::vector<Culprit> culprits;
};

// Remove every mask from sum (the sum of the y_u of U3) over elements [begin, end), where
// sum points at element `begin`. Ranges are independent, so a large session's unmasking
// can be split over threads or machines. `progress` (if set) hears the elements finished, of
// end - begin.
void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u3,
                  const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end, unsigned threads,
                  const ProgressFn& progress = {});
// The same with the session's neighbour graph already built (the round engine keeps one).
void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, const NeighbourGraph& graph,
                  std::span<const uint32_t> u3, const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end,
                  unsigned threads, const ProgressFn& progress = {});

}  // namespace secagg

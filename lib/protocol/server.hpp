// The server side of the protocol, one function per round. Each takes the
// messages a round received (with the file or peer they came from, for error
// messages), validates every one of them before it computes anything, and
// aborts (Error(Exit::aborted)) when fewer than t clients remain.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "graph.hpp"
#include "messages.hpp"

namespace secagg {

struct Incoming {
  std::string origin;  // file name or peer, for messages
  Envelope env;
};

SessionId new_session_id();

// Every client message of rounds 1, 2 and 4 must carry its sender's signature by the signing
// key of its roster entry; one that does not is refused (Error(Exit::data)) like any bad message.

// Round 0: the advertised keys of U1, sorted by id. Each advert must be signed by the signing
// key it advertises.
Roster collect_keys(const Params& p, const SessionId& sid, std::span<const Incoming> adverts);

// Round 1: U2 (clients whose shares arrived) and, for each v in U2, its inbox.
struct ShareRound {
  std::vector<uint32_t> u2;
  std::map<uint32_t, SealedShares> inboxes;
};
// `graph`: the session's neighbour graph if the caller has it (built from (sid, roster) if null).
ShareRound collect_shares(const Params& p, const SessionId& sid, const Roster& roster,
                          std::span<const Incoming> shares,
                          const NeighbourGraph* graph = nullptr);

// Round 2, streaming: each masked input is checked and added into the running sum as it
// arrives, so the server holds one vector however many clients there are.
class MaskedCollector {
 public:
  // Keeps the signing keys of U2 from the roster (not the roster itself).
  MaskedCollector(const Params& p, const SessionId& sid, const Roster& roster, std::vector<uint32_t> u2);
  // Checks one message (type, session, sender in U2, its signature, not a duplicate, modulus,
  // length, elements < R) and adds it. On Error(Exit::data) the sum and U3 are unchanged.
  void add(const Incoming& m);
  // The same for a batch, checked on `threads` threads; on Error(Exit::data) nothing is added.
  void add_all(std::span<const Incoming> ms, unsigned threads);
  // U3, sorted. Throws Error(Exit::aborted) if it has fewer than t clients.
  std::vector<uint32_t> finish() const;
  // The sum mod R of the masked inputs added so far.
  std::vector<uint64_t>& sum() { return sum_; }

 private:
  Params p_;
  SessionId sid_;
  std::vector<uint32_t> u2_;
  Roster keys_;                           // the roster entries of U2, for their signing keys
  std::map<uint32_t, std::string> seen_;  // sender -> origin
  std::vector<uint64_t> sum_;
  std::vector<uint64_t> check(const Incoming& m) const;  // everything but duplicates; returns y
};

// Round 2 over a batch of messages: U3 and the sum of their masked inputs.
struct MaskedRound {
  std::vector<uint32_t> u3;
  std::vector<uint64_t> sum;
};
MaskedRound collect_masked(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                           std::span<const Incoming> masked);

// Round 4: reconstruct the self-mask seeds of U3 and the mask keys of U2 \ U3 from the
// responses of at least t clients of U3.
struct Recovered {
  std::vector<std::pair<uint32_t, Secret32>> self_seeds;  // u in U3
  std::vector<std::pair<uint32_t, Secret32>> mask_keys;   // u in U2 \ U3
  std::vector<uint32_t> responders;                       // U4
};
// Round 4, one message: checks type, session, that the sender is in U3, its signature, and that it answers
// exactly for its neighbours (self-mask shares for N[v] ∩ U3, mask-key shares for
// N[v] ∩ (U2 \ U3)). Does not check for duplicates across messages. Throws Error(Exit::data).
UnmaskShares check_unmask_shares(const Params& p, const SessionId& sid, const Roster& roster,
                                 std::span<const uint32_t> u2, std::span<const uint32_t> u3, const Incoming& m,
                                 const NeighbourGraph* graph = nullptr);  // built from (sid, roster) if null

// Round 4 in two steps, which recover_secrets chains. First every response is checked (envelope
// and signature, duplicates, then the body: exactly the owners it must answer for), on all
// threads; the bodies come back sorted by sender.
struct CheckedResponses {
  std::vector<uint32_t> senders;     // U4, sorted
  std::vector<UnmaskShares> bodies;  // parallel to senders
};
CheckedResponses check_unmask_responses(const Params& p, const SessionId& sid, const Roster& roster,
                                        std::span<const uint32_t> u2, std::span<const uint32_t> u3,
                                        std::span<const Incoming> responses);
// Then the Shamir reconstruction proper: each secret from the first t responders of its owner's
// neighbourhood, and each recovered mask key checked against the one its owner advertised.
Recovered reconstruct_secrets(const Params& p, const Roster& roster, std::span<const uint32_t> u2,
                              std::span<const uint32_t> u3, const CheckedResponses& responses);

Recovered recover_secrets(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                          std::span<const uint32_t> u3, std::span<const Incoming> responses);

// Remove every mask from sum (the sum of the y_u of U3) over elements [begin, end), where
// sum points at element `begin`. Ranges are independent, so a large session's unmasking
// can be split over threads or machines.
void remove_masks(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u3,
                  const Recovered& rec, uint64_t* sum, uint64_t begin, uint64_t end, unsigned threads);

}  // namespace secagg

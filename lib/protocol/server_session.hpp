// The server side of a session, one round at a time: the one engine that file mode
// (secagg-collect keys, shares, masked, unmask), socket mode (serve) and the simulator drive
// (docs/architecture.md, "The round engine").
//
// Each round has the same shape. accept() checks one client message fully (envelope, sender
// in the round's set, its signature, its body) and only then adds it; a refused message
// (Error(Exit::data)) leaves the round as it was. accept_all() does the same for a batch, checked
// on several threads, all or nothing. close() ends the round: it aborts the session
// (Error(Exit::aborted)) when fewer than t clients answered, and otherwise yields what the round
// produced (RoundResult: the answers to the clients, the round's transcript files) and opens the
// next round. The engine holds no sockets and writes no files: record() hands a round's files to
// the session directory's writer (session_dir.hpp), and the caller decides when.
//
// Round 2 streams: each masked input is added into one running sum as it is accepted, so the
// server holds one vector however many clients there are.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph.hpp"
#include "messages.hpp"
#include "protocol.hpp"
#include "roster_window.hpp"
#include "server.hpp"
#include "session_dir.hpp"

namespace secagg {

// A share revealed in round 4 that does not match what its dealer committed to in round 1 (active
// sessions), or, without commitments, that does not agree with the other responders' shares: left
// out of the reconstruction.
struct BadShare {
  uint32_t responder = 0, owner = 0;
  ShareKind kind = ShareKind::self_mask;
  bool committed = true;  // found against a commitment (else against the other shares)
};

// A checked round-4 answer: its shares (the bad ones taken out) and what was wrong with it.
struct CheckedAnswer {
  UnmaskShares shares;
  std::vector<BadShare> bad;
};

// What closing a round produced.
struct RoundResult {
  Round round = Round::none;
  // The round's set, sorted: U1, U2, U3, U4 (an active session's round 3: the signers of U3), or
  // the responders of round 4.
  std::vector<uint32_t> in;
  // The round's marker message (roster.msg, u2.msg, survivors.msg, consistency.msg, aggregate.vec), which is also
  // every client's answer except in round 1, where each client of U2 gets its own inbox.
  Bytes marker;
  std::map<uint32_t, Bytes> inboxes;
  // SecAgg+ rounds 0, 2 and 3: client id's own answer, the round's message restricted to the
  // client's window of the ring (its part of the roster, with proofs; U3; the consistency message),
  // made on demand so that no one holds n of them at once; empty otherwise.
  std::function<Bytes(uint32_t id)> personal;
  // Rounds 0, 1 and 3: the accepted client messages, as received, for the transcript (rounds 2 and
  // 4 save theirs as they arrive: SessionDir::keeps_messages).
  std::map<uint32_t, Bytes> messages;
  std::vector<uint64_t> aggregate;  // round 4: the sum of the inputs of U3, mod R
  // Round 4: what the reconstruction worked around (docs/protocol.md, "Bad shares"): shares left
  // out because they do not match their dealer's commitment, and the owners each responder holds
  // no share of (its round-1 bundle did not open), as (responder, owner).
  std::vector<BadShare> bad_shares;
  std::vector<std::pair<uint32_t, uint32_t>> missing;
  // The answer to client id of `in` (a copy), and its size (made, but not copied, when personal).
  Bytes answer(uint32_t id) const {
    if (personal) return personal(id);
    return round == Round::r1 ? inboxes.at(id) : marker;
  }
  size_t answer_size(uint32_t id) const {
    if (personal) return personal(id).size();
    return (round == Round::r1 ? inboxes.at(id) : marker).size();
  }
};

class ServerSession {
 public:
  // Round 0 of a new session.
  ServerSession(const Params& p, const SessionId& sid);
  // Round r of a session whose earlier rounds gave roster (r >= 1), u2 (r >= 2) and u3 (r = 4);
  // round 4's masked sum starts at zero (tests and benchmarks that only recover secrets).
  ServerSession(const Params& p, const SessionId& sid, Round r, Roster roster, std::vector<uint32_t> u2 = {},
                std::vector<uint32_t> u3 = {});
  // Round r of a session whose earlier rounds are in the directory s (its params are p and sid):
  // reads the roster (r >= 1), U2 (r >= 2), U3 (r >= 3) and, in an active session's round 4, U4
  // from the consistency message (checked again: every signature over U3); the masked sum is read
  // when round 4 closes. Errors are SessionDir's (a missing file names the step that makes it).
  static ServerSession load(const SessionDir& s, const Params& p, const SessionId& sid, Round r);
  // The first round of s without its marker (serve --resume); none if the session is done.
  static Round first_open_round(const SessionDir& s);

  Round round() const { return round_; }
  const Params& params() const { return p_; }
  const SessionId& session() const { return sid_; }
  const Roster& roster() const { return roster_; }
  // The clients the round waits for, sorted: [1, n], U1, U2, U3, or in an active session's round 4 U4.
  const std::vector<uint32_t>& expected() const { return expected_; }
  size_t accepted() const { return origin_.size(); }
  bool has(uint32_t id) const { return origin_.count(id) != 0; }
  // Every expected client has answered.
  bool complete() const { return origin_.size() == expected_.size(); }
  // The SecAgg+ neighbour graph, built once from the roster (round 1 on).
  const NeighbourGraph& graph();
  // Round 2: the sum mod R of the masked inputs accepted so far; round 4 (until it closes): that
  // of U3, once loaded.
  const std::vector<uint64_t>& masked_sum() const { return sum_; }

  // One message, checked whole, then added. A second message from an accepted sender is refused.
  void accept(const Incoming& m);
  // A batch, all or nothing, checked on `threads` threads. Of several bad messages, the one
  // reported is the one a serial check would meet first: in rounds 0, 1 and 4 the envelopes
  // (type, session, sender, signature) of all come first, then duplicate senders, then the bodies
  // in sender order; in round 2 each message is checked whole, in the batch's order, then the
  // duplicates.
  void accept_all(std::span<const Incoming> ms, unsigned threads);

  // Round 4's Shamir reconstruction alone (close() does it first): every self-mask seed of U3
  // and mask key of U2 \ U3 from the accepted responses.
  Recovered recover() const;
  // Round 4's close in steps, for callers that time or report them.
  enum class Step { reconstruct, remove_masks, done };
  // Ends the round and opens the next (none after round 4). threads: for round 4's mask removal.
  // on_step (round 4) is called before each step and when it is done; progress (round 4) hears
  // the elements of the sum whose masks are removed, of the session's length.
  RoundResult close(unsigned threads, const std::function<void(Step)>& on_step = {},
                    const ProgressFn& progress = {});
  // Round 4 of a loaded session, for elements [begin, end) only (secagg-collect unmask --range;
  // docs/protocol.md, "Range unmasking"): the reconstruction, then the masks of those elements
  // removed from the masked sum's, read from the directory without the rest. The result's
  // aggregate holds the end - begin elements, its marker is empty, and the round stays open: the
  // session directory is not to be written. progress hears the elements done, of end - begin.
  RoundResult unmask_range(uint64_t begin, uint64_t end, unsigned threads, const ProgressFn& progress = {});
  // An active session's round 3 set U4, once round 3 is closed.
  const std::vector<uint32_t>& signed_u3() const { return u4_; }
  // Writes a closed round's files into the session directory, its marker last. Call it before
  // the next round's close (round 2's masked sum is the next round's running vector).
  void record(const RoundResult& r, const SessionDir::Writer& w) const;

 private:
  ServerSession() = default;
  void open(Round r);
  void check_envelope(const Incoming& m) const;
  RosterEntry check_advert(const Incoming& m) const;
  SealedShares check_shares(const Incoming& m);
  // A masked input checked whole (envelope, signature, body, the packed elements' size, padding
  // and range), its packed elements returned as a view into m.env.body.
  std::span<const uint8_t> check_masked(const Incoming& m) const;
  CheckedAnswer check_unmask(const Incoming& m);
  // An active session's round-1 commitments of the shares one holder holds, sorted by dealer.
  struct HeldCommitments {
    std::vector<uint32_t> dealers;
    std::vector<ShareCommitment> commitments;
    const ShareCommitment* find(uint32_t dealer) const;
  };
  // Client `holder`'s: kept from round 1 in memory, or else read from its inbox in the session
  // directory into `loaded`.
  const HeldCommitments& commitments_of(uint32_t holder, HeldCommitments& loaded) const;
  SurvivorSignature check_signature(const Incoming& m);
  // A stored consistency message, checked as the clients check it: c, or Error(Exit::data).
  Consistency checked_consistency(Consistency c, const std::string& origin);
  Bytes signed_bytes(uint32_t u);
  template <class Body>
  void add_checked(const Incoming& m, std::map<uint32_t, Body>& into, Body (ServerSession::*check)(const Incoming&));
  template <class Body>
  void add_all_checked(std::span<const Incoming* const> sorted, unsigned threads, std::map<uint32_t, Body>& into,
                       Body (ServerSession::*check)(const Incoming&));
  void record(const Incoming& m);
  void refuse_duplicate(const Incoming& m, const std::map<uint32_t, std::string>& seen) const;
  void refuse_repeated_keys(const Incoming& m, const RosterEntry& e) const;
  void require_threshold(size_t got) const;
  void require_quorums(const std::vector<uint32_t>& signers);
  RoundResult close_keys();
  RoundResult close_shares(unsigned threads);
  RoundResult close_masked();
  RoundResult close_consistency();
  // Round 4's result from its reconstruction and the (part of the) aggregate it unmasked: who
  // answered, and every bad or missing share the log names.
  RoundResult round4_result(Recovered rec, std::vector<uint64_t> aggregate) const;
  RoundResult close_unmask(unsigned threads, const std::function<void(Step)>& on_step, const ProgressFn& progress);
  std::vector<uint32_t> dropped() const;  // U2 \ U3

  Params p_;
  SessionId sid_{};
  Round round_ = Round::r0;
  std::vector<uint32_t> expected_;
  std::map<uint32_t, std::string> origin_;  // the round's accepted senders -> their message's origin
  Roster roster_;
  std::optional<NeighbourGraph> graph_;
  std::shared_ptr<const RosterWindows> windows_;  // SecAgg+, from round 1 on: the roster's tree and ring
  const std::shared_ptr<const RosterWindows>& windows();  // built from the roster when first needed
  std::vector<uint32_t> u2_, u3_, u4_;  // u4_: an active session's signers of U3
  std::optional<Digest32> u3_digest_;   // survivor_digest(u3_), once round 3 needs it
  // Round 0: the accepted adverts and each public key they hold (-> its owner).
  std::map<uint32_t, RosterEntry> adverts_;
  std::map<Key32, uint32_t> advertised_;
  std::map<uint32_t, SealedShares> shares_;     // round 1
  std::vector<uint64_t> sum_;                   // round 2's running sum; round 4's masked sum
  std::optional<SessionDir> sum_in_;            // round 4 loaded: the directory that holds it
  std::map<uint32_t, SurvivorSignature> signatures_;  // round 3
  std::map<uint32_t, Bytes> kept_;                    // rounds 0, 1, 3: the accepted messages
  std::map<uint32_t, CheckedAnswer> responses_;  // round 4
  // Active sessions, from round 1 on: each holder's inbox commitments (holder -> dealers, commitments).
  std::map<uint32_t, HeldCommitments> commitments_;
  std::optional<SessionDir> dir_;  // a loaded session: where the inboxes are
};

// The set round r forms, by the paper's names: U1, U2, U3, in an active session's round 3 U4 (the
// signers of U3), and in round 4 U4 (an active session's U5), the clients that answered.
const char* formed_set(Round r, bool active);

// What a range part was computed from (UnmaskPart::inputs): BLAKE2b-256 of "secagg/v1 unmask-part
// inputs" || the session id || for each round-4 message in sender order, le32 sender || its
// checksum. Parts with one digest were unmasked from the same secrets.
Digest32 round4_inputs_digest(const SessionId& sid, std::span<const Incoming> answers);

// One line per thing round 4 worked around, for the log: "client 3's share of client 5's self-mask
// seed does not match ...", "client 4 holds no share of client 2 ...".
std::vector<std::string> round_warnings(const RoundResult& r);

// Whole rounds at once, on the engine, for tests and benchmarks: each runs one round over a
// batch of messages and returns what it produced.
Roster collect_keys(const Params& p, const SessionId& sid, std::span<const Incoming> adverts);
struct ShareRound {
  std::vector<uint32_t> u2;
  std::map<uint32_t, SealedShares> inboxes;
};
ShareRound collect_shares(const Params& p, const SessionId& sid, const Roster& roster,
                          std::span<const Incoming> shares);
struct MaskedRound {
  std::vector<uint32_t> u3;
  std::vector<uint64_t> sum;
};
MaskedRound collect_masked(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                           std::span<const Incoming> masked);
Recovered recover_secrets(const Params& p, const SessionId& sid, const Roster& roster, std::span<const uint32_t> u2,
                          std::span<const uint32_t> u3, std::span<const Incoming> responses);

}  // namespace secagg

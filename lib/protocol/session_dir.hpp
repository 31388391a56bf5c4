// The server's session directory: its state between rounds and the audit transcript of the
// session. Every file in it is a secagg message, and this class is the only code that names,
// reads or writes one (docs/architecture.md, "Session directory").
//
//   params.msg          setup            session parameters                          (marker)
//   advert-<id>.msg     round 0          client <id>'s advert, as received
//   roster-<id>.msg     round 0          SecAgg+: client <id>'s window of the roster, with proofs
//   roster.msg          round 0          U1 and the advertised keys                  (marker)
//   share-keys-<id>.msg round 1          client <id>'s share-keys message, as received
//   inbox-<id>.msg      round 1          the shares addressed to client <id>
//   u2.msg              round 1          U2                                          (marker)
//   masked-<id>.msg     round 2          client <id>'s masked input, as received
//   masked-sum.vec      round 2          the sum mod R of the masked inputs of U3
//   survivors-<id>.msg  round 2          SecAgg+: U3 within client <id>'s window of the ring
//   survivors.msg       round 2          U3                                          (marker)
//   signature-<id>.msg  round 3          client <id>'s signature over U3, as received (active sessions)
//   consistency-<id>.msg round 3         active SecAgg+: consistency.msg within client <id>'s window
//   consistency.msg     round 3          U3 and the signatures of U4 over it (active sessions; marker)
//   unmask-<id>.msg     round 4          client <id>'s unmasking answer, as received
//   aggregate.vec       round 4          the sum of the inputs of U3, mod R          (marker)
//
// A step's marker is written last, so that a directory with the marker holds the whole step
// (serve --resume starts from the first step without one), and exactly once: a Writer holds an
// exclusive lock on the directory (flock(2)) from the check that the marker is absent to the
// marker's creation, which itself refuses to replace a file (link(2)). Of two concurrent
// collections of one round, the second waits for the first and is then refused (Exit::cantcreat)
// with the same words as a collection started after the round was done, having written nothing.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "messages.hpp"

namespace secagg {

// The file that marks a step of the session as done.
enum class Marker : uint8_t { params, roster, u2, survivors, consistency, aggregate };

class SessionDir {
 public:
  explicit SessionDir(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // The file names, also for labelling a message by the file it would be (secagg-sim keeps its
  // session in memory).
  static const char* name(Marker m);
  static std::string inbox_name(uint32_t id);
  // SecAgg+: client id's own answer to round r (0, 2, 3): roster-<id>.msg, survivors-<id>.msg,
  // consistency-<id>.msg.
  static std::string personal_name(Round r, uint32_t id);
  static std::string masked_name(uint32_t id);
  static std::string unmask_name(uint32_t id);

  // Paths, for messages and for readers of one file.
  std::string path(Marker m) const { return dir_ + "/" + name(m); }
  std::string inbox_path(uint32_t id) const { return dir_ + "/" + inbox_name(id); }
  std::string personal_path(Round r, uint32_t id) const { return dir_ + "/" + personal_name(r, id); }
  std::string masked_path(uint32_t id) const { return dir_ + "/" + masked_name(id); }
  std::string unmask_path(uint32_t id) const { return dir_ + "/" + unmask_name(id); }
  std::string masked_sum_path() const;

  // Whether the step is done (its marker exists).
  bool has(Marker m) const;
  // Refuses (Exit::cantcreat) when the step is done: rounds are collected once, setup is run once.
  void require_absent(Marker m) const;

  // Each reads and checks one file; a missing file is Exit::noinput with a hint naming the step
  // that makes it. params refuses (Exit::data) parameters that validate_params refuses.
  std::pair<Params, SessionId> params() const;
  Roster roster(const SessionId& sid) const;
  std::vector<uint32_t> u2(const SessionId& sid) const;
  std::vector<uint32_t> survivors(const SessionId& sid) const;
  Consistency consistency(const SessionId& sid) const;
  std::vector<uint64_t> masked_sum(const Params& p, const SessionId& sid) const;
  // Elements [begin, end) of the masked sum, checked as masked_sum checks the whole (its checksum
  // over the whole file, hashed as it streams past), holding only those elements: a range task's
  // memory is O(end - begin) (secagg-collect unmask --range).
  std::vector<uint64_t> masked_sum_range(const Params& p, const SessionId& sid, uint64_t begin, uint64_t end) const;

  // The marker that ends round r's step (roster, u2, survivors, consistency, aggregate).
  static Marker marker_of(Round r);
  // Whether round r's client messages are saved as they arrive (masked-<id>.msg, unmask-<id>.msg:
  // rounds 2 and 4, whose messages a resumed server cannot ask for again). Every round's accepted
  // messages are in the transcript once the round is done (transcript_path), for the audit.
  static bool keeps_messages(Round r);
  // Client id's message of round r in the transcript: advert-, share-keys-, masked-, signature-,
  // unmask-<id>.msg.
  static std::string transcript_name(Round r, uint32_t id);
  std::string transcript_path(Round r, uint32_t id) const { return dir_ + "/" + transcript_name(r, id); }
  // Client id's message of round r as saved while the round was open (serve --resume): nullopt
  // if it has none. Only for a round that keeps_messages.
  std::optional<Bytes> saved_message(Round r, uint32_t id, const Params& p) const;
  std::string message_path(Round r, uint32_t id) const;

  // The writes of one step, in the order of the table above; the marker's write ends the step.
  class Writer {
   public:
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;
    Writer(Writer&& o) noexcept;
    Writer& operator=(Writer&&) = delete;
    ~Writer();

    // The files written before a marker replace what a failed run of the step left there.
    void inbox(uint32_t id, std::span<const uint8_t> msg) const;
    void personal(Round r, uint32_t id, std::span<const uint8_t> msg) const;  // a SecAgg+ client's own answer
    // Client id's message of this step's round (keeps_messages), as received.
    void message(uint32_t id, std::span<const uint8_t> msg) const;
    // Client id's message of round r for the transcript, as received.
    void transcript(Round r, uint32_t id, std::span<const uint8_t> msg) const;
    void masked_sum(std::span<const uint8_t> msg) const;
    // The step's marker, created exclusively: the step is done.
    void finish(std::span<const uint8_t> msg) const;

   private:
    friend class SessionDir;
    Writer(const SessionDir& s, Marker m);
    const SessionDir* s_;
    Marker step_;
    int lock_fd_ = -1;
  };
  // Locks the directory (waiting for another Writer to finish) and refuses, as require_absent
  // does, a step that is done. Setup creates the directory first.
  Writer begin(Marker step) const;

 private:
  Envelope read(Marker m, MsgType type, const char* made_by) const;
  std::string dir_;
};

}  // namespace secagg

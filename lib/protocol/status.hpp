// The server's view of a session at any point (secagg-collect status), from its session directory
// alone: the parameters, each round done or pending, the sets U1 to U4 (an active session's U5),
// who dropped in which round, how many more clients may drop, what the server can compute, and the
// next command.
//
// It reads and never writes, and takes no lock: every file of the directory is renamed into place
// whole and each round's marker is written last (session_dir.hpp), so a directory that a running
// serve is writing, or that an aborted round left, reads as the rounds whose markers exist followed
// by pending ones. An aborted round leaves no marker, so it reads as pending, and it is: it can be
// collected again with more messages. Of the pending round it sees only what the directory keeps:
// the masked inputs and unmasking answers serve saves as they arrive (rounds 2 and 4), not the
// messages of rounds 0, 1 and 3, which serve holds in memory until the round closes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "session_dir.hpp"

namespace secagg {

struct RoundStatus {
  Round round = Round::none;
  bool done = false;
  // The clients the round waits for, once the round before it is done (empty before): the ids
  // [1, n], U1, U2, U3, or in an active session's round 4 U4.
  std::vector<uint32_t> expected;
  std::vector<uint32_t> in;       // done: the set it formed (formed_set names it)
  std::vector<uint32_t> dropped;  // done: expected \ in
  // Pending rounds 2 and 4: the clients whose message serve saved as it arrived.
  std::vector<uint32_t> saved;
};

// How many more clients may drop out, whoever they are, and every round still close: the pending
// round's set S has |S| - t to spare. In SecAgg+ each client x's secrets are rebuilt from the shares
// of its neighbourhood N[x] (and, in an active session, signed for in round 3 by it), so each needs
// t clients of S in N[x]; the tightest neighbourhood decides, for x in U2 (U1 while round 1 is
// pending). Before round 0 closes there is no graph yet: only |S| - t is known.
struct DropoutMargin {
  std::string set;  // S: "U1", ..., or "" for the ids [1, n] before round 0 closes
  uint64_t size = 0;
  int64_t left = 0;  // |S| - t
  // SecAgg+ with the graph known: the x whose N[x] holds the fewest clients of S (the smallest id
  // of those), how many, and that count minus t (negative: the session cannot finish).
  std::optional<uint32_t> tightest;
  uint64_t tightest_size = 0;
  int64_t tightest_left = 0;
  int64_t safe() const { return tightest ? tightest_left : left; }
};

struct SessionStatus {
  std::string dir;
  SessionId sid{};
  Params params;
  std::vector<RoundStatus> rounds;  // the session's rounds in order: 0, 1, 2, 4 (active: 0 to 4)
  Round pending = Round::none;      // the first round not done; none once round 4 is
  std::optional<DropoutMargin> margin;  // while a round is pending
  std::string aggregate;                // once round 4 is done: the file that holds the sum
  // The next step: a command to run, and what it needs, one line each.
  std::string next;
  std::vector<std::string> next_notes;
  const RoundStatus& round(Round r) const;
};

// Reads the session directory s. A missing directory, or one without params.msg, is
// Error(Exit::noinput) naming it; a file that exists and cannot be read as what its name says is
// SessionDir's error (Exit::data, naming the file).
SessionStatus session_status(const SessionDir& s);

// The parameters in words, a few short lines.
std::vector<std::string> params_words(const Params& p);

// For a terminal: one labelled line per item, kept short (id sets as runs, "1-3, 5", cut after a
// few runs with a count). status_json gives every id.
std::string status_text(const SessionStatus& st);
// One JSON document, for scripts (man/secagg-collect.1, "status").
std::string status_json(const SessionStatus& st);

}  // namespace secagg

// What serve may hold for connections that have not delivered a message yet, and whom it turns
// away when that is full (docs/network.md, "Connection budgets"). Pure bookkeeping over
// connection numbers (given in accept order) and the times the caller passes in, so that the
// event loop only acts on its answers:
//
//  - unidentified connections (no valid header yet) have a small budget of their own; when a new
//    one needs room, the oldest is turned away, so idle or reconnecting connections never count
//    against clients that have identified themselves;
//  - a header claims a sender id, unauthenticated until the signature: at most per_id frames
//    claiming one id are pending at once. A claim beyond that turns away the claim that has
//    fallen furthest behind the pace its frame needs to arrive within frame_timeout (announced
//    size / frame_timeout, counted from the start of its body); if none has, the new claim is
//    turned away. So a frame that keeps that pace is never turned away by another claim of its
//    id, however many arrive, and a stalled claim never keeps a newer one out;
//  - the bytes of unfinished frames: each pending frame reserves its announced size (what it may
//    come to hold) before any of its body is read; frames that do not fit wait, first come
//    first served, until earlier ones finish or are dropped. A frame that has its reservation can
//    always complete, so partly read frames never wait on each other.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace secagg::net {

class ConnBudget {
 public:
  using Clock = std::chrono::steady_clock;
  struct Limits {
    size_t unidentified = 64;
    size_t per_id = 2;
    uint64_t pending_bytes = uint64_t{64} << 20;
    std::chrono::milliseconds frame_timeout{30000};  // sets the pace a claim must keep
  };
  explicit ConnBudget(Limits l) : lim_(l) {}

  // A new connection (numbers increase). Returns the connection to turn away to make room for
  // it, the oldest unidentified one, if the unidentified budget is full.
  std::optional<uint64_t> admit(uint64_t conn);
  // The oldest unidentified connection, if any (turned away first when every descriptor is taken).
  std::optional<uint64_t> oldest_unidentified() const;
  // conn's header claims sender `id` for a frame of `want` bytes: it is no longer unidentified,
  // and its frame is pending. If more than per_id frames now claim that id, returns the one to
  // turn away: the claim furthest behind its pace at `now`, or else conn itself.
  std::optional<uint64_t> identify(uint64_t conn, uint32_t id, uint64_t want, Clock::time_point now);
  // conn's body starts to be read at `now` (its reservation was granted).
  void started(uint64_t conn, Clock::time_point now);
  // `bytes` more of conn's body arrived.
  void received(uint64_t conn, uint64_t bytes);
  // Asks for `bytes` of the pending budget for conn's frame: true if granted now; otherwise
  // conn waits in line (granted later by release, in arrival order).
  bool reserve(uint64_t conn, uint64_t bytes);
  // conn is turned away while its buffer is still in use: forgets its claim and its place in
  // line at once, but keeps its reservation until release (when the buffer is freed).
  void withdraw(uint64_t conn);
  // conn's frame is complete, or conn is closed and its buffer freed: forgets it and frees its
  // reservation. Returns the waiting connections that now have theirs, in order.
  std::vector<uint64_t> release(uint64_t conn);

  uint64_t reserved() const { return reserved_; }
  size_t unidentified() const { return unident_.size(); }
  size_t waiting() const { return line_.size(); }
  const Limits& limits() const { return lim_; }

 private:
  struct Claim {
    uint32_t id = 0;
    uint64_t want = 0;
    uint64_t have = 0;                       // bytes of its body received so far
    std::optional<Clock::time_point> since;  // when its body started (unset: waiting for memory)
  };
  // How many bytes conn's claim is behind its pace at `now` (<= 0: on pace, or not started).
  double behind(const Claim& c, Clock::time_point now) const;

  Limits lim_;
  std::deque<uint64_t> unident_;                      // in accept order
  std::map<uint32_t, std::deque<uint64_t>> by_id_;    // pending frames per claimed id, oldest first
  std::map<uint64_t, Claim> claims_;
  std::map<uint64_t, uint64_t> holds_;                // granted reservations
  std::deque<std::pair<uint64_t, uint64_t>> line_;    // waiting for a reservation: conn, bytes
  uint64_t reserved_ = 0;
};

}  // namespace secagg::net

// ConnBudget (net/conn_budget.hpp): who is turned away when serve's connection budgets are full.
#include <doctest/doctest.h>

#include "net/conn_budget.hpp"

using secagg::net::ConnBudget;
using namespace std::chrono_literals;

namespace {
const ConnBudget::Clock::time_point t0{};
}  // namespace

TEST_CASE("ConnBudget: the oldest unidentified connection makes room") {
  ConnBudget b({3, 2, 1000, 10s});
  CHECK(!b.admit(1));
  CHECK(!b.admit(2));
  CHECK(!b.admit(3));
  CHECK(b.admit(4) == 1u);  // the caller turns 1 away
  b.release(1);
  CHECK(b.unidentified() == 3);
  CHECK(!b.identify(2, 7, 100, t0));  // identified: no longer in the unidentified budget
  CHECK(b.unidentified() == 2);
  CHECK(b.oldest_unidentified() == 3u);
  CHECK(!b.admit(5));
}

TEST_CASE("ConnBudget: a claim beyond per_id turns away the claim furthest behind its pace, else itself") {
  // Frames of 1000 bytes within 10 s: a claim must keep 100 bytes a second from the start of its body.
  ConnBudget b({64, 2, 100000, 10s});
  for (uint64_t c = 1; c <= 9; ++c) b.admit(c);
  CHECK(!b.identify(1, 5, 1000, t0));
  b.started(1, t0);
  CHECK(!b.identify(2, 5, 1000, t0));
  b.started(2, t0);
  CHECK(!b.identify(3, 6, 1000, t0));
  b.received(1, 500);  // the honest client's frame
  b.received(2, 30);   // a frame that stalls after 30 bytes
  // At 0.2 s both frames of client 5 are on pace (20 bytes due): the newcomer goes.
  CHECK(b.identify(4, 5, 1000, t0 + 200ms) == 4u);
  b.release(4);
  CHECK(b.identify(5, 5, 1000, t0 + 2s) == 2u);  // 2 is 170 bytes behind; 1 is 300 ahead
  b.release(2);
  b.started(5, t0 + 2s);
  // However many claims follow, frame 1 (on pace) stays; each stalled newer one goes in turn.
  CHECK(b.identify(6, 5, 1000, t0 + 3s) == 5u);
  b.release(5);
  b.started(6, t0 + 3s);
  b.received(6, 1);  // trickling does not keep pace
  CHECK(b.identify(7, 5, 1000, t0 + 4s) == 6u);
  b.release(6);
  // A claim waiting for memory has not started: it is not behind, so the newcomer goes.
  CHECK(b.identify(8, 5, 1000, t0 + 5s) == 8u);
  b.release(8);
  // The honest frame that stops sending falls behind too.
  CHECK(b.identify(9, 5, 1000, t0 + 9s) == 1u);  // 900 due, 500 in
}

TEST_CASE("ConnBudget: a withdrawn claim frees its id and place in line at once, its reservation on release") {
  ConnBudget b({64, 1, 100, 10s});
  for (uint64_t c = 1; c <= 3; ++c) b.admit(c);
  CHECK(!b.identify(1, 5, 60, t0));
  CHECK(b.reserve(1, 60));
  b.withdraw(1);  // turned away while its buffer is still being read into
  CHECK(!b.identify(2, 5, 60, t0));  // the id is free again
  CHECK(!b.reserve(2, 60));          // the memory is not
  CHECK(b.reserved() == 60);
  CHECK(b.release(1) == std::vector<uint64_t>{2});
  CHECK(b.reserved() == 60);
}

TEST_CASE("ConnBudget: frames reserve their announced size; the rest wait in line") {
  ConnBudget b({64, 2, 100, 10s});
  for (uint64_t c = 1; c <= 4; ++c) {
    b.admit(c);
    b.identify(c, static_cast<uint32_t>(c), 60, t0);
  }
  CHECK(b.reserve(1, 60));
  CHECK(!b.reserve(2, 60));  // does not fit: waits
  CHECK(!b.reserve(3, 10));  // would fit, but waits behind 2 (first come, first served)
  CHECK(b.reserved() == 60);
  CHECK(b.waiting() == 2);
  auto granted = b.release(1);  // 1's frame is complete
  CHECK(granted == std::vector<uint64_t>{2, 3});
  CHECK(b.reserved() == 70);
  CHECK(b.reserve(4, 30));
  CHECK(b.release(3).empty());
  CHECK(b.reserved() == 90);
  b.release(2);
  b.release(4);
  CHECK(b.reserved() == 0);
  CHECK(b.release(4).empty());  // releasing twice is harmless
}

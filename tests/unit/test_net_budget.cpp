// ConnBudget (net/conn_budget.hpp): who is turned away when serve's connection budgets are full.
#include <doctest/doctest.h>

#include "net/conn_budget.hpp"

using secagg::net::ConnBudget;

TEST_CASE("ConnBudget: the oldest unidentified connection makes room") {
  ConnBudget b({3, 2, 1000});
  CHECK(!b.admit(1));
  CHECK(!b.admit(2));
  CHECK(!b.admit(3));
  CHECK(b.admit(4) == 1u);  // the caller turns 1 away
  b.release(1);
  CHECK(b.unidentified() == 3);
  CHECK(!b.identify(2, 7));  // identified: no longer in the unidentified budget
  CHECK(b.unidentified() == 2);
  CHECK(b.oldest_unidentified() == 3u);
  CHECK(!b.admit(5));
}

TEST_CASE("ConnBudget: at most per_id pending frames claim one id, the oldest goes") {
  ConnBudget b({64, 2, 1000});
  for (uint64_t c = 1; c <= 4; ++c) b.admit(c);
  CHECK(!b.identify(1, 5));
  CHECK(!b.identify(2, 5));
  CHECK(!b.identify(3, 6));
  CHECK(b.identify(4, 5) == 1u);
  b.release(1);
  b.admit(9);
  CHECK(b.identify(9, 5) == 2u);
}

TEST_CASE("ConnBudget: frames reserve their announced size; the rest wait in line") {
  ConnBudget b({64, 2, 100});
  for (uint64_t c = 1; c <= 4; ++c) {
    b.admit(c);
    b.identify(c, static_cast<uint32_t>(c));
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

// Progress callbacks (lib/base/progress.hpp): the tools draw a status line from them, so every
// long computation that takes one must call it with `done` increasing, one call at a time, up
// to exactly `total`, however the work is split between threads, and must give the same result
// as without one.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <vector>

#include "client.hpp"
#include "mask.hpp"
#include "params.hpp"
#include "progress.hpp"
#include "random.hpp"
#include "server_session.hpp"
#include "thread_pool.hpp"

using namespace secagg;

namespace {

// What a callback heard. It also fails if two calls overlap (the callback is not thread-safe).
struct Heard {
  std::vector<uint64_t> done;
  uint64_t total = 0;
  std::atomic<bool> overlapped{false};
  std::atomic<int> inside{0};
  ProgressFn fn() {
    return [this](uint64_t d, uint64_t t) {
      if (inside.fetch_add(1) != 0) overlapped = true;
      done.push_back(d);
      total = t;
      inside.fetch_sub(1);
    };
  }
  // Increasing, up to exactly `want`, in at most `calls` calls.
  void check(uint64_t want, size_t calls) const {
    CHECK_FALSE(overlapped);
    REQUIRE_FALSE(done.empty());
    CHECK(total == want);
    CHECK(std::is_sorted(done.begin(), done.end()));
    CHECK(std::adjacent_find(done.begin(), done.end()) == done.end());  // strictly: no empty reports
    CHECK(done.front() > 0);
    CHECK(done.back() == want);
    CHECK(done.size() <= calls);
  }
};

std::vector<SignedSeed> random_seeds(size_t n) {
  std::vector<SignedSeed> seeds(n);
  for (size_t i = 0; i < n; ++i) {
    random_bytes(seeds[i].seed.data(), 32);
    seeds[i].sign = i % 2 ? Sign::minus : Sign::plus;
  }
  return seeds;
}

// Reports come in batches of at least 65536 elements, plus one per thread's slice for its rest.
size_t most_calls(uint64_t n, unsigned threads) { return static_cast<size_t>(n / 65536 + threads + 1); }

}  // namespace

TEST_CASE("ProgressCounter sums what every thread adds, in order, and does nothing without a callback") {
  Heard h;
  ProgressCounter c(h.fn(), 4000);
  CHECK(static_cast<bool>(c));
  parallel_for(4000, 4, [&](size_t) { c.add(1); });
  h.check(4000, 4000);
  CHECK(h.done.size() == 4000);

  ProgressCounter none(ProgressFn{}, 10);
  CHECK_FALSE(static_cast<bool>(none));
  none.add(10);  // nothing to call
}

TEST_CASE("apply_masks reports every element once, in order, and masks as it does without a callback") {
  const auto seeds = random_seeds(3);
  for (uint64_t R : {uint64_t{1} << 16, uint64_t{1} << 40, uint64_t{1000003}}) {
    const Modulus m = Modulus::make(R);
    for (uint64_t n : {uint64_t{1}, uint64_t{4097}, uint64_t{65536}, uint64_t{300001}}) {
      for (unsigned threads : {1u, 2u, 3u}) {
        CAPTURE(R);
        CAPTURE(n);
        CAPTURE(threads);
        std::vector<uint64_t> want(n, 7 % R), got = want;
        apply_masks(PrgKind::aes128ctr, m, seeds, want.data(), 5, 5 + n, threads);
        Heard h;
        apply_masks(PrgKind::aes128ctr, m, seeds, got.data(), 5, 5 + n, threads, h.fn());
        CHECK(got == want);
        h.check(n, most_calls(n, threads));
      }
    }
  }
}

TEST_CASE("apply_masks_packed reports every element once, in order, and packs what it packs without one") {
  const auto seeds = random_seeds(2);
  const Modulus m = Modulus::from_bits(20);
  for (uint64_t n : {uint64_t{8}, uint64_t{70000}, uint64_t{200003}}) {
    for (unsigned threads : {1u, 2u}) {
      CAPTURE(n);
      CAPTURE(threads);
      std::vector<uint64_t> x(n);
      for (uint64_t i = 0; i < n; ++i) x[i] = (i * 2654435761u) % m.R;
      std::vector<uint8_t> want(n * 20 / 8 + 8), got(want.size());
      apply_masks_packed(PrgKind::chacha20, m, seeds, x, want.data(), threads);
      Heard h;
      apply_masks_packed(PrgKind::chacha20, m, seeds, x, got.data(), threads, h.fn());
      CHECK(got == want);
      h.check(n, most_calls(n, threads));
    }
  }
}

// The two calls the tools make: the client's masking (secagg-mask) and the server's mask removal
// in round 4 (secagg-collect unmask and serve), over a vector long enough to be reported in
// several batches, with a dropout so that the server removes pairwise masks too.
TEST_CASE("client_mask and round 4's close report the session's length, in order") {
  Params p;
  p.clients = 4;
  p.threshold = 3;
  p.neighbours = 3;
  p.modulus = uint64_t{1} << 24;
  p.length = 200000;
  validate_params(p);
  const SessionId sid = new_session_id();
  std::vector<ClientState> st;
  ServerSession server(p, sid);
  std::optional<RoundResult> last;
  std::vector<Heard> masking(p.clients);
  for (Round r : {Round::r0, Round::r1, Round::r2, Round::r4}) {
    CAPTURE(round_number(r));
    for (uint32_t id = 1; id <= p.clients; ++id) {
      Bytes m;
      if (r == Round::r0) {
        st.push_back(client_keygen(p, sid, id));
        m = client_advertise(st.back());
      } else {
        if (!std::binary_search(last->in.begin(), last->in.end(), id)) continue;
        const Envelope answer = open_envelope(last->answer(id), "answer");
        if (r == Round::r1) m = client_share(st[id - 1], answer, "roster");
        if (r == Round::r2) {
          if (id == p.clients) continue;  // drops out: round 4 removes its pairwise masks
          const std::vector<uint64_t> x(p.length, id);
          m = client_mask(st[id - 1], answer, "inbox", x, 2, masking[id - 1].fn());
        }
        if (r == Round::r4) m = client_unmask(st[id - 1], answer, "survivors");
      }
      server.accept({fmt::format("client-{}", id), open_envelope(m, "m")});
    }
    Heard removing;
    last = server.close(2, {}, removing.fn());
    if (r == Round::r4) {
      removing.check(p.length, most_calls(p.length, 2));
      CHECK(last->aggregate == std::vector<uint64_t>(p.length, 1 + 2 + 3));
    } else {
      CHECK(removing.done.empty());  // only round 4 removes masks
    }
  }
  for (uint32_t id = 1; id < p.clients; ++id) masking[id - 1].check(p.length, most_calls(p.length, 2));
}

// lib/protocol/residual: SSGA's client bookkeeping (van Rooij et al., SSGA). select_top against a
// full sort by (|value| descending, index ascending) on arrays full of ties, zeros, -0, negative
// values, denormals and huge values, in float32 and float64, k from 1 to beyond N; several rounds
// of the residual / union / settle cycle of four clients, through their files, against a reference
// written here; and the residual file: dtype kept, mode 0600, missing = zeros, bad files refused
// naming the file, a failed save leaving the old file as it was.
#include <doctest/doctest.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "fileio.hpp"
#include "npy.hpp"
#include "residual.hpp"

using namespace secagg;
using ssga::Residual;
using ssga::TopK;

namespace {

struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char t[] = "/tmp/secagg-residual-XXXXXX";
    dir = mkdtemp(t);
  }
  ~TempDir() {
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
    std::filesystem::remove_all(dir);
  }
  std::string file(const char* name) const { return (dir / name).string(); }
  size_t entries() const { return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir), {})); }
};

// Runs f, which must throw Error(code) with a message containing every one of `parts`.
template <class F>
void expect_error(Exit code, F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    FAIL("no error; expected exit " << static_cast<int>(code));
  } catch (const Error& e) {
    CHECK(static_cast<int>(e.code()) == static_cast<int>(code));
    for (const std::string& p : parts) CHECK_MESSAGE(std::string(e.what()).find(p) != std::string::npos, e.what());
  }
}

Residual make(const std::vector<double>& v, npy::Dtype d) {
  Residual r = ssga::zero_residual(v.size(), d, "r.npy");
  for (size_t i = 0; i < v.size(); ++i) {
    if (d == npy::Dtype::f32)
      r.f32[i] = static_cast<float>(v[i]);
    else
      r.f64[i] = v[i];
  }
  return r;
}

// The specification, by brute force: sort all indices by |value| descending, index ascending.
TopK reference_top(const Residual& r, uint32_t k) {
  std::vector<uint32_t> idx(r.size());
  std::iota(idx.begin(), idx.end(), 0u);
  std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
    double x = std::fabs(r.at(a)), y = std::fabs(r.at(b));
    return x != y ? x > y : a < b;
  });
  TopK t;
  if (!idx.empty()) t.max_abs = std::fabs(r.at(idx[0]));
  idx.resize(std::min<size_t>(k, idx.size()));
  std::sort(idx.begin(), idx.end());
  t.indices = idx;
  return t;
}

// Values of one of several kinds, all finite.
std::vector<double> random_values(std::mt19937_64& g, size_t n, int kind) {
  std::vector<double> v(n);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_int_distribution<int> small(-4, 4);
  for (double& x : v) {
    switch (kind) {
      case 0:  // continuous
        x = normal(g);
        break;
      case 1:  // a few magnitudes, both signs, zeros and -0: ties everywhere
        x = small(g) * 0.5;
        if (x == 0 && (g() & 1)) x = -0.0;
        break;
      case 2: {  // any finite float32 bit pattern: denormals to 3e38, every exponent
        float f;
        do f = std::bit_cast<float>(static_cast<uint32_t>(g())); while (!std::isfinite(f));
        x = f;
        break;
      }
      case 3:  // one magnitude, random signs
        x = (g() & 1) ? 1.25 : -1.25;
        break;
      default:  // mostly zeros
        x = (g() % 10 == 0) ? normal(g) : 0.0;
    }
  }
  return v;
}

void check_top(const Residual& r, uint32_t k) {
  TopK got = ssga::select_top(r, k), want = reference_top(r, k);
  CHECK(got.indices == want.indices);
  CHECK(got.max_abs == want.max_abs);
}

bool same_bits(const Residual& a, const Residual& b) {
  if (a.dtype != b.dtype || a.size() != b.size()) return false;
  return a.dtype == npy::Dtype::f32 ? std::memcmp(a.f32.data(), b.f32.data(), a.f32.size() * 4) == 0
                                    : std::memcmp(a.f64.data(), b.f64.data(), a.f64.size() * 8) == 0;
}

}  // namespace

TEST_CASE("residual: select_top equals a full sort by |value| then index") {
  std::mt19937_64 g(12);
  for (npy::Dtype d : {npy::Dtype::f32, npy::Dtype::f64}) {
    for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{17}, size_t{100}, size_t{1000}, size_t{20000}}) {
      for (int kind = 0; kind < 5; ++kind) {
        Residual r = make(random_values(g, n, kind), d);
        auto nn = static_cast<uint32_t>(n);
        std::set<uint32_t> ks = {1, 2, nn / 2 + 1, nn - 1 + (nn == 1), nn, nn + 1, nn + 1000,
                                 static_cast<uint32_t>(1 + g() % n)};
        for (uint32_t k : ks) {
          CAPTURE(n);
          CAPTURE(kind);
          CAPTURE(k);
          check_top(r, k);
          CHECK(ssga::select_top(r, k).indices.size() == std::min<size_t>(k, n));
        }
      }
    }
  }
  // Magnitudes straddling the histogram's bins: values one ulp apart around a bin boundary.
  for (npy::Dtype d : {npy::Dtype::f32, npy::Dtype::f64}) {
    std::vector<double> v;
    double base = d == npy::Dtype::f32 ? std::bit_cast<float>(uint32_t{0x3f808000}) : std::bit_cast<double>(0x3ff0800000000000ull);
    for (int i = 0; i < 300; ++i) {
      double x = base;
      for (int s = 0; s < i % 7; ++s)
        x = d == npy::Dtype::f32 ? std::nextafter(static_cast<float>(x), 0.0f) : std::nextafter(x, 0.0);
      v.push_back(i % 2 ? -x : x);
    }
    Residual r = make(v, d);
    for (uint32_t k : {1u, 5u, 43u, 44u, 45u, 100u, 299u}) check_top(r, k);
  }
  // A large normal array: the histogram path with a thin threshold bin.
  Residual big = make(random_values(g, 300000, 0), npy::Dtype::f32);
  check_top(big, 3);
  check_top(big, 3000);
  expect_error(Exit::usage, [&] { ssga::select_top(big, 0); }, {"at least 1"});
  CHECK(ssga::select_top(ssga::zero_residual(0, npy::Dtype::f32, "e"), 5).indices.empty());
}

// SSGA over rounds, four clients, through their residual files: R_k += u_k, i_k = top entries,
// M = union, the values sent are R_k[M], then R_k[M] = 0. The reference keeps each residual in
// its dtype and adds as numpy's `r += u` does: a float32 update with float32 arithmetic, a float64
// update into a float32 residual in float64 rounded to float32.
TEST_CASE("residual: several SSGA rounds of four clients equal the reference bookkeeping") {
  struct Case {
    npy::Dtype residual, update;
  };
  for (Case c : {Case{npy::Dtype::f32, npy::Dtype::f32}, Case{npy::Dtype::f32, npy::Dtype::f64},
                 Case{npy::Dtype::f64, npy::Dtype::f64}, Case{npy::Dtype::f64, npy::Dtype::f32}}) {
    CAPTURE(static_cast<int>(c.residual));
    CAPTURE(static_cast<int>(c.update));
    TempDir t;
    std::mt19937_64 g(7 + static_cast<int>(c.residual) * 2 + static_cast<int>(c.update));
    const size_t n = 600, clients = 4;
    const uint32_t per_client = 25;
    std::vector<std::vector<float>> ref32(clients, std::vector<float>(n, 0.0f));
    std::vector<std::vector<double>> ref64(clients, std::vector<double>(n, 0.0));
    auto path = [&](size_t k) { return t.file(("r" + std::to_string(k) + ".npy").c_str()); };
    for (int round = 0; round < 6; ++round) {
      CAPTURE(round);
      std::set<uint32_t> want_union;
      for (size_t k = 0; k < clients; ++k) {
        // Coarse values in even rounds (ties between entries and between clients), continuous
        // ones in odd rounds.
        std::vector<double> u = random_values(g, n, round % 2 ? 0 : 1);
        if (c.update == npy::Dtype::f32)
          for (double& x : u) x = static_cast<float>(x);
        Residual want = ssga::zero_residual(n, c.residual, "ref");
        for (size_t j = 0; j < n; ++j) {
          if (c.residual == npy::Dtype::f32) {
            ref32[k][j] = c.update == npy::Dtype::f32 ? ref32[k][j] + static_cast<float>(u[j])
                                                      : static_cast<float>(static_cast<double>(ref32[k][j]) + u[j]);
            want.f32[j] = ref32[k][j];
          } else {
            ref64[k][j] += u[j];
            want.f64[j] = ref64[k][j];
          }
        }
        Residual r = ssga::load_residual(path(k), n, c.residual);
        ssga::add_update(r, u, "u.npy");
        CHECK(same_bits(r, want));
        TopK got = ssga::select_top(r, per_client), ref = reference_top(want, per_client);
        CHECK(got.indices == ref.indices);
        CHECK(got.max_abs == ref.max_abs);
        want_union.insert(ref.indices.begin(), ref.indices.end());
        ssga::save_residual(path(k), r);
      }
      std::vector<uint32_t> m(want_union.begin(), want_union.end());
      for (size_t k = 0; k < clients; ++k) {
        Residual r = ssga::load_residual(path(k), n, c.residual);
        std::vector<double> sent = ssga::gather(r, m, "sel.msg");
        for (size_t i = 0; i < m.size(); ++i)
          CHECK(sent[i] == (c.residual == npy::Dtype::f32 ? static_cast<double>(ref32[k][m[i]]) : ref64[k][m[i]]));
        ssga::settle(r, m, "sel.msg");
        for (uint32_t j : m) {
          ref32[k][j] = 0.0f;
          ref64[k][j] = 0.0;
        }
        ssga::save_residual(path(k), r);
      }
    }
    // What the files hold after the last settle.
    for (size_t k = 0; k < clients; ++k) {
      Residual r = ssga::load_residual(path(k), n, c.residual);
      Residual want = ssga::zero_residual(n, c.residual, "ref");
      if (c.residual == npy::Dtype::f32)
        want.f32 = ref32[k];
      else
        want.f64 = ref64[k];
      CHECK(same_bits(r, want));
      // Entries never sent stay for later rounds (100 of 600 are sent a round).
      size_t nonzero = 0;
      for (size_t j = 0; j < n; ++j) nonzero += r.at(j) != 0.0;
      CHECK(nonzero > n / 2);
    }
  }
}

TEST_CASE("residual: files keep their dtype and mode 0600; a missing one is zeros") {
  TempDir t;
  std::mt19937_64 g(3);
  for (npy::Dtype d : {npy::Dtype::f32, npy::Dtype::f64}) {
    std::string p = t.file(d == npy::Dtype::f32 ? "r32.npy" : "r64.npy");
    Residual fresh = ssga::load_residual(p, 5, d);
    CHECK(fresh.dtype == d);
    CHECK(fresh.size() == 5);
    for (size_t i = 0; i < 5; ++i) CHECK(fresh.at(i) == 0.0);
    // An existing file of mode 0644 becomes 0600.
    write_file_atomic(p, std::string_view("old"), 0644);
    Residual r = make(random_values(g, 1000, 2), d);
    ssga::save_residual(p, r);
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    Residual back = ssga::load_residual(p, 1000, d == npy::Dtype::f32 ? npy::Dtype::f64 : npy::Dtype::f32);
    CHECK(back.dtype == d);
    CHECK(same_bits(back, r));
    CHECK(back.origin == p);
    CHECK(npy::read_floats(read_file(p), p).size() == 1000);
    // Any length with expected_length 0.
    CHECK(ssga::load_residual(p, 0, d).size() == 1000);
  }
  // A big-endian float32 file reads as numpy would.
  Bytes be = npy::write_floats(std::vector<double>{1.5, -2.25, 0}, npy::Dtype::f32);
  auto h = std::search(be.begin(), be.end(), std::begin("'<f4'"), std::end("'<f4'") - 1);
  REQUIRE(h != be.end());
  h[1] = '>';
  for (size_t i = be.size() - 12; i < be.size(); i += 4) std::reverse(be.begin() + static_cast<long>(i), be.begin() + static_cast<long>(i) + 4);
  Residual bres = ssga::parse_residual(be, 3, "be.npy");
  CHECK(bres.f32 == std::vector<float>{1.5f, -2.25f, 0.0f});
  expect_error(Exit::usage, [&] { ssga::load_residual(t.file("none.npy"), 0, npy::Dtype::f32); }, {"none.npy"});
}

TEST_CASE("residual: bad residuals, updates and indices are exit 65 naming the file") {
  TempDir t;
  std::string p = t.file("r.npy");
  ssga::save_residual(p, make({1, 2, 3}, npy::Dtype::f32));
  expect_error(Exit::data, [&] { ssga::load_residual(p, 4, npy::Dtype::f32); }, {p, "3 entries", "expected 4"});

  Bytes ints = npy::write_floats(std::vector<double>{1, 2, 3}, npy::Dtype::f32);
  auto h = std::search(ints.begin(), ints.end(), std::begin("'<f4'"), std::end("'<f4'") - 1);
  h[2] = 'i';
  write_file_atomic(p, ints);
  expect_error(Exit::data, [&] { ssga::load_residual(p, 3, npy::Dtype::f32); }, {p});

  write_file_atomic(p, npy::write_floats(std::vector<double>(6, 1.0), npy::Dtype::f64, {2, 3}));
  expect_error(Exit::data, [&] { ssga::load_residual(p, 0, npy::Dtype::f32); }, {p, "one-dimensional", "(2, 3)"});
  write_file_atomic(p, npy::write_floats(std::vector<double>{1.0}, npy::Dtype::f64, {}));
  expect_error(Exit::data, [&] { ssga::load_residual(p, 1, npy::Dtype::f32); }, {p, "one-dimensional"});
  write_file_atomic(p, std::string_view("1 2 3\n"));
  expect_error(Exit::data, [&] { ssga::load_residual(p, 3, npy::Dtype::f32); }, {p, ".npy"});

  for (npy::Dtype d : {npy::Dtype::f32, npy::Dtype::f64}) {
    write_file_atomic(p, npy::write_floats(std::vector<double>{1, 2, NAN, 4}, d));
    expect_error(Exit::data, [&] { ssga::load_residual(p, 4, d); }, {p, "entry 2", "nan"});
    write_file_atomic(p, npy::write_floats(std::vector<double>{-INFINITY, 2}, d));
    expect_error(Exit::data, [&] { ssga::load_residual(p, 2, d); }, {p, "entry 0", "inf"});

    Residual r = make({1, 2, 3}, d);
    r.origin = "r.npy";
    expect_error(Exit::data, [&] { ssga::add_update(r, std::vector<double>{1, 2}, "u.npy"); },
                 {"u.npy", "2 entries", "r.npy"});
    r = make({1, 2, 3}, d);
    expect_error(Exit::data, [&] { ssga::add_update(r, std::vector<double>{0, NAN, 1}, "u.npy"); },
                 {"u.npy", "entry 1"});
    r = make({1, 2, 3}, d);
    expect_error(Exit::data, [&] { ssga::add_update(r, std::vector<double>{0, 0, INFINITY}, "u.npy"); },
                 {"u.npy", "entry 2"});
    double huge = d == npy::Dtype::f32 ? 3e38 : 1.7e308;
    r = make({1, huge, 3}, d);
    r.origin = "r.npy";
    expect_error(Exit::data, [&] { ssga::add_update(r, std::vector<double>{0, huge, 0}, "u.npy"); },
                 {"r.npy", "entry 1", "overflows"});

    r = make({1, 2, 3}, d);
    Residual before = r;
    expect_error(Exit::data, [&] { ssga::settle(r, std::vector<uint32_t>{0, 3}, "sel.msg"); },
                 {"sel.msg", "index 3", "3 entries"});
    CHECK(same_bits(r, before));  // nothing zeroed: checked first
    expect_error(Exit::data, [&] { ssga::gather(r, std::vector<uint32_t>{7}, "sel.msg"); }, {"sel.msg", "index 7"});
    ssga::settle(r, std::vector<uint32_t>{0, 2}, "sel.msg");
    CHECK(r.at(0) == 0.0);
    CHECK(r.at(1) == 2.0);
    CHECK(r.at(2) == 0.0);
  }
}

TEST_CASE("residual: a save that fails leaves the old file as it was") {
  TempDir t;
  std::string p = t.file("r.npy");
  ssga::save_residual(p, make({1, 2, 3}, npy::Dtype::f64));
  Bytes old = read_file(p);
  Residual bigger = make(std::vector<double>(100000, 0.5), npy::Dtype::f32);

  // A file size limit below the new file's size: the write fails half way (root included).
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  struct sigaction ignore {}, before {};
  ignore.sa_handler = SIG_IGN;
  REQUIRE(sigaction(SIGXFSZ, &ignore, &before) == 0);
  rlimit low = saved;
  low.rlim_cur = 4096;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &low) == 0);
  bool threw = false;
  try {
    ssga::save_residual(p, bigger);
  } catch (const Error&) {
    threw = true;
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  sigaction(SIGXFSZ, &before, nullptr);
  CHECK(threw);
  CHECK(read_file(p) == old);
  CHECK(t.entries() == 1);  // no temporary left behind

  // A directory the process cannot write to (root writes anyway, so only checked for others).
  if (geteuid() != 0) {
    std::filesystem::permissions(t.dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    expect_error(Exit::noperm, [&] { ssga::save_residual(p, bigger); }, {p});
    std::filesystem::permissions(t.dir, std::filesystem::perms::owner_all);
    CHECK(read_file(p) == old);
  }
  ssga::save_residual(p, bigger);
  CHECK(ssga::load_residual(p, 100000, npy::Dtype::f64).f32 == bigger.f32);
}

// make bench: SSGA's top-k selection of a client's residual (lib/protocol/residual.hpp) against
// numpy's argpartition (bench/topk_numpy.py times it on the same arrays; the target is
// C++ / numpy < 3 at N = 10^6 float32).
//
// Writes a residual of N standard normal values (seed 1) to DIR/topk-f32.npy and DIR/topk-f64.npy
// (float32 and float64, the same values rounded), then prints, for each dtype and each k, the median
// wall time of `reps` calls of select_top (after one warm-up call):
//   topk dtype=f32 n=1000000 k=10000 reps=21 median_ms=... min_ms=...
// and the median time of a whole client step on the same file: load the residual, add an update,
// select, save it (write_file_atomic with its fsync):
//   topk_step dtype=f32 n=1000000 k=10000 reps=5 median_ms=...
//
//   topk_bench --dir DIR [--length N] [--k K[,K...]] [--reps R]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "fileio.hpp"
#include "npy.hpp"
#include "residual.hpp"

using namespace secagg;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

template <class F>
std::vector<double> times(int reps, F&& f) {
  f();  // warm-up: page faults, caches
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    double t0 = bench::clock_ms(CLOCK_MONOTONIC);
    f();
    ms.push_back(bench::clock_ms(CLOCK_MONOTONIC) - t0);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("topk_bench", [&] {
    std::string dir, ks_text = "10000,1000";
    size_t n = 1000000;
    int reps = 21;
    bench::Args args("topk_bench", argc, argv);
    for (std::string o; args.next(o);) {
      if (o == "--dir")
        dir = args.value();
      else if (o == "--length")
        n = std::stoul(args.value());
      else if (o == "--k")
        ks_text = args.value();
      else if (o == "--reps")
        reps = std::stoi(args.value());
      else {
        std::fprintf(stderr, "topk_bench: unknown option %s\n", o.c_str());
        return 64;
      }
    }
    if (dir.empty() || n == 0 || reps < 1) {
      std::fprintf(stderr, "usage: topk_bench --dir DIR [--length N] [--k K[,K...]] [--reps R]\n");
      return 64;
    }
    std::vector<uint32_t> ks;
    std::stringstream ss(ks_text);
    for (std::string k; std::getline(ss, k, ',');) ks.push_back(static_cast<uint32_t>(std::stoul(k)));

    std::mt19937_64 g(1);
    std::normal_distribution<double> normal(0, 1);
    std::vector<double> values(n), update(n);
    for (double& x : values) x = normal(g);
    for (double& x : update) x = static_cast<float>(0.01 * normal(g));

    for (npy::Dtype d : {npy::Dtype::f32, npy::Dtype::f64}) {
      const char* name = d == npy::Dtype::f32 ? "f32" : "f64";
      std::string path = (std::filesystem::path(dir) / (std::string("topk-") + name + ".npy")).string();
      write_file_atomic(path, npy::write_floats(values, d));
      ssga::Residual r = ssga::load_residual(path, n, d);
      for (uint32_t k : ks) {
        size_t got = 0;
        std::vector<double> ms = times(reps, [&] { got = ssga::select_top(r, k).indices.size(); });
        if (got != std::min<size_t>(k, n)) throw std::runtime_error("select_top returned the wrong count");
        std::printf("topk dtype=%s n=%zu k=%u reps=%d median_ms=%.4f min_ms=%.4f\n", name, n, k, reps, median(ms),
                    *std::min_element(ms.begin(), ms.end()));
        std::fflush(stdout);
      }
      // The client step, on a copy of the file so the selection's input stays the same.
      std::string step = (std::filesystem::path(dir) / (std::string("step-") + name + ".npy")).string();
      write_file_atomic(step, npy::write_floats(values, d));
      int step_reps = std::max(1, reps / 4);
      std::vector<double> ms = times(step_reps, [&] {
        ssga::Residual s = ssga::load_residual(step, n, d);
        ssga::add_update(s, update, "update");
        ssga::TopK t = ssga::select_top(s, ks.front());
        ssga::save_residual(step, s);
        if (t.indices.empty()) throw std::runtime_error("empty selection");
      });
      std::printf("topk_step dtype=%s n=%zu k=%u reps=%d median_ms=%.4f\n", name, n, ks.front(), step_reps, median(ms));
      std::filesystem::remove(step);
    }
    return 0;
  });
}

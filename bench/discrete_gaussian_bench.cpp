// The exact discrete Gaussian sampler (lib/crypto/discrete_gaussian.hpp, issue 17): samples per
// second at each σ, from each random source: the ChaCha20 stream of a fixed key and the system
// CSPRNG (random_bytes). σ is taken with from_sigma, at the double's exact value: an integer σ
// keeps the acceptance test in 64 or 128 bits, while σ = 3.3 (σ² = m²/2^100) shows the cpp_int
// path. Each figure is the median of `reps` runs of `samples` draws, in wall time and in thread
// CPU time (the latter less sensitive to other work on a shared machine):
//   discrete_gaussian sigma=10 source=chacha20 samples=1000000 reps=5 wall_per_s=... cpu_per_s=...
//
//   discrete_gaussian_bench [--sigma S[,S...]] [--samples N] [--reps R]
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "args.hpp"
#include "discrete_gaussian.hpp"
#include "random_bits.hpp"

using namespace secagg;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  return bench::guarded_main("discrete_gaussian_bench", [&] {
    std::string sigmas_text = "10,1000000,3.3";
    size_t n = 1000000;
    int reps = 5;
    bench::Args args("discrete_gaussian_bench", argc, argv);
    for (std::string o; args.next(o);) {
      if (o == "--sigma")
        sigmas_text = args.value();
      else if (o == "--samples")
        n = std::stoul(args.value());
      else if (o == "--reps")
        reps = std::stoi(args.value());
      else {
        std::fprintf(stderr, "discrete_gaussian_bench: unknown option %s\n", o.c_str());
        return 64;
      }
    }
    if (n == 0 || reps < 1) {
      std::fprintf(stderr, "usage: discrete_gaussian_bench [--sigma S[,S...]] [--samples N] [--reps R]\n");
      return 64;
    }
    std::vector<double> sigmas;
    std::stringstream ss(sigmas_text);
    for (std::string s; std::getline(ss, s, ',');) sigmas.push_back(std::stod(s));

    std::vector<int64_t> out(n);
    const uint8_t key[32] = {7};
    for (double sigma : sigmas) {
      const DiscreteGaussian g = DiscreteGaussian::from_sigma(sigma);
      for (const char* source : {"chacha20", "system"}) {
        std::unique_ptr<RandomBits> rng;
        if (std::string(source) == "chacha20")
          rng = std::make_unique<ChaChaRandomBits>(key);
        else
          rng = std::make_unique<SystemRandomBits>();
        g.sample(out.data(), std::min<size_t>(n, 10000), *rng);  // warm-up
        std::vector<double> wall, cpu;
        for (int r = 0; r < reps; ++r) {
          const double w0 = bench::clock_ms(CLOCK_MONOTONIC), c0 = bench::clock_ms(CLOCK_THREAD_CPUTIME_ID);
          g.sample(out.data(), n, *rng);
          cpu.push_back(bench::clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0);
          wall.push_back(bench::clock_ms(CLOCK_MONOTONIC) - w0);
        }
        fmt::print("discrete_gaussian sigma={} source={} samples={} reps={} wall_per_s={:.0f} cpu_per_s={:.0f}\n",
                   sigma, source, n, reps, static_cast<double>(n) / median(wall) * 1e3,
                   static_cast<double>(n) / median(cpu) * 1e3);
      }
    }
    return 0;
  });
}

// The distributed-DP fields of the session parameters (docs/privacy.md) and their calibration:
// they survive the params message, add bytes only to DP sessions, and every contradiction or
// bad setting is refused; the accountant's formulas hold at their limits.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "dp_accounting.hpp"
#include "dp_params.hpp"
#include "error.hpp"
#include "exit_of.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "small_params.hpp"

using namespace secagg;

namespace {

Params round_trip(const Params& p) { return test::params_round_trip(p); }

Exit validation(const Params& p) {
  return test::exit_of([&] { validate_params(p); });
}

Params dp_session(uint64_t input_length = 1000) {
  Params p = test::small_params();  // n = 5, t = 3
  DdgRequest r;
  r.l2_clip = 1;
  r.noise_multiplier = 1.5;
  r.bits = 24;
  r.input_length = input_length;
  setup_ddg(p, r);
  return p;
}

std::string setup_error(DdgRequest r) {
  Params p = test::small_params();
  try {
    setup_ddg(p, r);
  } catch (const Error& e) {
    CHECK(e.code() == Exit::usage);
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a DP session's fields survive the params message") {
  const Params p = dp_session();
  REQUIRE(validation(p) == Exit::ok);
  CHECK(p.modulus == (uint64_t{1} << 24));
  CHECK(p.length == 1024 + 1);
  CHECK(p.dp_contributors == 3);  // t - C, C = 0
  const Params back = round_trip(p);
  CHECK(back.dp == DpKind::ddg);
  CHECK(back.dp_l2_clip == p.dp_l2_clip);
  CHECK(back.dp_noise_multiplier == p.dp_noise_multiplier);
  CHECK(back.dp_beta == p.dp_beta);
  CHECK(back.dp_scale == p.dp_scale);
  CHECK(back.dp_delta == p.dp_delta);
  CHECK(back.dp_contributors == p.dp_contributors);
  CHECK(back.dp_input_length == 1000);
  CHECK(back.insecure_threshold == 0);
}

TEST_CASE("the DP fields add bytes only to DP sessions") {
  const Params plain = test::small_params();
  const size_t plain_size = encode(MsgType::params, SessionId{}, kServerId, kServerId, plain).size();
  Params same_length = dp_session();
  same_length.dp = DpKind::none;
  same_length.dp_l2_clip = same_length.dp_noise_multiplier = same_length.dp_beta = same_length.dp_scale =
      same_length.dp_delta = 0;
  same_length.dp_contributors = 0;
  same_length.dp_input_length = 0;
  CHECK(round_trip(same_length).dp == DpKind::none);
  // u8 mechanism, five binary64 fields, u32 contributors, u64 input length.
  CHECK(encode(MsgType::params, SessionId{}, kServerId, kServerId, dp_session()).size() ==
        encode(MsgType::params, SessionId{}, kServerId, kServerId, same_length).size() + 1 + 5 * 8 + 4 + 8);
  CHECK(plain_size == encode(MsgType::params, SessionId{}, kServerId, kServerId, test::small_params()).size());
}

TEST_CASE("contradictory DP fields are refused") {
  auto refused = [](auto change) {
    Params p = dp_session();
    change(p);
    return validation(p) == Exit::usage;
  };
  CHECK(refused([](Params& p) { p.dp_scale = 0; }));
  CHECK(refused([](Params& p) { p.dp_noise_multiplier = std::nan(""); }));
  CHECK(refused([](Params& p) { p.dp_l2_clip = INFINITY; }));
  CHECK(refused([](Params& p) { p.dp_beta = 1; }));
  CHECK(refused([](Params& p) { p.dp_delta = 0; }));
  CHECK(refused([](Params& p) { p.dp_contributors = p.threshold + 1; }));
  CHECK(refused([](Params& p) { p.dp_contributors = 0; }));
  CHECK(refused([](Params& p) { p.length = 1001; }));  // not the padded length + 1
  CHECK(refused([](Params& p) { p.modulus = 1000003; }));
  CHECK(refused([](Params& p) {
    p.quant_bits = 8;
    p.clip = 1;
    p.max_weight = 1;
  }));
  CHECK(refused([](Params& p) { p.parent.fill(1); }));
  CHECK(refused([](Params& p) { p.dp = DpKind{7}; }));
  Params stray = test::small_params();
  stray.dp_l2_clip = 1;  // a DP field without --dp
  CHECK(validation(stray) == Exit::usage);
}

TEST_CASE("bad DP settings are refused at setup, naming the smallest valid value") {
  DdgRequest r;
  r.l2_clip = 1;
  r.noise_multiplier = 1;
  r.bits = 24;
  r.input_length = 10;
  CHECK(setup_error(r).empty());
  DdgRequest few_bits = r;
  few_bits.bits = 3;  // n = 5: 2^{2b} must exceed 16 n = 80, so b >= 4
  CHECK(setup_error(few_bits).find("smallest valid --bits is 4") != std::string::npos);
  DdgRequest no_clip = r;
  no_clip.l2_clip = 0;
  CHECK(setup_error(no_clip).find("--l2-clip") != std::string::npos);
  DdgRequest no_eps = r;
  no_eps.noise_multiplier = 0;
  no_eps.target_epsilon = 0;
  CHECK(setup_error(no_eps).find("--target-epsilon 0 must be") != std::string::npos);
  no_eps.target_epsilon = std::nan("");
  CHECK(setup_error(no_eps).find("--target-epsilon") != std::string::npos);
  DdgRequest bad_delta = r;
  bad_delta.delta = 1;
  CHECK(setup_error(bad_delta).find("--delta") != std::string::npos);
}

TEST_CASE("the noise multiplier for a target epsilon meets it, barely") {
  Params p = test::small_params();
  DdgRequest r;
  r.l2_clip = 1;
  r.target_epsilon = 2;
  r.rounds = 20;
  r.bits = 30;
  r.input_length = 100;
  setup_ddg(p, r);
  const double eps = dp::ddg_epsilon(ddg_setting(p), 20, 1, p.dp_delta).epsilon;
  CHECK(eps <= 2);
  CHECK(eps >= 1.98);
  // More noise, less epsilon; more rounds, more epsilon.
  dp::DdgSetting s = ddg_setting(p);
  CHECK(dp::ddg_epsilon(s, 40, 1, p.dp_delta).epsilon > eps);
  s.noise_multiplier *= 2;
  CHECK(dp::ddg_epsilon(s, 20, 1, p.dp_delta).epsilon < eps);
}

TEST_CASE("the accountant at its limits") {
  // Without rounding (a huge scale) and with tau ~ 0 (large scaled noise), the DDG RDP is the
  // Gaussian mechanism's, alpha Delta^2 / (2 sigma^2), with Delta / sigma = 1 / z.
  dp::DdgSetting s{.l2_clip = 1e6, .noise_multiplier = 2, .beta = 0, .scale = 1e6, .dim = 4, .contributors = 10};
  for (double alpha : {2.0, 10.0, 100.0}) CHECK(dp::ddg_rdp(s, alpha) == doctest::Approx(alpha / 8).epsilon(1e-6));
  CHECK(dp::ddg_tau(10, 1000) == 0);
  CHECK(dp::ddg_tau(0.1, 2) == doctest::Approx(10 * std::exp(-2 * M_PI * M_PI * 0.01 / 2)));
  // Conditional rounding never loosens the unconditional bound c + sqrt(d).
  CHECK(dp::rounded_l2_bound(3, 0, 16) == 7);
  CHECK(dp::rounded_l2_bound(3, 0.5, 16) <= 7);
  CHECK(dp::rounded_l2_bound(300, 0.5, 16) < 302);
  // Sampling every client is no sampling; sampling fewer costs less.
  std::vector<double> rdp(257);
  for (int a = 2; a <= 256; ++a) rdp[static_cast<size_t>(a)] = a / 8.0;
  CHECK(dp::subsampled_rdp(10, 1, rdp) == rdp[10]);
  CHECK(dp::subsampled_rdp(10, 0.01, rdp) < rdp[10] / 100);
  // The scale leaves room for k = 4 stddevs of n clients in 2^bits, and none when there is none.
  CHECK(dp::choose_scale(1, 1, 100, 1024, 3, 4) == 0);
  CHECK(dp::choose_scale(1, 1, 100, 1024, 20, 4) > 0);
}

#include "floats.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "envelope.hpp"
#include "error.hpp"
#include "tokens.hpp"
#include "le.hpp"

namespace secagg {
namespace {

std::vector<double> parse_text(std::span<const uint8_t> bytes, const std::string& origin) {
  std::vector<double> out;
  for_each_token(bytes, [&](std::string_view word, size_t line) {
    std::string_view num = word;
    if (num.size() > 1 && num[0] == '+' && num[1] != '-' && num[1] != '+') num.remove_prefix(1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec == std::errc::result_out_of_range && ptr == num.data() + num.size())
      throw Error(Exit::data, fmt::format("{}: line {}: value {} is '{}', out of the range of a float64", origin, line,
                                          out.size(), printable(word)));
    if (ec != std::errc() || ptr != num.data() + num.size())
      throw Error(Exit::data, fmt::format("{}: line {}: value {} is '{}', not a decimal number", origin, line,
                                          out.size(), printable(word)));
    out.push_back(v);
  });
  return out;
}

}  // namespace

std::vector<double> read_floats(std::span<const uint8_t> bytes, FloatInput format, const std::string& origin) {
  if (looks_like_envelope(bytes))
    throw Error(Exit::data, origin + ": is a secagg message, not a float vector");
  if (format == FloatInput::detect)
    return npy::looks_like_npy(bytes) ? npy::read_floats(bytes, origin) : parse_text(bytes, origin);
  if (npy::looks_like_npy(bytes))
    throw Error(Exit::data, origin + ": is a .npy file, not raw floats (drop --raw)");
  size_t w = format == FloatInput::raw_f32 ? 4 : 8;
  if (bytes.size() % w != 0)
    throw Error(Exit::data, fmt::format("{}: {} bytes is not a whole number of {} values ({} bytes each)", origin,
                                        bytes.size(), w == 4 ? "float32" : "float64", w));
  std::vector<double> out(bytes.size() / w);
  for (size_t i = 0; i < out.size(); ++i) {
    const uint8_t* q = bytes.data() + i * w;
    out[i] = w == 4 ? static_cast<double>(std::bit_cast<float>(le::get32(q))) : std::bit_cast<double>(le::get64(q));
  }
  return out;
}

Bytes write_floats(std::span<const double> v, FloatOutput how, npy::Dtype dtype) {
  if (dtype == npy::Dtype::f32)
    for (size_t i = 0; i < v.size(); ++i)
      if (std::isfinite(v[i]) && !std::isfinite(static_cast<float>(v[i])))
        throw Error(Exit::data, fmt::format("value {} is {}, out of the range of float32 (use float64)", i, v[i]));
  if (how == FloatOutput::npy) return npy::write_floats(v, dtype);
  Bytes out;
  if (how == FloatOutput::raw) {
    out.reserve(v.size() * npy::item_size(dtype));
    for (double x : v) {
      if (dtype == npy::Dtype::f32)
        le::put32(out, std::bit_cast<uint32_t>(static_cast<float>(x)));
      else
        le::put64(out, std::bit_cast<uint64_t>(x));
    }
    return out;
  }
  out.reserve(v.size() * 24);
  char buf[40];
  for (double x : v) {
    auto r = dtype == npy::Dtype::f32 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(x))
                                      : std::to_chars(buf, buf + sizeof buf, x);
    out.insert(out.end(), buf, r.ptr);
    out.push_back('\n');
  }
  return out;
}

}  // namespace secagg

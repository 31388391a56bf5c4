// secagg-quantize: float updates into the ring (encode) and the aggregate back (decode).
#include <charconv>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "common.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "floats.hpp"
#include "npz.hpp"
#include "params.hpp"
#include "quantize.hpp"
#include "random.hpp"
#include "session_dir.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

struct Session {
  Params params;
  SessionId id{};
  quant::Spec spec;
};

Session read_session(const std::string& path) {
  Envelope env = tool::read_message(path);
  std::string origin = path == "-" ? "<stdin>" : path;
  if (env.type != MsgType::params)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, not session parameters", origin, type_name(env.type)));
  Session s;
  s.params = decode_body<Params>(env, origin);
  s.id = env.session;
  check_params_file(s.params, origin);
  s.spec = quant::spec_of(s.params, origin);
  return s;
}

// The number of clients in the sum, from survivors.msg next to the parameters, if it is there
// and belongs to the session; 0 if unknown.
size_t contributors(const std::string& params_path, const SessionId& sid) {
  if (params_path == "-") return 0;
  std::string dir = std::filesystem::path(params_path).parent_path().string();
  SessionDir sd(dir.empty() ? "." : dir);
  if (!sd.has(Marker::survivors)) return 0;
  try {
    return sd.survivors(sid).size();
  } catch (const Error&) {
    return 0;  // another session's, or unreadable: the count is only informational
  }
}

// A command-line value, safe to print on one line.
std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    out += u < 0x20 || u >= 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  return s.size() > 40 ? out + "..." : out;
}

// --weight as typed: CLI11 would wrap "-3" around to 2^64 - 3.
uint64_t parse_weight(const std::string& text) {
  uint64_t w = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), w);
  bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (digits && ec == std::errc::result_out_of_range)
    throw Error(Exit::usage, fmt::format("--weight {} is above 2^32, the largest weight secagg supports", printable(text)));
  if (!digits || ec != std::errc() || ptr != text.data() + text.size())
    throw Error(Exit::usage, fmt::format("--weight '{}' is not a whole number", printable(text)));
  return w;
}

// "b (5,) at 0, w (3, 4) at 5": where each array of an .npz lies in the flat vector.
std::string layout_text(const std::vector<npz::Array>& arrays) {
  std::string out;
  uint64_t at = 0;
  for (const npz::Array& a : npz::in_layout_order(arrays)) {
    out += fmt::format("{}{} {} at {}", out.empty() ? "" : ", ", printable(a.name), npz::shape_text(a.shape), at);
    at += npz::count(a.shape);
  }
  return out;
}

// The names and shapes decode --like copies: those of an .npz or .npy file.
std::vector<npz::Array> shapes_like(const std::string& path, uint64_t values, bool* is_npz) {
  // An update of the session's values (float64 at most, plus headers): bounded as an input is.
  Bytes b = read_file(path, max_input_bytes(values));
  *is_npz = npz::looks_like_npz(b);
  if (*is_npz) return npz::read(b, path, npy::kMaxElements, true);
  if (!npy::looks_like_npy(b)) throw Error(Exit::data, path + ": --like needs an .npz or .npy file");
  npy::Header h = npy::parse_header(b, path);
  return {npz::Array{"", h.shape, {}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Quantize float updates for a secure-aggregation session with a quantization spec (encode), and turn "
               "the aggregate back into the weighted average of the updates (decode). The spec (clip c, bits b, "
               "maximum weight) comes from the session's parameters.",
               "secagg-quantize"};
  app.require_subcommand(1);

  std::string params_path, input = "-", out = "-", raw, round = "stochastic", nan = "error", dtype;
  std::string weight_text, like, shape_spec;
  bool text = false, strict_weight = false, verbose = false;

  auto* enc = app.add_subcommand(
      "encode",
      "Read a float vector (.npy, .npz, raw with --raw, or decimal text), clip it to [-c, c], map it onto [0, 2^b - 1], "
      "round, multiply by the weight and prepend the weight: a ring vector for secagg-mask");
  enc->add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)")->required();
  enc->add_option("--weight", weight_text, "This client's weight, an integer in [1, 2^32] (e.g. its number of training "
                                      "examples); capped at the session's maximum")
      ->required()
      ->type_name("UINT");
  enc->add_option("--input", input, "The update: .npy or .npz (float32/float64; an .npz's arrays in name order), raw with --raw, or decimal text (default: stdin)");
  enc->add_option("-o,--output", out, "Where to write the ring vector (default: stdout)");
  enc->add_option("--raw", raw, "Read the input as raw little-endian floats: f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  enc->add_flag("--text", text, "Write the ring vector as decimal text, one element per line");
  enc->add_option("--round", round, "Rounding: stochastic (unbiased, the default) or nearest")
      ->check(CLI::IsMember({"stochastic", "nearest"}));
  enc->add_option("--nan", nan, "NaN and infinite values: error (the default) or zero (replace them by 0)")
      ->check(CLI::IsMember({"error", "zero"}));
  enc->add_flag("--strict-weight", strict_weight, "Refuse a weight above the session's maximum instead of capping it");
  enc->add_flag("-v,--verbose", verbose, "Report what was clipped and the weight used on stderr");

  auto* dec = app.add_subcommand(
      "decode",
      "Read the aggregate (binary vector or decimal text), divide by the total weight in element 0 and map back to "
      "floats: the weighted average of the clients' updates");
  dec->add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)")->required();
  dec->add_option("--input", input, "The aggregate from secagg-collect unmask (default: stdin)");
  dec->add_option("-o,--output", out, "Where to write the average (default: stdout)");
  auto* o_dtype = dec->add_option("--dtype", dtype, "dtype of the .npy or text output: f64 (the default) or f32")
                      ->check(CLI::IsMember({"f32", "f64"}));
  auto* o_raw = dec->add_option("--raw", raw, "Write raw little-endian floats, f32 or f64, instead of .npy")
                    ->check(CLI::IsMember({"f32", "f64"}));
  auto* o_text = dec->add_flag("--text", text, "Write decimal text, one value per line, instead of .npy");
  auto* o_like = dec->add_option("--like", like, "Write an .npz (or .npy) with the names and shapes of the arrays in "
                                               "this file, e.g. one client's update, instead of a flat vector");
  auto* o_shape = dec->add_option("--shape", shape_spec, "Write arrays of these shapes: [NAME=]DIMS,... e.g. w=3x4,b=5 "
                                                         "(an .npz; one unnamed entry: a .npy of that shape)");
  o_raw->excludes(o_text)->excludes(o_dtype);
  o_like->excludes(o_shape)->excludes(o_raw)->excludes(o_text);
  o_shape->excludes(o_raw)->excludes(o_text);
  dec->add_flag("-v,--verbose", verbose, "Report the number of contributors and the total weight on stderr");

  return tool::run(app, argc, argv, [&] {
    // Usage errors before any file is read.
    uint64_t weight = enc->parsed() ? parse_weight(weight_text) : 0;
    Session s = read_session(params_path);
    std::string origin = input == "-" ? "<stdin>" : input;
    if (enc->parsed()) {
      quant::Weight w = quant::choose_weight(weight, s.spec, strict_weight);
      Bytes raw_in = read_file(input, max_input_bytes(s.params.length));
      FloatInput fmt_in = raw.empty() ? FloatInput::detect : raw == "f32" ? FloatInput::raw_f32 : FloatInput::raw_f64;
      std::vector<double> x;
      std::string layout;
      if (npz::looks_like_npz(raw_in)) {
        if (!raw.empty()) throw Error(Exit::data, origin + ": is an .npz file, not raw floats (drop --raw)");
        std::vector<npz::Array> arrays = npz::read(raw_in, origin, s.spec.values);
        x = npz::flatten(arrays);
        layout = layout_text(arrays);
      } else {
        x = read_floats(raw_in, fmt_in, origin);
      }
      quant::check_length(x.size(), s.spec, origin);
      uint64_t replaced = quant::handle_nonfinite(x, nan == "zero" ? quant::NonFinite::zero : quant::NonFinite::refuse,
                                                  origin);
      random_context("quantize encode");
      quant::Rounding r = round == "nearest" ? quant::Rounding::nearest : quant::Rounding::stochastic;
      quant::EncodeStats st;
      std::vector<uint64_t> v = quant::encode(x, s.spec, w.used, r, origin, &st);
      if (text)
        tool::write_output(out, vector_text(v));
      else
        tool::write_output(out, vector_message(v, s.params.ring(), s.id));
      // Only after the output is written: a failure is one error line and nothing else.
      if (w.capped)
        std::fprintf(stderr,
                     "secagg-quantize: warning: --weight %llu is above the session's maximum weight %llu: using %llu\n",
                     static_cast<unsigned long long>(weight), static_cast<unsigned long long>(s.spec.max_weight),
                     static_cast<unsigned long long>(w.used));
      if (verbose)
        std::fprintf(stderr, "%s", fmt::format("secagg-quantize: {} values, {} clipped to [-{}, {}], {} non-finite "
                                               "replaced by 0, weight {}, {} rounding\n",
                                               x.size(), st.clipped, s.spec.clip, s.spec.clip, replaced, w.used, round)
                                       .c_str());
      if (verbose && !layout.empty())
        std::fprintf(stderr, "%s", fmt::format("secagg-quantize: layout: {}\n", layout).c_str());
    } else {
      if (!dtype.empty() && !raw.empty()) throw Error(Exit::usage, "--raw names the dtype itself: drop --dtype");
      Bytes agg = read_file(input, max_input_bytes(s.params.length));
      auto sum = read_vector(agg, s.params.ring(), s.params.length, &s.id, origin);
      quant::Average a = quant::decode(sum, s.spec, origin);
      FloatOutput how = !raw.empty() ? FloatOutput::raw : text ? FloatOutput::text : FloatOutput::npy;
      std::string dt = !raw.empty() ? raw : dtype;
      npy::Dtype dtype_out = dt == "f32" ? npy::Dtype::f32 : npy::Dtype::f64;
      // --like or --shape: the arrays' names and shapes, checked before anything is written.
      std::vector<npz::Array> shapes;
      bool as_npz = false;
      if (!like.empty()) shapes = shapes_like(like, s.params.length, &as_npz);
      if (!shape_spec.empty()) {
        shapes = npz::parse_shape_spec(shape_spec, &as_npz);
        as_npz = as_npz || shapes.size() > 1;
      }
      if (!shapes.empty()) {
        uint64_t n = 0;
        for (const npz::Array& x : shapes) n += npz::count(x.shape);
        if (n != a.values.size())
          throw Error(Exit::data, fmt::format("{}: the shapes of {} hold {} values, the average has {}",
                                              origin, like.empty() ? "--shape" : like, n, a.values.size()));
      }
      Bytes bytes;
      try {
        // write_floats refuses values float32 cannot hold; the shaped writers rely on it too.
        bytes = write_floats(a.values, how, dtype_out);
        if (as_npz)
          bytes = npz::write(shapes, a.values, dtype_out);
        else if (!shapes.empty())
          bytes = npy::write_floats(a.values, dtype_out, shapes[0].shape);
      } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", origin, e.what()));
      }
      tool::write_output(out, bytes);
      if (verbose) {
        size_t k = contributors(params_path, s.id);
        std::string line = k ? fmt::format("secagg-quantize: {} contributor{}, total weight {}\n", k, k == 1 ? "" : "s",
                                           a.total_weight)
                             : fmt::format("secagg-quantize: total weight {} (number of contributors unknown: no "
                                           "survivors.msg of this session next to {})\n",
                                           a.total_weight, params_path);
        line += fmt::format("secagg-quantize: step {}: each value is within one step of the weighted average of the "
                            "clipped updates (half a step if they were rounded to nearest)\n",
                            s.spec.step());
        std::fputs(line.c_str(), stderr);
      }
    }
  });
}

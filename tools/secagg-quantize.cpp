// secagg-quantize: float updates into the ring (encode) and the aggregate back (decode), and a
// client's side of a sparse round (van Rooij et al., SSGA; docs/sparse.md): topk, encode and
// decode --select, settle.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "crypto.hpp"
#include "dp_codec.hpp"
#include "dp_params.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "floats.hpp"
#include "npz.hpp"
#include "params.hpp"
#include "quantize.hpp"
#include "random.hpp"
#include "residual.hpp"
#include "selection_file.hpp"
#include "session_dir.hpp"
#include "sparse_union.hpp"
#include "vectors.hpp"

using namespace secagg;

namespace {

struct Session {
  Params params;
  SessionId id{};
  quant::Spec spec;
};

// The parameters alone: a union session has no quantization spec.
Session read_params(const std::string& path) {
  Envelope env = tool::read_message(path);
  std::string origin = path == "-" ? "<stdin>" : path;
  if (env.type != MsgType::params)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, not session parameters", origin, type_name(env.type)));
  Session s;
  s.params = decode_body<Params>(env, origin);
  s.id = env.session;
  check_params_file(s.params, origin);
  return s;
}

// A residual file holds at most 2^31 entries of 8 bytes (residual.hpp), plus its header.
uint64_t max_residual_bytes(uint64_t n) { return npy::kMaxHeaderBytes + 8 * n + 64; }

// The residual a client keeps (it must exist: only topk starts one), n entries (0: any).
ssga::Residual read_residual(const std::string& path, uint64_t n) {
  uint64_t most = n ? n : uint64_t{1} << 31;
  Bytes b = read_file(path, max_residual_bytes(most));
  return ssga::parse_residual(b, n, path);
}

struct SelectionArg {
  Selection sel;
  Digest32 digest{};  // of the whole file, what a values session's parameters name
  std::string origin;
};

// A selection of at most max_indices indices: the read is bounded by what such a message takes;
// its body is checked as secagg-collect checks it (selection_file.hpp).
SelectionArg read_selection(const std::string& path, uint64_t max_indices) {
  SelectionArg f;
  f.origin = path == "-" ? "<stdin>" : path;
  Bytes b = read_file(path, 4 * max_indices + 65536);
  Envelope env = open_envelope(b, f.origin);
  if (env.type != MsgType::selection)
    throw Error(Exit::data, fmt::format("{}: is a message of type {}, not a selection", f.origin, type_name(env.type)));
  SelectionFile checked = parse_selection(b, env, f.origin);
  f.sel = std::move(checked.selection);
  f.digest = checked.digest;
  return f;
}

// The selection is the one the values session was set up over (its digest is in the parameters),
// so the values a client sends line up with every other client's.
void check_selection_of(const SelectionArg& f, const Params& p, const std::string& params_origin) {
  if (f.digest != p.selection)
    throw Error(Exit::data, fmt::format("{}: is not the selection of this values session ({} names another)", f.origin,
                                        params_origin));
  if (f.sel.model_length != p.model_length || f.sel.indices.size() + 1 != p.length)
    throw Error(Exit::data, fmt::format("{}: a selection of {} of {} entries does not fit {} ({} values of {})",
                                        f.origin, f.sel.indices.size(), f.sel.model_length, params_origin,
                                        p.length - 1, p.model_length));
}

void require_sparse(const Params& p, bool want_union, const std::string& origin, const char* what) {
  bool is_union = p.sparse == SparseKind::union_plain || p.sparse == SparseKind::union_private;
  if (want_union ? !is_union : p.sparse != SparseKind::values)
    throw Error(Exit::data, fmt::format("{}: is not the parameters of a {} session (sparse: {}): {}", origin,
                                        want_union ? "union" : "values", sparse_name(p.sparse), what));
}

// The client's maximum as float32, rounded up: R_max becomes the values session's clip, which
// must not cut the largest value short.
float max_as_float(double m, const std::string& origin) {
  if (!(m <= std::numeric_limits<float>::max()))
    throw Error(Exit::data, fmt::format("{}: the largest |value| {} is beyond float32, which the union encodes", origin, m));
  float f = static_cast<float>(m);
  if (static_cast<double>(f) < m) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

void refuse_stdio(const std::string& path, const char* option) {
  if (path == "-") throw Error(Exit::usage, fmt::format("{} must be a file, not stdin or stdout: it is read and rewritten", option));
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

// A DP session's encode (docs/privacy.md): the client pipeline of dp_codec.hpp, its coins and
// noise from a ChaCha20 stream under a fresh key (the system's generator, or the test mode's).
void encode_dp(const Params& p, const SessionId& sid, std::vector<double> x, const std::string& out, bool text,
               bool verbose, uint64_t replaced) {
  Secret32 key;
  random_bytes(key.data(), key.size());
  ChaChaRandomBits rng(key.data());
  dp::EncodeReport rep;
  const std::vector<uint64_t> v = dp::ddg_encode(p, sid, std::move(x), rng, &rep);
  if (text)
    tool::write_output(out, vector_text(v));
  else
    tool::write_output(out, vector_message(v, p.ring(), sid));
  if (rep.wrapped)
    std::fprintf(stderr, "%s", fmt::format("secagg-quantize: warning: {} of {} coordinates wrapped around the ring "
                                           "(their value with noise is outside [-R/2, R/2)): the session's --bits "
                                           "are too few for this update\n",
                                           rep.wrapped, p.length - 1)
                                   .c_str());
  if (verbose)
    std::fprintf(stderr, "%s", fmt::format("secagg-quantize: DP: {} values padded to {}, L2 norm {:.6g}{}, {} "
                                           "non-finite replaced by 0, rounded in {} draw{}, {} wrapped\n",
                                           p.dp_input_length, p.length - 1, rep.norm,
                                           rep.clipped ? fmt::format(" clipped to {}", p.dp_l2_clip) : "",
                                           replaced, rep.rounding_tries, rep.rounding_tries == 1 ? "" : "s",
                                           rep.wrapped)
                                   .c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Quantize float updates for a secure-aggregation session with a quantization spec (encode), and turn "
               "the aggregate back into the weighted average of the updates (decode). The spec (clip c, bits b, "
               "maximum weight) comes from the session's parameters; in a DP session (setup --dp ddg) encode also "
               "adds the client's noise, and account prints the session's epsilon over R rounds.",
               "secagg-quantize"};
  app.require_subcommand(1);

  std::string params_path, input = "-", out = "-", raw, round = "stochastic", nan = "error", dtype;
  std::string weight_text, like, shape_spec, select, residual, survivors;
  bool text = false, strict_weight = false, verbose = false;
  uint32_t client_id = 0;

  auto* enc = app.add_subcommand(
      "encode",
      "Read a float vector (.npy, .npz, raw with --raw, or decimal text), clip it to [-c, c], map it onto [0, 2^b - 1], "
      "round, multiply by the weight and prepend the weight: a ring vector for secagg-mask");
  enc->add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)")->required();
  enc->add_option("--weight", weight_text, "This client's weight, an integer in [1, 2^32] (e.g. its number of training "
                                      "examples); capped at the session's maximum")
      ->required()
      ->type_name("UINT");
  auto* e_input = enc->add_option("--input", input, "The update: .npy or .npz (float32/float64; an .npz's arrays in name order), raw with --raw, or decimal text (default: stdin)");
  enc->add_option("-o,--output", out, "Where to write the ring vector (default: stdout)");
  auto* e_raw = enc->add_option("--raw", raw, "Read the input as raw little-endian floats: f32 or f64")
      ->check(CLI::IsMember({"f32", "f64"}));
  enc->add_flag("--text", text, "Write the ring vector as decimal text, one element per line");
  enc->add_option("--round", round, "Rounding: stochastic (unbiased, the default) or nearest")
      ->check(CLI::IsMember({"stochastic", "nearest"}));
  auto* e_nan = enc->add_option("--nan", nan, "NaN and infinite values: error (the default) or zero (replace them by 0)")
      ->check(CLI::IsMember({"error", "zero"}));
  enc->add_flag("--strict-weight", strict_weight, "Refuse a weight above the session's maximum instead of capping it");
  enc->add_flag("-v,--verbose", verbose, "Report what was clipped and the weight used on stderr");
  auto* e_select = enc->add_option("--select", select, "Sparse round: the selection (sel.msg) of the values session "
                                                      "--params names; the values are the residual's on it");
  auto* e_residual = enc->add_option("--residual", residual, "Sparse round, with --select: this client's residual "
                                                            "(.npy), read only (settle zeroes the sent entries)");
  e_select->needs(e_residual);
  e_residual->needs(e_select);
  e_select->excludes(e_input)->excludes(e_raw)->excludes(e_nan);

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
  dec->add_option("--select", select, "Sparse round: the selection (sel.msg) of the values session --params names; "
                                      "the average is scattered onto its entries of a model-length vector, zeros "
                                      "elsewhere");

  auto* topk = app.add_subcommand(
      "topk",
      "Sparse round, first step (a union session): add the update into the residual, pick the residual's "
      "per-client largest entries and encode them with the largest |value| as this client's union vector for "
      "secagg-mask; then save the residual. It adds the update: run it once per round (a failed run leaves the "
      "residual as it was)");
  topk->add_option("--params", params_path, "The union session's parameters (U/params.msg)")->required();
  topk->add_option("--residual", residual, "This client's residual (.npy, float32 or float64, kept between rounds, "
                                           "mode 0600); a missing file starts at zeros of the update's dtype")
      ->required();
  topk->add_option("--input", input, "The update: .npy, float32 or float64, of the model's length (default: stdin)");
  topk->add_option("-o,--output", out, "Where to write the union vector (default: stdout)");
  topk->add_option("--id", client_id, "This client's id: required for a plain union (it picks the client's slots)")
      ->check(CLI::Range(uint32_t{1}, kMaxClients));
  topk->add_flag("-v,--verbose", verbose, "Report the number of entries picked and the largest |value| on stderr");

  auto* stl = app.add_subcommand(
      "settle",
      "Sparse round, last step: zero the residual on the selection, whose values were sent. Only once the values "
      "session's aggregate was published with this client's masked input in it (in its survivors.msg): a client "
      "that dropped out keeps its residual, its values are in no aggregate");
  stl->add_option("--residual", residual, "This client's residual (.npy), rewritten atomically")->required();
  stl->add_option("--select", select, "The selection the values session aggregated over (sel.msg)")->required();
  auto* s_surv = stl->add_option("--survivors", survivors, "The values session's survivors.msg (U3): refuse (exit 1) "
                                                           "to settle if --id is not in it");
  auto* s_params = stl->add_option("--params", params_path, "With --survivors: the values session's parameters "
                                                            "(V/params.msg), which name the selection and the session");
  auto* s_id = stl->add_option("--id", client_id, "With --survivors: this client's id")
                   ->check(CLI::Range(uint32_t{1}, kMaxClients));
  s_surv->needs(s_params)->needs(s_id);
  s_params->needs(s_surv);
  s_id->needs(s_surv);

  uint64_t acc_rounds = 0;
  double acc_sampling = 1, acc_delta = 0;
  auto* acct = app.add_subcommand(
      "account",
      "Distributed DP (docs/privacy.md): print the (epsilon, delta) guarantee of a DP session's settings over R "
      "rounds, as 'epsilon=E delta=D rounds=R ...': the Renyi DP of the distributed discrete Gaussian (Kairouz, Liu "
      "and Steinke, 2021) for the t - C honest contributors the noise is calibrated for, composed over the rounds "
      "and converted to (epsilon, delta)");
  acct->add_option("--params", params_path, "A DP session's parameters (S/params.msg from secagg-collect setup --dp)")
      ->required();
  acct->add_option("--rounds", acc_rounds, "Rounds R run with these settings (each a new session of the same "
                                           "parameters)")
      ->required()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  acct->add_option("--sampling", acc_sampling, "The rate q at which clients are Poisson-sampled into each round "
                                               "(default 1: every client, every round)");
  acct->add_option("--delta", acc_delta, "The delta to report epsilon for (default: the session's, from setup)");

  return tool::run(app, argc, argv, [&] {
    std::string origin = input == "-" ? "<stdin>" : input;
    std::string params_origin = params_path == "-" ? "<stdin>" : params_path;
    if (acct->parsed()) {
      if (!(acc_sampling > 0 && acc_sampling <= 1))
        throw Error(Exit::usage, fmt::format("--sampling {} must be in (0, 1]", acc_sampling));
      if (acct->count("--delta") && !(acc_delta > 0 && acc_delta < 1))
        throw Error(Exit::usage, fmt::format("--delta {} must be in (0, 1)", acc_delta));
      Session s = read_params(params_path);
      if (!s.params.private_dp())
        throw Error(Exit::data, fmt::format("{}: not a DP session (set up without --dp): its sum carries no noise, "
                                            "so it has no epsilon",
                                            params_origin));
      const double delta = acct->count("--delta") ? acc_delta : s.params.dp_delta;
      const dp::Guarantee g = dp::ddg_epsilon(ddg_setting(s.params), acc_rounds, acc_sampling, delta);
      std::printf("epsilon=%.6g delta=%g rounds=%llu sampling=%g order=%d noise_multiplier=%g contributors=%u\n",
                  g.epsilon, g.delta, static_cast<unsigned long long>(acc_rounds), acc_sampling, g.order,
                  s.params.dp_noise_multiplier, s.params.dp_contributors);
      return;
    }
    if (topk->parsed()) {
      refuse_stdio(residual, "--residual");
      Session s = read_params(params_path);
      require_sparse(s.params, true, params_origin, "topk needs a union session's parameters (U/params.msg)");
      UnionSpec us = union_spec(s.params);
      if (us.mode == UnionMode::plain && client_id == 0)
        throw Error(Exit::usage, "--id is required for a plain union: the client's id picks its slots");
      Bytes ub = read_file(input, max_input_bytes(s.params.model_length));
      if (!npy::looks_like_npy(ub)) throw Error(Exit::data, origin + ": is not an .npy file (topk reads the update as .npy)");
      npy::Dtype dt = npy::parse_header(ub, origin).dtype;
      std::vector<double> u = npy::read_floats(ub, origin);
      Bytes().swap(ub);
      ssga::Residual r = ssga::load_residual(residual, s.params.model_length, dt);
      ssga::add_update(r, u, origin);
      std::vector<double>().swap(u);
      ssga::TopK t = ssga::select_top(r, us.per_client);
      // A private union hides who sent what: the id only has to be a valid one.
      std::vector<uint64_t> v =
          encode_union(us, s.id, client_id ? client_id : 1, t.indices, max_as_float(t.max_abs, residual));
      // The vector first: if it cannot be written the residual stays as it was and the round can be rerun.
      tool::write_output(out, vector_message(v, s.params.ring(), s.id));
      ssga::save_residual(residual, r);
      if (verbose)
        std::fputs(fmt::format("secagg-quantize: {} of {} entries, largest |value| {}\n", t.indices.size(),
                               s.params.model_length, t.max_abs)
                       .c_str(),
                   stderr);
      return;
    }
    if (stl->parsed()) {
      refuse_stdio(residual, "--residual");
      ssga::Residual r = read_residual(residual, 0);
      SelectionArg f = read_selection(select, r.size());
      if (f.sel.model_length != r.size())
        throw Error(Exit::data, fmt::format("{}: a selection of a model of {} entries, the residual {} has {}", f.origin,
                                            f.sel.model_length, residual, r.size()));
      if (!survivors.empty()) {
        Session s = read_params(params_path);
        require_sparse(s.params, false, params_origin, "settle --survivors needs the values session's parameters");
        check_selection_of(f, s.params, params_origin);
        Envelope env = tool::read_message(survivors, &s.params, MsgType::survivors);
        std::string so = survivors == "-" ? "<stdin>" : survivors;
        if (env.session != s.id)
          throw Error(Exit::data, so + ": is the survivors list of another session than " + params_origin);
        IdList u3 = decode_body<IdList>(env, so);
        if (std::find(u3.ids.begin(), u3.ids.end(), client_id) == u3.ids.end())
          throw Error(Exit::aborted, fmt::format("{}: client {} is not in U3 (its values are not in the aggregate): "
                                                 "not settling, the residual keeps them",
                                                 so, client_id));
      }
      ssga::settle(r, f.sel.indices, f.origin);
      ssga::save_residual(residual, r);
      return;
    }
    // Usage errors before any file is read.
    uint64_t weight = enc->parsed() ? parse_weight(weight_text) : 0;
    Session s = read_params(params_path);
    const bool ddg = s.params.private_dp();
    if (ddg) {
      if (!select.empty()) throw Error(Exit::usage, "--select belongs to a values session, not a DP session");
      if (enc->parsed() && weight != 1)
        throw Error(Exit::usage, fmt::format("--weight {}: a DP session's clients all have weight 1 (a weight w would "
                                             "multiply the update's sensitivity by w, and the noise is calibrated "
                                             "for 1: docs/privacy.md)",
                                             weight));
      if (enc->parsed() && enc->count("--round"))
        throw Error(Exit::usage, "--round: a DP session rounds by conditional randomized rounding, always");
      if (enc->parsed() && strict_weight) throw Error(Exit::usage, "--strict-weight: a DP session's weights are all 1");
    } else {
      s.spec = quant::spec_of(s.params, params_origin);
    }
    std::optional<SelectionArg> sel;
    if (!select.empty()) {
      require_sparse(s.params, false, params_origin, "--select needs a values session's parameters (V/params.msg)");
      sel = read_selection(select, s.params.length);
      check_selection_of(*sel, s.params, params_origin);
    }
    if (enc->parsed()) {
      quant::Weight w = quant::choose_weight(weight, s.spec, strict_weight);
      std::vector<double> x;
      std::string layout;
      if (sel) {
        origin = residual;
        x = ssga::gather(read_residual(residual, sel->sel.model_length), sel->sel.indices, sel->origin);
      } else {
        Bytes raw_in = read_file(input, max_input_bytes(s.params.length));
        FloatInput fmt_in = raw.empty() ? FloatInput::detect : raw == "f32" ? FloatInput::raw_f32 : FloatInput::raw_f64;
        if (npz::looks_like_npz(raw_in)) {
          if (!raw.empty()) throw Error(Exit::data, origin + ": is an .npz file, not raw floats (drop --raw)");
          std::vector<npz::Array> arrays = npz::read(raw_in, origin, ddg ? s.params.dp_input_length : s.spec.values);
          x = npz::flatten(arrays);
          layout = layout_text(arrays);
        } else {
          x = read_floats(raw_in, fmt_in, origin);
        }
      }
      if (!ddg)
        quant::check_length(x.size(), s.spec, origin);
      else if (x.size() != s.params.dp_input_length)
        throw Error(Exit::data, fmt::format("{}: has {} values; the session's updates have {}", origin, x.size(),
                                            s.params.dp_input_length));
      uint64_t replaced = quant::handle_nonfinite(x, nan == "zero" ? quant::NonFinite::zero : quant::NonFinite::refuse,
                                                  origin);
      random_context("quantize encode");
      if (ddg) {
        encode_dp(s.params, s.id, std::move(x), out, text, verbose, replaced);
        return;
      }
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
      quant::Average a;
      if (ddg) {
        dp::Decoded dpd = dp::ddg_decode(s.params, s.id, sum, origin);
        a.values = std::move(dpd.average);
        a.total_weight = dpd.contributors;
        if (dpd.near_edge)
          std::fprintf(stderr, "%s", fmt::format("secagg-quantize: warning: {}: {} of {} coordinates of the sum are "
                                                 "within R/16 of the ring's edges: the sum may have wrapped (more "
                                                 "--bits, or a smaller --l2-clip)\n",
                                                 origin, dpd.near_edge, s.params.length - 1)
                                         .c_str());
      } else {
        a = quant::decode(sum, s.spec, origin);
      }
      if (sel) {
        // The model-length average: the selection's entries, zeros where no value was sent.
        std::vector<double> dense(sel->sel.model_length, 0.0);
        for (size_t j = 0; j < sel->sel.indices.size(); ++j) dense[sel->sel.indices[j]] = a.values[j];
        a.values = std::move(dense);
      }
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
        if (ddg)
          line += fmt::format("secagg-quantize: DP: the average carries the clients' discrete Gaussian noise, stddev "
                              "{:.4g} / {} per value, and their rounding\n",
                              s.params.dp_noise_multiplier * s.params.dp_l2_clip *
                                  std::sqrt(double(a.total_weight) / s.params.dp_contributors),
                              a.total_weight);
        else
          line += fmt::format("secagg-quantize: step {}: each value is within one step of the weighted average of "
                              "the clipped updates (half a step if they were rounded to nearest)\n",
                              s.spec.step());
        std::fputs(line.c_str(), stderr);
      }
    }
  });
}

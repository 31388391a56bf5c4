#include "selection_file.hpp"

#include <cmath>

#include <fmt/format.h>

#include "error.hpp"
#include "message_file.hpp"
#include "params.hpp"

namespace secagg {

SelectionFile read_selection_file(const std::string& path) {
  const std::string origin = path == "-" ? "<stdin>" : path;
  MessageLimits limits;
  limits.type = MsgType::selection;
  const Bytes bytes = read_message_file(path, limits);
  return parse_selection(bytes, open_envelope(bytes, origin), origin);
}

SelectionFile parse_selection(std::span<const uint8_t> bytes, const Envelope& env, const std::string& origin) {
  SelectionFile f;
  f.selection = decode_body<Selection>(env, origin);
  f.union_session = env.session;
  f.digest = blake2b_256(bytes);
  const Selection& s = f.selection;
  auto bad = [&](const std::string& why) { return Error(Exit::data, fmt::format("{}: {}", origin, why)); };
  if (s.mode != SparseKind::union_plain && s.mode != SparseKind::union_private)
    throw bad(fmt::format("a selection of a {} session, not of a union session", sparse_name(s.mode)));
  if (s.model_length < 1 || s.model_length > kMaxModelLength)
    throw bad(fmt::format("model length {} is outside [1, 2^31]", s.model_length));
  for (size_t j = 0; j < s.indices.size(); ++j) {
    if (s.indices[j] >= s.model_length)
      throw bad(fmt::format("index {} is not below the model length {}", s.indices[j], s.model_length));
    if (j > 0 && s.indices[j] <= s.indices[j - 1])
      throw bad(fmt::format("indices are not strictly ascending ({} after {})", s.indices[j], s.indices[j - 1]));
  }
  if (!std::isfinite(s.r_max) || s.r_max < 0) throw bad(fmt::format("R_max {} is not a finite number >= 0", s.r_max));
  return f;
}

}  // namespace secagg

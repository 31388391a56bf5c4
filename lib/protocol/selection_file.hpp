// A selection message file (type 13, man/secagg-formats.5) as the steps of a values session use
// it: its body checked, and the digest a values session's parameters carry (docs/sparse.md).
#pragma once
#include <span>
#include <string>

#include "crypto.hpp"
#include "envelope.hpp"
#include "messages.hpp"

namespace secagg {

struct SelectionFile {
  Selection selection;
  SessionId union_session{};  // the union session it was decoded from (its envelope's)
  Digest32 digest{};          // blake2b_256 of the whole file: a values session's params.selection
};

// Reads path header first (a header of another type is refused before its body is read), then
// checks the body: a union mode, a model length in [1, kMaxModelLength], indices strictly
// ascending and below it, and R_max a finite number >= 0. Error(Exit::data), one line naming
// path, otherwise. An empty M or an R_max of 0 is returned as it is: the caller decides.
SelectionFile read_selection_file(const std::string& path);
// The same checks on a selection message already read (bytes) and opened (env, of type
// selection) by a reader with a bound of its own.
SelectionFile parse_selection(std::span<const uint8_t> bytes, const Envelope& env, const std::string& origin);

}  // namespace secagg

// Naming a mistyped option or subcommand before CLI11 parses argv. CLI11 checks required
// options before it reports an unexpected one, so `setup --sesion S` would otherwise be told
// "--session is required", and a mistyped subcommand "A subcommand is required".
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace secagg::tool {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost 1 (a swap is the commonest typo: setpu).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a typo of it (or `word` is a
// prefix of it), else "". Ties go to the first candidate; leading dashes are not counted.
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

struct UnknownName {
  std::string message;  // "unknown option '--sesion'; did you mean '--session'?"
  std::string command;  // the (sub)command it was given to, for the help hint: "secagg-collect setup"
};

// The first option or subcommand in argv that `app` (or the subcommand argv selects) does not
// have, with the nearest one it does have. Values of options are skipped; "--" ends the scan.
std::optional<UnknownName> find_unknown_name(const CLI::App& app, int argc, const char* const* argv);

}  // namespace secagg::tool

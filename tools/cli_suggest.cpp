#include "cli_suggest.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace secagg::tool {

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[n][m];
}

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  // A third of the word's length, at least 1 and at most 3: "--sesion" -> "--session", but
  // "--out" is not taken for "--csv".
  // Leading dashes are compared but not counted, or "--frob" would pass for "--drop".
  auto bare = [](std::string_view s) { return s.substr(std::min(s.find_first_not_of('-'), s.size())); };
  word = bare(word);
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& full : candidates) {
    const std::string_view c = bare(full);
    size_t d = edit_distance(word, c);
    if (word.size() >= 3 && c.size() > word.size() && c.compare(0, word.size(), word) == 0) d = std::min<size_t>(d, 1);
    if (d < best_d) best = full, best_d = d;
  }
  return best;
}

namespace {

bool is_option_token(std::string_view t) {
  // "-" is stdin; "-1" and "-0.5" are values.
  return t.size() >= 2 && t[0] == '-' && (std::isalpha(static_cast<unsigned char>(t[1])) || t[1] == '-');
}

const CLI::Option* find_option(const CLI::App& app, const std::string& name) {
  for (const CLI::Option* o : app.get_options()) {
    if (name.size() > 2 && name[1] == '-') {
      for (const auto& l : o->get_lnames())
        if ("--" + l == name) return o;
    } else {
      for (const auto& s : o->get_snames())
        if ("-" + s == name) return o;
    }
  }
  return nullptr;
}

std::string command_path(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* p = app->get_parent(); p; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

std::vector<const CLI::App*> named_subcommands(const CLI::App& app) {
  std::vector<const CLI::App*> subs;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App* a) { return !a->get_name().empty(); })) subs.push_back(s);
  return subs;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
  return out;
}

UnknownName unknown_option(const CLI::App& app, const std::string& name) {
  std::vector<std::string> known;
  for (const CLI::Option* o : app.get_options()) {
    if (name[1] == '-')
      for (const auto& l : o->get_lnames()) known.push_back("--" + l);
    else
      for (const auto& s : o->get_snames()) known.push_back("-" + s);
  }
  const std::string where = command_path(&app);
  std::string msg = fmt::format("unknown option '{}'", name);
  // An option of a sibling or child subcommand, given to the wrong one.
  std::vector<std::string> owners;
  const CLI::App* top = &app;
  while (top->get_parent()) top = top->get_parent();
  for (const CLI::App* s : named_subcommands(*top))
    if (s != &app && find_option(*s, name)) owners.push_back(s->get_name());
  if (!owners.empty() && app.get_parent()) {
    msg = fmt::format("unknown option '{}' for '{}'; it is an option of {}", name, where, quoted_list(owners));
  } else if (!owners.empty()) {
    msg = fmt::format("unknown option '{}' before the subcommand; it is an option of {} (give it after the subcommand)",
                      name, quoted_list(owners));
  } else if (std::string near = nearest(name, known); !near.empty()) {
    msg += fmt::format("; did you mean '{}'?", near);
  }
  return {msg, where};
}

}  // namespace

std::optional<UnknownName> find_unknown_name(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* cur = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string tok = argv[i];
    if (tok == "--") break;
    if (is_option_token(tok)) {
      const bool is_long = tok[1] == '-';
      std::string name = is_long ? tok.substr(0, tok.find('=')) : tok.substr(0, 2);
      // Only the options of the (sub)command itself: CLI11 does not pass an option to the
      // command before it (--help and --version are on every subcommand too).
      const CLI::Option* opt = find_option(*cur, name);
      if (!opt) return unknown_option(*cur, name);
      // A value in the same token (--x=v, -ov) or none needed (a flag); else skip the next one.
      const bool attached = is_long ? tok.find('=') != std::string::npos : tok.size() > 2;
      if (!attached && opt->get_type_size_max() > 0 && opt->get_expected_min() > 0 && i + 1 < argc) ++i;
      continue;
    }
    const auto subs = named_subcommands(*cur);
    if (subs.empty()) continue;  // a positional argument
    const CLI::App* next = nullptr;
    for (const CLI::App* s : subs)
      if (s->check_name(tok)) next = s;
    if (next) {
      cur = next;
      continue;
    }
    // Not a subcommand: fine if this command takes positional arguments, else a typo.
    if (!cur->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty()) continue;
    std::vector<std::string> names;
    for (const CLI::App* s : subs) names.push_back(s->get_name());
    std::string msg = fmt::format("unknown subcommand '{}'", tok);
    if (std::string near = nearest(tok, names); !near.empty())
      msg += fmt::format("; did you mean '{}'?", near);
    else
      msg += fmt::format(" (one of: {})", quoted_list(names));
    return UnknownName{msg, command_path(cur)};
  }
  return std::nullopt;
}

}  // namespace secagg::tool

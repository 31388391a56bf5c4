// Strings quoted for where they are printed: a JSON string literal, a word of a shell command.
#pragma once
#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace secagg {

// A JSON string literal of s (UTF-8 text; '"', '\' and control characters are escaped).
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// s as one shell word, for a command printed to be copied: as it is when it holds only
// characters no shell treats specially, else in single quotes.
inline std::string shell_word(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || (ch != '\0' && std::strchr("/._-+:@", ch));
  });
  if (plain) return s;
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

}  // namespace secagg

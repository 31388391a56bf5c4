// Reading whitespace-separated text from untrusted files (decimal vectors, floats).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace secagg {

// A token from an untrusted file, safe to print on one terminal line: control and
// non-ASCII bytes as \xNN, at most 40 characters.
inline std::string printable(std::string_view word) {
  std::string out;
  for (char c : word.substr(0, 40)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  return word.size() > 40 ? out + "..." : out;
}

// Text from the network (a notice's reason, a log line naming a peer), made one line that cannot
// drive a terminal: control bytes become '?'; UTF-8 stays as it is.
inline std::string one_line(std::string text) {
  for (char& ch : text)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  return text;
}

// Calls f(token, line) for each whitespace-separated token, line counting from 1.
template <class F>
void for_each_token(std::span<const uint8_t> bytes, F&& f) {
  const char* p = reinterpret_cast<const char*>(bytes.data());
  const char* end = p + bytes.size();
  size_t line = 1;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (p < end) {
    if (space(*p)) {
      if (*p == '\n') ++line;
      ++p;
      continue;
    }
    const char* tok = p;
    while (p < end && !space(*p)) ++p;
    f(std::string_view(tok, static_cast<size_t>(p - tok)), line);
  }
}

}  // namespace secagg

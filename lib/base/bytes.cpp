#include "bytes.hpp"

#include "error.hpp"

namespace secagg {

std::string to_hex(std::span<const uint8_t> bytes) {
  // sodium_bin2hex writes lowercase digits and a terminating NUL, which lands on the string's own.
  std::string out(bytes.size() * 2, '\0');
  sodium_bin2hex(out.data(), out.size() + 1, bytes.data(), bytes.size());
  return out;
}

Bytes from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw Error(Exit::data, "hex string has an odd number of digits");
  if (hex.empty()) return {};
  Bytes out(hex.size() / 2);
  // No characters to ignore and no end pointer: sodium_hex2bin fails unless every character is a
  // hex digit.
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, nullptr, nullptr) != 0)
    throw Error(Exit::data, "hex string has a character that is not a hex digit");
  return out;
}

}  // namespace secagg

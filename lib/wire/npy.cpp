#include "npy.hpp"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "error.hpp"
#include "le.hpp"

namespace secagg::npy {
namespace {

constexpr uint8_t kNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// Text from an untrusted file, safe to print on one terminal line.
std::string printable(std::string_view s, size_t max = 40) {
  std::string out;
  for (char c : s.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f)
      out += fmt::format("\\x{:02x}", u);
    else
      out.push_back(c);
  }
  return s.size() > max ? out + "..." : out;
}

// The header dict, a Python literal restricted to what NumPy writes. Every loop is bounded
// by the header's length; nothing is evaluated.
class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& origin) : s_(s), origin_(origin) {}

  void parse(Header& h) {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<uint64_t>> shape;
    expect('{', "the header does not start with '{'");
    for (;;) {
      if (eat('}')) break;
      std::string key = string("a key");
      expect(':', fmt::format("expected ':' after key '{}'", printable(key)));
      if (key == "descr") {
        if (descr) fail("key 'descr' appears twice");
        skip_space();
        if (i_ < s_.size() && (s_[i_] == '[' || s_[i_] == '('))
          throw Error(Exit::data, fmt::format("{}: .npy dtype is a structured type; secagg-quantize reads float32 and "
                                              "float64 arrays ('<f4', '<f8', '>f4', '>f8')",
                                              origin_));
        descr = string("the value of 'descr'");
      } else if (key == "fortran_order") {
        if (fortran) fail("key 'fortran_order' appears twice");
        fortran = boolean();
      } else if (key == "shape") {
        if (shape) fail("key 'shape' appears twice");
        shape = tuple();
      } else {
        fail(fmt::format("unknown key '{}' (expected descr, fortran_order and shape)", printable(key)));
      }
      if (eat(',')) continue;
      expect('}', "expected ',' or '}' after a value");
      break;
    }
    // After the dict: padding only.
    skip_space();
    if (i_ != s_.size()) fail("unexpected text after the closing '}'");
    if (!descr) fail("key 'descr' is missing");
    if (!fortran) fail("key 'fortran_order' is missing");
    if (!shape) fail("key 'shape' is missing");

    if (*descr == "<f4" || *descr == ">f4")
      h.dtype = Dtype::f32;
    else if (*descr == "<f8" || *descr == ">f8")
      h.dtype = Dtype::f64;
    else
      throw Error(Exit::data, fmt::format("{}: .npy dtype '{}' is not supported: secagg-quantize reads float32 and "
                                          "float64 arrays ('<f4', '<f8', '>f4', '>f8')",
                                          origin_, printable(*descr)));
    h.big_endian = (*descr)[0] == '>';
    h.fortran_order = *fortran;
    h.shape = std::move(*shape);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(Exit::data, fmt::format("{}: malformed .npy header: {} (header offset {})", origin_, what, i_));
  }
  static bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
  void skip_space() {
    while (i_ < s_.size() && space(s_[i_])) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c, const std::string& what) {
    if (!eat(c)) fail(what);
  }
  bool word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    size_t end = i_ + w.size();
    if (end < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_')) return false;
    i_ = end;
    return true;
  }
  // A quoted string without escapes, at most 64 characters.
  std::string string(const char* what) {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail(fmt::format("expected {} as a quoted string", what));
    char quote = s_[i_++];
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != quote) {
      if (s_[i_] == '\\' || s_[i_] == '\n') fail("escapes and line breaks in strings are not supported");
      if (i_ - start >= 64) fail("string longer than 64 characters");
      ++i_;
    }
    if (i_ >= s_.size()) fail("unterminated string");
    std::string out(s_.substr(start, i_ - start));
    ++i_;
    return out;
  }
  bool boolean() {
    skip_space();
    if (word("True")) return true;
    if (word("False")) return false;
    fail("the value of 'fortran_order' is not True or False");
  }
  uint64_t integer() {
    skip_space();
    size_t start = i_;
    uint64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (i_ - start >= 18) fail("a dimension of the shape is too large");
      v = v * 10 + static_cast<uint64_t>(s_[i_] - '0');
      ++i_;
    }
    if (i_ == start) fail("expected a non-negative integer in the shape");
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 long, as old NumPy wrote it
    return v;
  }
  // (), (n,), (n, m), (n, m,) ...; a one-element tuple needs its comma, as in Python.
  std::vector<uint64_t> tuple() {
    expect('(', "the value of 'shape' is not a tuple");
    std::vector<uint64_t> dims;
    if (eat(')')) return dims;
    for (;;) {
      if (dims.size() == kMaxDims) fail(fmt::format("the shape has more than {} dimensions", kMaxDims));
      dims.push_back(integer());
      if (eat(',')) {
        if (eat(')')) return dims;
        continue;
      }
      if (dims.size() == 1) fail("a one-dimensional shape needs a trailing comma, as in (n,)");
      expect(')', "expected ',' or ')' in the shape");
      return dims;
    }
  }

  std::string_view s_;
  const std::string& origin_;
  size_t i_ = 0;
};

std::string shape_text(const std::vector<uint64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

bool looks_like_npy(std::span<const uint8_t> bytes) {
  return bytes.size() >= sizeof kNpyMagic && std::memcmp(bytes.data(), kNpyMagic, sizeof kNpyMagic) == 0;
}

Header parse_header(std::span<const uint8_t> bytes, const std::string& origin) {
  if (!looks_like_npy(bytes)) throw Error(Exit::data, origin + ": not a .npy file (no \\x93NUMPY magic)");
  if (bytes.size() < 10) throw Error(Exit::data, origin + ": .npy file truncated in its preamble");
  Header h;
  h.major = bytes[6];
  h.minor = bytes[7];
  if (h.major < 1 || h.major > 3 || h.minor != 0)
    throw Error(Exit::data, fmt::format("{}: .npy format version {}.{} is not supported (1.0, 2.0 and 3.0 are)", origin,
                                        h.major, h.minor));
  size_t len_bytes = h.major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_bytes) throw Error(Exit::data, origin + ": .npy file truncated in its preamble");
  uint64_t header_len = h.major == 1 ? le::get16(bytes.data() + 8) : le::get32(bytes.data() + 8);
  if (header_len > kMaxHeaderBytes)
    throw Error(Exit::data, fmt::format("{}: .npy header is {} bytes long, more than the {} accepted", origin,
                                        header_len, kMaxHeaderBytes));
  size_t start = 8 + len_bytes;
  if (bytes.size() - start < header_len)
    throw Error(Exit::data, fmt::format("{}: .npy file truncated in its header ({} of {} bytes)", origin,
                                        bytes.size() - start, header_len));
  std::string_view text(reinterpret_cast<const char*>(bytes.data() + start), static_cast<size_t>(header_len));
  HeaderParser(text, origin).parse(h);
  h.data_offset = start + static_cast<size_t>(header_len);

  size_t above_one = 0;
  bool empty = false;
  for (uint64_t d : h.shape) {
    if (d > 1) ++above_one;
    if (d == 0) empty = true;
  }
  if (h.fortran_order && above_one > 1)
    throw Error(Exit::data, fmt::format("{}: .npy array of shape {} is in Fortran order, which is not supported "
                                        "(save it with numpy.ascontiguousarray)",
                                        origin, shape_text(h.shape)));
  h.count = 1;
  if (empty) {
    h.count = 0;
  } else {
    for (uint64_t d : h.shape) {
      if (d > kMaxElements / h.count)
        throw Error(Exit::data, fmt::format("{}: .npy array of shape {} has more than 2^30 elements", origin,
                                            shape_text(h.shape)));
      h.count *= d;
    }
  }
  uint64_t want = h.count * item_size(h.dtype);
  uint64_t have = bytes.size() - h.data_offset;
  if (have != want)
    throw Error(Exit::data, fmt::format("{}: .npy data is {} bytes, the shape {} of {} needs {}{}", origin, have,
                                        shape_text(h.shape), h.dtype == Dtype::f32 ? "float32" : "float64", want,
                                        have < want ? " (truncated)" : ""));
  return h;
}

std::vector<double> read_floats(std::span<const uint8_t> bytes, const std::string& origin) {
  Header h = parse_header(bytes, origin);
  std::vector<double> out(static_cast<size_t>(h.count));
  const uint8_t* p = bytes.data() + h.data_offset;
  size_t w = item_size(h.dtype);
  uint8_t buf[8];
  for (size_t i = 0; i < out.size(); ++i, p += w) {
    const uint8_t* q = p;
    if (h.big_endian) {
      std::reverse_copy(p, p + w, buf);
      q = buf;
    }
    if (h.dtype == Dtype::f32)
      out[i] = static_cast<double>(std::bit_cast<float>(le::get32(q)));
    else
      out[i] = std::bit_cast<double>(le::get64(q));
  }
  return out;
}

Bytes write_floats(std::span<const double> v, Dtype dtype) { return write_floats(v, dtype, {v.size()}); }

namespace {

// The preamble and header of a version 1.0 file, with room reserved for its data.
Bytes preamble(Dtype dtype, const std::vector<uint64_t>& shape, size_t count) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 dtype == Dtype::f32 ? "<f4" : "<f8", shape_text(shape));
  // Magic (6), version (2), header length (2), then the dict, spaces and '\n' up to a multiple of 64.
  size_t total = 10 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict.push_back('\n');
  Bytes out(padded);
  std::memcpy(out.data(), kNpyMagic, sizeof kNpyMagic);
  out[6] = 1;  // version 1.0
  out[7] = 0;
  out[8] = static_cast<uint8_t>(dict.size() & 0xff);
  out[9] = static_cast<uint8_t>(dict.size() >> 8);
  std::memcpy(out.data() + 10, dict.data(), dict.size());
  out.reserve(padded + count * item_size(dtype));
  return out;
}

}  // namespace

Bytes write_floats(std::span<const float> v) {
  Bytes out = preamble(Dtype::f32, {v.size()}, v.size());
  size_t start = out.size();
  out.resize(start + 4 * v.size());
  uint8_t* p = out.data() + start;
  for (float x : v) {
    le::store32(p, std::bit_cast<uint32_t>(x));
    p += 4;
  }
  return out;
}

Bytes write_floats(std::span<const double> v, Dtype dtype, const std::vector<uint64_t>& shape) {
  Bytes out = preamble(dtype, shape, v.size());
  for (double x : v) {
    if (dtype == Dtype::f32)
      le::put32(out, std::bit_cast<uint32_t>(static_cast<float>(x)));
    else
      le::put64(out, std::bit_cast<uint64_t>(x));
  }
  return out;
}

}  // namespace secagg::npy

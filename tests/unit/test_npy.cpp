// lib/wire/npy: the .npy reader (versions 1.0, 2.0, 3.0; float32/float64, both byte orders, any
// shape, Fortran order only for effectively one-dimensional arrays), its strict header
// parser, and the version 1.0 writer. Files written by NumPy itself are checked in
// tests/cli/t0600-quantize.sh.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "error.hpp"
#include "floats.hpp"
#include "npy.hpp"

using namespace secagg;

namespace {

// A .npy file with this header dict (padded to a multiple of 64 bytes unless pad is false)
// and data.
Bytes make_npy(const std::string& dict, const Bytes& data, unsigned major = 1, bool pad = true) {
  std::string h = dict;
  size_t pre = major == 1 ? 10 : 12;
  if (pad) {
    size_t total = pre + h.size() + 1;
    h.append((total + 63) / 64 * 64 - total, ' ');
    h.push_back('\n');
  }
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  size_t n = h.size();
  out.push_back(static_cast<uint8_t>(n));
  out.push_back(static_cast<uint8_t>(n >> 8));
  if (major != 1) {
    out.push_back(static_cast<uint8_t>(n >> 16));
    out.push_back(static_cast<uint8_t>(n >> 24));
  }
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes f32_bytes(const std::vector<float>& v, bool big) {
  Bytes out;
  for (float f : v) {
    auto u = std::bit_cast<uint32_t>(f);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(u >> (8 * (big ? 3 - i : i))));
  }
  return out;
}

Bytes f64_bytes(const std::vector<double>& v, bool big) {
  Bytes out;
  for (double d : v) {
    auto u = std::bit_cast<uint64_t>(d);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(u >> (8 * (big ? 7 - i : i))));
  }
  return out;
}

std::string dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

Exit error_code(const Bytes& b) {
  try {
    npy::read_floats(b, "t.npy");
  } catch (const Error& e) {
    return e.code();
  }
  return Exit::ok;
}

std::string error_text(const Bytes& b) {
  try {
    npy::read_floats(b, "t.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("npy: float32 and float64, both byte orders, read back exactly") {
  std::vector<float> f = {0.5f, -1.25f, 3.0e-7f, 65504.0f, -0.0f, 1.0e30f};
  std::vector<double> d = {0.1, -2.5, 1e-300, 1e300, -0.0, 123456789.123456789};
  for (bool big : {false, true}) {
    CAPTURE(big);
    auto a = npy::read_floats(make_npy(dict(big ? ">f4" : "<f4", "(6,)"), f32_bytes(f, big)), "t.npy");
    REQUIRE(a.size() == f.size());
    for (size_t i = 0; i < f.size(); ++i) CHECK(a[i] == static_cast<double>(f[i]));
    CHECK(std::signbit(a[4]));
    auto b = npy::read_floats(make_npy(dict(big ? ">f8" : "<f8", "(6,)"), f64_bytes(d, big)), "t.npy");
    REQUIRE(b.size() == d.size());
    for (size_t i = 0; i < d.size(); ++i) CHECK(b[i] == d[i]);
  }
}

TEST_CASE("npy: versions 2.0 and 3.0, shapes, key order, spacing, Fortran order of 1-D arrays") {
  std::vector<double> d = {1, 2, 3, 4, 5, 6};
  auto data = f64_bytes(d, false);
  for (unsigned major : {1u, 2u, 3u}) {
    CAPTURE(major);
    CHECK(npy::read_floats(make_npy(dict("<f8", "(2, 3)"), data, major), "t.npy") == d);
  }
  // The shape of a C-order array is flattened, whatever it is.
  CHECK(npy::read_floats(make_npy(dict("<f8", "(1, 2, 1, 3)"), data), "t.npy") == d);
  CHECK(npy::read_floats(make_npy(dict("<f8", "(3,2)"), data), "t.npy") == d);
  CHECK(npy::read_floats(make_npy(dict("<f8", "(6,)"), data), "t.npy") == d);
  // A scalar: shape ().
  CHECK(npy::read_floats(make_npy(dict("<f8", "()"), f64_bytes({7.5}, false)), "t.npy") == std::vector<double>{7.5});
  // Zero elements.
  CHECK(npy::read_floats(make_npy(dict("<f8", "(0,)"), {}), "t.npy").empty());
  CHECK(npy::read_floats(make_npy(dict("<f8", "(3, 0, 1000000000000)"), {}), "t.npy").empty());
  // Keys in another order, double quotes, no trailing comma, no padding, Python 2 longs.
  CHECK(npy::read_floats(make_npy("{\"shape\": (6,), \"fortran_order\": False, \"descr\": \"<f8\"}", data), "t.npy") ==
        d);
  CHECK(npy::read_floats(make_npy("{'descr':'<f8','fortran_order':False,'shape':(6,)}", data, 1, false), "t.npy") ==
        d);
  CHECK(npy::read_floats(make_npy(dict("<f8", "(2L, 3L)"), data), "t.npy") == d);
  // Fortran order is the same layout when at most one dimension exceeds 1.
  CHECK(npy::read_floats(make_npy(dict("<f8", "(6,)", true), data), "t.npy") == d);
  CHECK(npy::read_floats(make_npy(dict("<f8", "(1, 6, 1)", true), data), "t.npy") == d);
  auto h = npy::parse_header(make_npy(dict(">f4", "(2, 3)"), f32_bytes({1, 2, 3, 4, 5, 6}, true), 3), "t.npy");
  CHECK(h.major == 3);
  CHECK(h.dtype == npy::Dtype::f32);
  CHECK(h.big_endian);
  CHECK(h.shape == std::vector<uint64_t>{2, 3});
  CHECK(h.count == 6);
  CHECK(h.data_offset == 128);
}

TEST_CASE("npy: unsupported dtypes, Fortran order and malformed headers are refused (exit 65)") {
  auto data8 = f64_bytes({1, 2, 3, 4, 5, 6}, false);
  struct Bad {
    Bytes file;
    const char* says;
  };
  std::vector<Bad> bad = {
      {make_npy(dict("<i4", "(6,)"), Bytes(24)), "dtype '<i4' is not supported"},
      {make_npy(dict("<f2", "(6,)"), Bytes(12)), "dtype '<f2' is not supported"},
      {make_npy(dict("|u1", "(6,)"), Bytes(6)), "not supported"},
      {make_npy(dict("=f8", "(6,)"), data8), "not supported"},
      {make_npy(dict("<c16", "(3,)"), data8), "not supported"},
      {make_npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (6,), }", data8), "structured"},
      {make_npy(dict("<f8", "(2, 3)", true), data8), "Fortran order"},
      {make_npy(dict("<f8", "(6)"), data8), "trailing comma"},
      {make_npy(dict("<f8", "6"), data8), "not a tuple"},
      {make_npy(dict("<f8", "(-6,)"), data8), "non-negative integer"},
      {make_npy(dict("<f8", "(6.0,)"), data8), "shape"},
      {make_npy(dict("<f8", "(1000000, 1000000, 1000000)"), data8), "more than 2^30"},
      {make_npy(dict("<f8", "(99999999999999999999,)"), data8), "too large"},
      {make_npy(dict("<f8", "(5,)"), data8), "needs 40"},
      {make_npy(dict("<f8", "(7,)"), data8), "truncated"},
      {make_npy("{'descr': '<f8', 'fortran_order': false, 'shape': (6,), }", data8), "True or False"},
      {make_npy("{'descr': '<f8', 'fortran_order': Falsey, 'shape': (6,), }", data8), "True or False"},
      {make_npy("{'descr': '<f8', 'shape': (6,), }", data8), "'fortran_order' is missing"},
      {make_npy("{'fortran_order': False, 'shape': (6,), }", data8), "'descr' is missing"},
      {make_npy("{'descr': '<f8', 'fortran_order': False, }", data8), "'shape' is missing"},
      {make_npy("{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", data8), "twice"},
      {make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), 'x': 1}", data8), "unknown key"},
      {make_npy("{'descr': '<f8' 'fortran_order': False, 'shape': (6,), }", data8), "expected ','"},
      {make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), } x", data8), "after the closing"},
      {make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), ", data8), "expected a key"},
      {make_npy("'descr': '<f8', 'fortran_order': False, 'shape': (6,)", data8), "start with '{'"},
      {make_npy("{'descr: '<f8', 'fortran_order': False, 'shape': (6,), }", data8), "expected ':'"},
      {make_npy("{'descr': '<f\\x38', 'fortran_order': False, 'shape': (6,), }", data8), "escapes"},
      {make_npy("{'descr': '<f8", data8, 1, false), "unterminated"},
      {make_npy("{descr: '<f8', 'fortran_order': False, 'shape': (6,), }", data8), "quoted string"},
  };
  for (const auto& b : bad) {
    CAPTURE(b.says);
    CHECK(error_code(b.file) == Exit::data);
    std::string msg = error_text(b.file);
    CHECK(msg.find(b.says) != std::string::npos);
    CHECK(msg.rfind("t.npy: ", 0) == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("npy: bad preambles, versions and bounds") {
  auto good = make_npy(dict("<f8", "(1,)"), f64_bytes({1}, false));
  CHECK(error_code(good) == Exit::ok);
  auto v = good;
  v[6] = 4;
  CHECK(error_text(v).find("version 4.0 is not supported") != std::string::npos);
  v = good;
  v[7] = 1;
  CHECK(error_code(v) == Exit::data);
  v = good;
  v[1] = 'n';
  CHECK(error_code(v) == Exit::data);
  // Truncated anywhere.
  for (size_t n = 0; n < good.size(); ++n) {
    CAPTURE(n);
    CHECK(error_code(Bytes(good.begin(), good.begin() + static_cast<long>(n))) == Exit::data);
  }
  // A trailing byte.
  v = good;
  v.push_back(0);
  CHECK(error_text(v).find("data is 9 bytes") != std::string::npos);
  // A header longer than the bound is refused before it is read.
  Bytes huge = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x01, 0x00, 0x01, 0x00};  // 65537 bytes
  CHECK(error_text(huge).find("header is 65537 bytes long") != std::string::npos);
  Bytes maxlen = {0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0xff, 0xff, 0xff, 0xff};
  CHECK(error_code(maxlen) == Exit::data);
  // Too many dimensions.
  std::string shape = "(";
  for (size_t i = 0; i <= npy::kMaxDims; ++i) shape += "1, ";
  shape += ")";
  CHECK(error_text(make_npy(dict("<f8", shape), f64_bytes({1}, false))).find("more than 64 dimensions") !=
        std::string::npos);
  // Control characters from the file do not reach the message.
  auto ctl = make_npy(dict("\x1b[31m", "(1,)"), f64_bytes({1}, false));
  std::string msg = error_text(ctl);
  CHECK(msg.find('\x1b') == std::string::npos);
  CHECK(msg.find("\\x1b[31m") != std::string::npos);
}

TEST_CASE("npy: random corruption of a header never crashes, only exit 65 or a valid parse") {
  auto good = make_npy(dict("<f4", "(2, 3)"), f32_bytes({1, 2, 3, 4, 5, 6}, false));
  std::mt19937_64 g(12345);
  for (int round = 0; round < 5000; ++round) {
    Bytes b = good;
    int edits = 1 + static_cast<int>(g() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = g() % 64;
      b[at] = static_cast<uint8_t>(g() % 4 == 0 ? g() : " ,:(){}'\"0123456789TrueFalse<>f48"[g() % 33]);
    }
    Exit c = error_code(b);
    CHECK((c == Exit::ok || c == Exit::data));
  }
}

TEST_CASE("npy: the writer makes a version 1.0 file NumPy reads, and it reads back") {
  std::vector<double> v = {0.1, -0.25, 1e-310, 3.0, -1e300};
  Bytes f8 = npy::write_floats(v, npy::Dtype::f64);
  // As numpy.save writes it: the same header, 128 bytes in all.
  std::string head(f8.begin() + 10, f8.begin() + 128);
  CHECK(std::string(f8.begin(), f8.begin() + 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(f8[8] + 256 * f8[9] == 118);
  CHECK(head.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }", 0) == 0);
  CHECK(head.back() == '\n');
  CHECK(f8.size() == 128 + 40);
  CHECK(npy::read_floats(f8, "w.npy") == v);

  Bytes f4 = npy::write_floats(v, npy::Dtype::f32);
  CHECK(std::string(f4.begin() + 10, f4.begin() + 26) == "{'descr': '<f4',");
  auto back = npy::read_floats(f4, "w.npy");
  REQUIRE(back.size() == 3 + 2);
  for (size_t i = 0; i < 3; ++i) CHECK(back[i] == static_cast<double>(static_cast<float>(v[i])));

  // Long shapes keep the data 64-byte aligned.
  for (size_t n : {0u, 1u, 9u, 1000000u}) {
    Bytes w = npy::write_floats(std::vector<double>(n, 1.5), npy::Dtype::f64);
    auto h = npy::parse_header(w, "w.npy");
    CHECK(h.data_offset % 64 == 0);
    CHECK(h.count == n);
  }
}

TEST_CASE("floats: text, raw and detection") {
  auto text = [](const std::string& s) {
    return read_floats(Bytes(s.begin(), s.end()), FloatInput::detect, "t.txt");
  };
  auto code = [](const Bytes& b, FloatInput f) {
    try {
      read_floats(b, f, "t");
    } catch (const Error& e) {
      return e.code();
    }
    return Exit::ok;
  };
  CHECK(text("0.5 -1\n+2e-3\t1E2\r\n  -0 ") == std::vector<double>{0.5, -1, 0.002, 100, -0.0});
  CHECK(text("").empty());
  auto nf = text("nan inf -inf");
  CHECK(std::isnan(nf[0]));
  CHECK(std::isinf(nf[1]));
  CHECK(nf[2] < 0);
  for (const char* s : {"1.5x", "abc", "1,5", "--1", "+-1", "+", "0x10", "1e999"}) {
    CAPTURE(s);
    std::string t = s;
    CHECK(code(Bytes(t.begin(), t.end()), FloatInput::detect) == Exit::data);
  }
  std::string t = "1\n2\nbad\n";
  try {
    read_floats(Bytes(t.begin(), t.end()), FloatInput::detect, "t.txt");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "t.txt: line 3: value 2 is 'bad', not a decimal number");
  }
  CHECK(read_floats(f32_bytes({1.5f, -2}, false), FloatInput::raw_f32, "r") == std::vector<double>{1.5, -2});
  CHECK(read_floats(f64_bytes({0.1, -2}, false), FloatInput::raw_f64, "r") == std::vector<double>{0.1, -2});
  CHECK(code(Bytes(7), FloatInput::raw_f32) == Exit::data);
  CHECK(code(Bytes(12), FloatInput::raw_f64) == Exit::data);
  auto npyfile = make_npy(dict("<f8", "(1,)"), f64_bytes({1}, false));
  CHECK(read_floats(npyfile, FloatInput::detect, "n") == std::vector<double>{1});
  CHECK(code(npyfile, FloatInput::raw_f64) == Exit::data);
  Bytes msg = {'S', 'A', 'G', 'G', 1, 0};
  msg.resize(80);
  CHECK(code(msg, FloatInput::detect) == Exit::data);

  std::vector<double> v = {0.1, -2.5, 1.0 / 3};
  auto out = write_floats(v, FloatOutput::text, npy::Dtype::f64);
  CHECK(std::string(out.begin(), out.end()) == "0.1\n-2.5\n0.3333333333333333\n");
  out = write_floats(v, FloatOutput::text, npy::Dtype::f32);
  CHECK(std::string(out.begin(), out.end()) == "0.1\n-2.5\n0.33333334\n");
  CHECK(write_floats(v, FloatOutput::raw, npy::Dtype::f64) == f64_bytes(v, false));
  CHECK(write_floats(v, FloatOutput::raw, npy::Dtype::f32) == f32_bytes({0.1f, -2.5f, 1.0f / 3}, false));
  CHECK_THROWS_AS(write_floats(std::vector<double>{1e300}, FloatOutput::npy, npy::Dtype::f32), Error);
}

// validate_params on every field, the per-type body bounds, and the header-first message reader
// (issue 9, items 6 and 7).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "error.hpp"
#include "fileio.hpp"
#include "message_file.hpp"
#include "messages.hpp"
#include "params.hpp"
#include "small_params.hpp"

using namespace secagg;

namespace {

Params good() { return test::small_params(); }

Exit code_of(const Params& p) {
  try {
    validate_params(p);
    return Exit::ok;
  } catch (const Error& e) {
    return e.code();
  }
}

std::string temp_path(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/secagg-unit-" + std::to_string(getpid()) + "-" + name;
}

Exit read_code(const std::string& path, std::string* message = nullptr) {
  try {
    read_message_file(path);
    return Exit::ok;
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.code();
  }
}

}  // namespace

TEST_CASE("validate_params refuses every bad field") {
  CHECK(code_of(good()) == Exit::ok);
  auto bad = [](auto change) {
    Params p = good();
    change(p);
    return code_of(p);
  };
  CHECK(bad([](Params& p) { p.threshold = 0; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.threshold = 1; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.threshold = 1, p.insecure_threshold = 1; }) == Exit::ok);
  CHECK(bad([](Params& p) { p.insecure_threshold = 2; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.clients = UINT32_MAX; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.length = uint64_t{1} << 40; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.neighbours = 0; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.prg = 7; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.modulus = 1; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.quant_bits = 8, p.clip = NAN, p.max_weight = 1, p.length = 5; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.quant_bits = 8, p.clip = 1, p.max_weight = 0, p.length = 5; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.quant_bits = 40, p.clip = 1, p.max_weight = 1, p.length = 5; }) == Exit::usage);
  CHECK(bad([](Params& p) { p.clip = 1; }) == Exit::usage);
  // The largest valid session: its bounds fit in 64 bits with room to spare.
  Params big = good();
  big.clients = kMaxClients;
  big.neighbours = kMaxClients - 1;
  big.threshold = kMaxClients / 2 + 1;
  big.length = kMaxLength;
  big.modulus = kMaxModulus;
  CHECK(code_of(big) == Exit::ok);
  CHECK(max_body_bytes(MsgType::vector, big) <= max_body_bytes(MsgType::vector));
  CHECK(max_body_bytes(MsgType::client_state) < kMaxBodyBytes);
}

TEST_CASE("check_params_file names the file, exit 65") {
  Params p = good();
  p.threshold = 0;
  try {
    check_params_file(p, "S/params.msg");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::data);
    CHECK(std::string(e.what()).rfind("S/params.msg: invalid session parameters: ", 0) == 0);
  }
}

TEST_CASE("a client refuses a low threshold it did not agree to") {
  Params p = good();
  p.threshold = 2;
  p.insecure_threshold = 1;
  CHECK_THROWS_AS(accept_threshold(p, false, "p.msg"), Error);
  CHECK(accept_threshold(p, true, "p.msg").find("p.msg: threshold 2") == 0);
  CHECK(accept_threshold(good(), false, "p.msg").empty());
}

TEST_CASE("read_message_file reads the header first") {
  SessionId sid{};
  Bytes msg = encode(MsgType::params, sid, kServerId, kServerId, good());
  const std::string ok = temp_path("ok.msg");
  write_file_atomic(ok, msg);
  CHECK(read_message_file(ok) == msg);

  std::string why;
  // A header announcing more than a params body can hold, in a file of that size.
  Bytes huge = msg;
  huge.resize(kHeaderBytes);
  huge[32] = 0, huge[33] = 0, huge[34] = 0, huge[35] = 1;  // 2^24 bytes
  const std::string big = temp_path("big.msg");
  write_file_atomic(big, huge);
  REQUIRE(truncate(big.c_str(), static_cast<off_t>(kHeaderBytes + (1 << 24) + kChecksumBytes)) == 0);
  CHECK(read_code(big, &why) == Exit::data);
  CHECK(why.find("body length 16777216 is more than a params message can have") != std::string::npos);

  // Trailing bytes are refused from the file's size, before the body is read.
  Bytes longer = msg;
  longer.push_back('x');
  write_file_atomic(big, longer);
  CHECK(read_code(big, &why) == Exit::data);
  CHECK(why.find("1 unexpected bytes") != std::string::npos);

  // Not a regular file.
  CHECK(read_code("/dev/zero", &why) == Exit::data);
  CHECK(why.find("not a regular file") != std::string::npos);
  const std::string fifo = temp_path("fifo");
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK(read_code(fifo, &why) == Exit::data);
  std::remove(fifo.c_str());
  std::remove(ok.c_str());
  std::remove(big.c_str());
}

TEST_CASE("read_file is bounded") {
  const std::string f = temp_path("bounded");
  write_file_atomic(f, std::string_view("1 2 3 4\n"));
  CHECK(read_file(f, 8).size() == 8);
  CHECK_THROWS_AS(read_file(f, 7), Error);
  CHECK_THROWS_AS(read_file("/dev/zero", 1000), Error);
  std::remove(f.c_str());
}

TEST_CASE("read_message_file within limits: the session, the expected type and a reader's cap") {
  SessionId sid{};
  const Params p = good();
  // A vector header announcing 3 GiB, in a sparse file of exactly that size: every limit below
  // refuses it from the header (the bound by type alone would allow it).
  Bytes head = encode(MsgType::params, sid, kServerId, kServerId, p);
  head.resize(kHeaderBytes);
  head[6] = static_cast<uint8_t>(MsgType::vector);
  const uint64_t body = uint64_t{3} << 30;
  for (int i = 0; i < 8; ++i) head[32 + i] = static_cast<uint8_t>(body >> (8 * i));
  const std::string big = temp_path("big3.msg");
  write_file_atomic(big, head);
  REQUIRE(truncate(big.c_str(), static_cast<off_t>(kHeaderBytes + body + kChecksumBytes)) == 0);
  REQUIRE(body <= max_body_bytes(MsgType::vector));
  auto refusal = [&](const MessageLimits& lim) {
    try {
      read_message_file(big, lim);
    } catch (const Error& e) {
      CHECK(e.code() == Exit::data);
      return std::string(e.what());
    }
    return std::string("read");
  };
  MessageLimits session;
  session.params = &p;
  CHECK(refusal(session).find("body length 3221225472 is more than a vector message can have here") != std::string::npos);
  MessageLimits typed;
  typed.type = MsgType::inbox;
  CHECK(refusal(typed) == big + ": is a vector message from the server, expected a round 1 (inbox) message");
  MessageLimits capped;
  capped.max_body = 1 << 20;
  capped.over_cap = "raise the cap";
  CHECK(refusal(capped).find("(1048576 bytes); raise the cap") != std::string::npos);
  std::remove(big.c_str());
  // The right type within the session's bounds reads as before.
  Bytes msg = encode(MsgType::params, sid, kServerId, kServerId, p);
  const std::string ok = temp_path("ok2.msg");
  write_file_atomic(ok, msg);
  MessageLimits all;
  all.params = &p;
  all.type = MsgType::params;
  all.max_body = 1 << 20;
  CHECK(read_message_file(ok, all) == msg);
  std::remove(ok.c_str());
}

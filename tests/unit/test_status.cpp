// secagg-collect status's library (status.hpp): it reads a session directory without its lock, so
// a step that holds the lock (a collection, or serve saving a message) never keeps it waiting; a
// session that has not begun is round 0 pending, and a directory that is not there is named. The
// id runs it prints are cut after a few with a count. tests/cli/t0965-status.sh walks whole
// sessions.
#include <doctest/doctest.h>

#include <string>

#include "error.hpp"
#include "id_ranges.hpp"
#include "server.hpp"
#include "small_params.hpp"
#include "status.hpp"
#include "temp_dir.hpp"

using namespace secagg;

TEST_CASE("id runs, whole and cut after a few") {
  CHECK(format_ranges(ranges_of({})).empty());
  CHECK(format_ranges(ranges_of({1, 2, 3, 5, 7, 8})) == "1-3, 5, 7-8");
  CHECK(format_ranges(ranges_of({1, 2, 3, 5, 7, 8, 10}), 2) == "1-3, 5, ... (+2 runs, 3 ids)");
  CHECK(format_ranges(ranges_of({4}), 1) == "4");
}

TEST_CASE("status reads a session while a step holds the directory's lock, and writes nothing") {
  test::TempDir d("status");
  const SessionDir s(d.path);
  const Params p = test::small_params();
  s.begin(Marker::params).finish(encode(MsgType::params, new_session_id(), kServerId, kServerId, p));
  const SessionDir::Writer w = s.begin(Marker::roster);  // round 0 being collected: the lock is held
  const SessionStatus st = session_status(s);
  CHECK(st.pending == Round::r0);
  REQUIRE(st.rounds.size() == 4);
  CHECK(st.rounds[0].expected == std::vector<uint32_t>{1, 2, 3, 4, 5});
  CHECK_FALSE(st.rounds[0].done);
  CHECK(st.rounds[1].expected.empty());
  REQUIRE(st.margin);
  CHECK(st.margin->left == 2);
  CHECK_FALSE(st.margin->tightest);
  CHECK(st.aggregate.empty());
  CHECK(st.next == "secagg-collect keys --session " + d.path + " FILE...");
  CHECK(status_text(st).find("round 0     pending  advertise-keys messages from clients 1-5\n") != std::string::npos);
  CHECK_FALSE(s.has(Marker::roster));
}

TEST_CASE("status names a directory that is not there, and one without params.msg") {
  test::TempDir d("status");
  for (const std::string& dir : {d.path + "/none", d.path}) {
    CAPTURE(dir);
    try {
      session_status(SessionDir(dir));
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.code() == Exit::noinput);
      CHECK(std::string(e.what()).find(dir == d.path ? dir + "/params.msg: missing" : dir + ": no such session directory") ==
            0);
    }
  }
}

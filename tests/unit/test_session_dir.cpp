// The session directory's one owner (issue 10, item 2): a step's marker is created once. A
// marker that appears between a Writer's check and its write (made by a run that does not take
// the lock) refuses the write in the words of a step done already, and leaves that marker as it
// is; while a Writer is open the directory is locked, so a second Writer of the step waits and
// is then refused. tests/cli/t0315-concurrent-collect.sh races the real tool.
#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "error.hpp"
#include "fileio.hpp"
#include "session_dir.hpp"
#include "temp_dir.hpp"

using namespace secagg;

namespace {

const Bytes kOurs{1, 2, 3}, kTheirs{9, 9};

std::string refusal(const SessionDir& s, Marker m) {
  const char* round = m == Marker::roster ? "round 0" : m == Marker::u2 ? "round 1" : m == Marker::survivors ? "round 2"
                                                                                                            : "round 4";
  if (m == Marker::params)
    return s.path(m) + ": already exists: this session was set up already (use a new --session directory for a new "
                       "session)";
  return s.path(m) + ": already exists: " + round + " of this session was collected already (each round is collected "
                     "once)";
}

// Whether another open file description can take the directory's lock now.
bool lock_is_free(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  const int e = errno;
  ::close(fd);
  if (!free) CHECK(e == EWOULDBLOCK);
  return free;
}

}  // namespace

TEST_CASE("a marker made between the check and the write: the write is refused as a step done already") {
  for (Marker m : {Marker::params, Marker::roster, Marker::u2, Marker::survivors, Marker::aggregate}) {
    CAPTURE(SessionDir::name(m));
    test::TempDir d("sdir");
    SessionDir s(d.path);
    const SessionDir::Writer w = s.begin(m);  // the check passes: no marker yet
    write_file_atomic(s.path(m), kTheirs);    // another run, not taking the lock, made it meanwhile
    try {
      w.finish(kOurs);
      FAIL("the second marker was written");
    } catch (const Error& e) {
      CHECK(e.code() == Exit::cantcreat);
      CHECK(std::string(e.what()) == refusal(s, m));
    }
    CHECK(read_file(s.path(m)) == kTheirs);
    // No temporary of the refused write is left behind.
    size_t files = 0;
    for (const auto& f : std::filesystem::directory_iterator(d.path)) files += f.is_regular_file();
    CHECK(files == 1);
  }
}

TEST_CASE("a step is written in order under the directory's lock; a second Writer of it waits, then is refused") {
  test::TempDir d("sdir");
  SessionDir s(d.path);
  CHECK(lock_is_free(d.path));
  std::optional<SessionDir::Writer> w;
  w.emplace(s.begin(Marker::survivors));
  CHECK_FALSE(lock_is_free(d.path));
  // Started while the first holds the lock, the second can only check once the first is done,
  // and then finds its marker: it writes nothing.
  std::string second;
  std::thread t([&] {
    try {
      s.begin(Marker::survivors).masked_sum(kTheirs);
      second = "not refused";
    } catch (const Error& e) {
      second = e.code() == Exit::cantcreat ? e.what() : "wrong exit code";
    }
  });
  w->message(1, kOurs);
  w->masked_sum(kOurs);
  CHECK_FALSE(s.has(Marker::survivors));
  w->finish(kOurs);
  CHECK(s.has(Marker::survivors));
  w.reset();  // lets go of the lock
  t.join();
  CHECK(second == refusal(s, Marker::survivors));
  CHECK(lock_is_free(d.path));
  CHECK(read_file(s.masked_path(1)) == kOurs);
  CHECK(read_file(s.masked_sum_path()) == kOurs);
  CHECK(read_file(s.path(Marker::survivors)) == kOurs);
}

TEST_CASE("a Writer writes client messages only for a round whose transcript keeps them") {
  test::TempDir d("sdir");
  SessionDir s(d.path);
  const SessionDir::Writer w = s.begin(Marker::u2);
  try {
    w.message(1, kOurs);
    FAIL("round 1's step wrote a client message");
  } catch (const Error& e) {
    CHECK(e.code() == Exit::software);
  }
  CHECK_FALSE(path_exists(s.masked_path(1)));
  CHECK_FALSE(path_exists(s.unmask_path(1)));
}

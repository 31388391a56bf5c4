// What a client's state file still holds after each round (forward secrecy).
#include <doctest/doctest.h>

#include <algorithm>

#include "client.hpp"
#include "error.hpp"
#include "params.hpp"
#include "server_session.hpp"
#include "state_lock.hpp"

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

using namespace secagg;

namespace {
bool zero(const Secret32& s) { return std::all_of(s.b.begin(), s.b.end(), [](uint8_t b) { return b == 0; }); }

template <class F>
void expect_error(Exit code, F&& f, std::initializer_list<std::string_view> words) {
  try {
    f();
    FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK_MESSAGE(e.code() == code, m);
    for (auto w : words) CHECK_MESSAGE(m.find(w) != std::string::npos, "'" << w << "' not in: " << m);
  }
}

bool same_state(const ClientState& a, const ClientState& b) {
  return encode(MsgType::client_state, a.session, a.id, a.id, a) ==
         encode(MsgType::client_state, b.session, b.id, b.id, b);
}

// Four clients (t = 3) through every round, each step's state kept.
struct Walk {
  Params p;
  SessionId sid = new_session_id();
  Roster roster;
  Envelope roster_env, surv;
  std::vector<Envelope> inbox;
  std::vector<ClientState> adv, shared, masked, unmasked;
  std::vector<uint64_t> x;
  Walk() {
    p.clients = 4;
    p.threshold = 3;
    p.neighbours = 3;
    p.modulus = 1 << 20;
    p.length = 6;
    validate_params(p);
    std::vector<Incoming> in;
    for (uint32_t id = 1; id <= 4; ++id) {
      adv.push_back(client_keygen(p, sid, id));
      in.push_back({"adv", open_envelope(client_advertise(adv.back()), "adv")});
    }
    roster = collect_keys(p, sid, in);
    roster_env = open_envelope(encode(MsgType::roster, sid, kServerId, kServerId, roster), "roster");
    in.clear();
    shared = adv;
    for (auto& c : shared) in.push_back({"shares", open_envelope(client_share(c, roster_env, "roster"), "shares")});
    ShareRound r1 = collect_shares(p, sid, roster, in);
    x.assign(p.length, 5);
    masked = shared;
    in.clear();
    for (auto& c : masked) {
      inbox.push_back(open_envelope(encode(MsgType::inbox, sid, kServerId, c.id, r1.inboxes.at(c.id)), "inbox"));
      in.push_back({"masked", open_envelope(client_mask(c, inbox.back(), "inbox", x, 1), "masked")});
    }
    MaskedRound r2 = collect_masked(p, sid, roster, r1.u2, in);
    surv = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{r2.u3}), "survivors");
    unmasked = masked;
    for (auto& c : unmasked) client_unmask(c, surv, "survivors");
  }
};
}  // namespace

TEST_CASE("a client's state drops each secret once no later round needs it") {
  Params p;
  p.clients = 4;
  p.threshold = 3;
  p.neighbours = 3;
  p.modulus = 1 << 20;
  p.length = 5;
  validate_params(p);
  SessionId sid = new_session_id();
  std::vector<ClientState> st;
  std::vector<Incoming> in;
  for (uint32_t id = 1; id <= 4; ++id) {
    st.push_back(client_keygen(p, sid, id));
    in.push_back({"adv", open_envelope(client_advertise(st.back()), "adv")});
  }
  Roster roster = collect_keys(p, sid, in);
  Envelope roster_env = open_envelope(encode(MsgType::roster, sid, kServerId, kServerId, roster), "roster");
  in.clear();
  for (auto& c : st) in.push_back({"shares", open_envelope(client_share(c, roster_env, "roster"), "shares")});
  CHECK_FALSE(zero(st[0].s_sk));
  CHECK_FALSE(zero(st[0].b_seed));
  CHECK(st[0].mask_seeds.size() == 4);
  ShareRound r1 = collect_shares(p, sid, roster, in);
  std::vector<uint64_t> x(p.length, 7);
  in.clear();
  for (auto& c : st) {
    Envelope inbox = open_envelope(encode(MsgType::inbox, sid, kServerId, c.id, r1.inboxes.at(c.id)), "inbox");
    in.push_back({"masked", open_envelope(client_mask(c, inbox, "inbox", x, 1), "masked")});
  }
  for (auto& c : st) {
    CHECK(zero(c.c_sk));
    CHECK(zero(c.s_sk));
    CHECK(zero(c.b_seed));
    CHECK(c.mask_seeds.empty());
    CHECK(c.share_keys.empty());
    CHECK(c.held.size() == 4);  // still to be revealed
  }
  MaskedRound r2 = collect_masked(p, sid, roster, r1.u2, in);
  Envelope surv = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{r2.u3}), "survivors");
  in.clear();
  for (auto& c : st) in.push_back({"unmask", open_envelope(client_unmask(c, surv, "survivors"), "unmask")});
  for (auto& c : st) CHECK(c.held.empty());
  // The answered state gives the same answer again, and refuses any other survivor set.
  {
    ClientState c = st[0];
    CHECK(client_unmask(c, surv, "survivors") == st[0].sent);
    Envelope other = open_envelope(encode(MsgType::survivors, sid, kServerId, kServerId, IdList{{1, 2, 3}}), "other");
    CHECK_THROWS_AS(client_unmask(c, other, "other"), Error);
  }
  Recovered rec = recover_secrets(p, sid, roster, r1.u2, r2.u3, in);
  remove_masks(p, sid, roster, r2.u3, rec, r2.sum.data(), 0, p.length, 1);
  CHECK(r2.sum == std::vector<uint64_t>(p.length, 28));
}

TEST_CASE("each client step run again with the same inputs gives the same bytes; other inputs are refused") {
  Walk w;
  SUBCASE("keygen") {
    ClientState c = w.adv[0];
    CHECK(client_readvertise(c, w.p, w.sid, 1, "c1") == client_advertise(c));
    expect_error(Exit::cantcreat, [&] { client_readvertise(c, w.p, w.sid, 2, "c1"); }, {"c1: already exists"});
    expect_error(Exit::cantcreat, [&] { client_readvertise(c, w.p, new_session_id(), 1, "c1"); }, {"another session"});
    Params q = w.p;
    q.length += 1;
    expect_error(Exit::cantcreat, [&] { client_readvertise(c, q, w.sid, 1, "c1"); }, {"another session"});
    expect_error(Exit::aborted, [&] { client_readvertise(w.shared[0], w.p, w.sid, 1, "c1"); },
                 {"client 1 has already sent its shares (round 1)"});
  }
  SUBCASE("share") {
    ClientState c = w.shared[0];
    CHECK(client_share(c, w.roster_env, "roster") == w.shared[0].sent);
    CHECK(same_state(c, w.shared[0]));
    Roster fewer = w.roster;
    fewer.clients.pop_back();
    Envelope other = open_envelope(encode(MsgType::roster, w.sid, kServerId, kServerId, fewer), "r2");
    expect_error(Exit::aborted, [&] { client_share(c, other, "r2"); }, {"r2: ", "client 1", "different roster"});
    CHECK(same_state(c, w.shared[0]));
  }
  SUBCASE("mask") {
    ClientState c = w.masked[0];
    CHECK(client_mask(c, w.inbox[0], "inbox", w.x, 1) == w.masked[0].sent);
    CHECK(same_state(c, w.masked[0]));
    std::vector<uint64_t> y = w.x;
    y[3] += 1;
    expect_error(Exit::aborted, [&] { client_mask(c, w.inbox[0], "inbox", y, 1); },
                 {"client 1 already sent a masked input for a different input vector", "reveal their difference"});
    CHECK(same_state(c, w.masked[0]));
    // Another inbox (here: fewer senders) is refused too.
    SealedShares fewer = decode_body<SealedShares>(w.inbox[0], "inbox");
    fewer.shares.pop_back();
    Envelope other = open_envelope(encode(MsgType::inbox, w.sid, kServerId, 1, fewer), "i2");
    expect_error(Exit::aborted, [&] { client_mask(c, other, "i2", w.x, 1); }, {"different inbox"});
    CHECK(same_state(c, w.masked[0]));
  }
  SUBCASE("unmask") {
    ClientState c = w.unmasked[0];
    CHECK(client_unmask(c, w.surv, "survivors") == w.unmasked[0].sent);
    CHECK(same_state(c, w.unmasked[0]));
    CHECK(c.input == Digest32{});  // the input's digest is dropped once round 4 is answered
    Envelope other = open_envelope(encode(MsgType::survivors, w.sid, kServerId, kServerId, IdList{{1, 2, 3}}), "u");
    expect_error(Exit::aborted, [&] { client_unmask(c, other, "u"); },
                 {"already answered an unmasking request", "different survivor set"});
    CHECK(same_state(c, w.unmasked[0]));
  }
}

TEST_CASE("a step run before its turn says which step is missing") {
  Walk w;
  ClientState c = w.shared[0];
  expect_error(Exit::aborted, [&] { client_unmask(c, w.surv, "survivors"); },
               {"client 1 has not sent its masked input yet (round 2): run secagg-mask first"});
  c = w.adv[0];
  expect_error(Exit::aborted, [&] { client_mask(c, w.inbox[0], "inbox", w.x, 1); },
               {"client 1 has not sent its shares yet (round 1): run secagg-share first"});
  c = w.unmasked[0];
  expect_error(Exit::aborted, [&] { client_mask(c, w.inbox[0], "inbox", w.x, 1); },
               {"client 1 has already answered the unmasking request (round 4); it cannot mask an input now"});
}

namespace {
struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    char t[] = "/tmp/secagg-lock-XXXXXX";
    dir = mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string file(const char* name) const { return (dir / name).string(); }
};
void put(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }
}  // namespace

TEST_CASE("the state lock: one holder, kept across a commit, and re-checked against the path") {
  TempDir t;
  const std::string path = t.file("c1");
  put(path, "one");
  StateLock a = StateLock::acquire(path);
  CHECK(text(a.read()) == "one");
  expect_error(Exit::tempfail, [&] { StateLock::acquire(path); },
               {"c1: another secagg step is using this client state (locked)"});
  // A commit replaces the inode; the new one is locked before it appears under the path.
  const std::string b2 = "two";
  a.commit(std::span(reinterpret_cast<const uint8_t*>(b2.data()), b2.size()));
  CHECK(text(a.read()) == "two");
  expect_error(Exit::tempfail, [&] { StateLock::acquire(path); }, {"locked"});
  a.release();
  StateLock b = StateLock::acquire(path);
  CHECK(text(b.read()) == "two");
  b.release();
  // No leftover temporaries.
  CHECK(std::distance(std::filesystem::directory_iterator(t.dir), std::filesystem::directory_iterator{}) == 1);
}

TEST_CASE("the state lock: a file replaced between open and lock is not taken for the state") {
  TempDir t;
  const std::string path = t.file("c1");
  put(path, "old");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  // Another step commits (rename over the path) after this one opened the file.
  put(t.file("new"), "new");
  std::filesystem::rename(t.file("new"), path);
  CHECK(lock_opened(fd, path) == LockOutcome::replaced);
  ::close(fd);
  // acquire opens again and gets the file the path names now.
  StateLock l = StateLock::acquire(path);
  CHECK(text(l.read()) == "new");
  // And a file opened while another holds its lock is busy.
  int fd2 = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  CHECK(lock_opened(fd2, path) == LockOutcome::busy);
  ::close(fd2);
}

TEST_CASE("the state lock: create refuses an existing file, and a missing one may be allowed") {
  TempDir t;
  const std::string path = t.file("c1");
  StateLock none = StateLock::acquire(path, true);
  CHECK_FALSE(none.held());
  expect_error(Exit::noinput, [&] { StateLock::acquire(path); }, {"c1: cannot open"});
  const std::string b = "state";
  auto made = StateLock::create(path, std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
  REQUIRE(made);
  CHECK(made->held());
  CHECK(std::filesystem::status(path).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  expect_error(Exit::tempfail, [&] { StateLock::acquire(path); }, {"locked"});
  CHECK_FALSE(StateLock::create(path, std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size())));
  made->release();
  CHECK(text(StateLock::acquire(path).read()) == "state");
}

TEST_CASE("the state lock: a state reached through a symbolic link is replaced where it lives") {
  TempDir t;
  const std::string real = t.file("real1"), link = t.file("link1");
  put(real, "one");
  std::filesystem::create_symlink("real1", link);
  StateLock a = StateLock::acquire(link);
  CHECK(a.resolved() == std::filesystem::canonical(real).string());
  const std::string b2 = "two";
  a.commit(std::span(reinterpret_cast<const uint8_t*>(b2.data()), b2.size()));
  a.release();
  CHECK(std::filesystem::is_symlink(link));
  CHECK(text(StateLock::acquire(real).read()) == "two");
  // The lock is on the one file, whichever name reaches it.
  StateLock held = StateLock::acquire(real);
  expect_error(Exit::tempfail, [&] { StateLock::acquire(link); }, {"link1: another secagg step"});
}

TEST_CASE("the state lock: a state with a second hard link is refused") {
  TempDir t;
  const std::string path = t.file("c1");
  put(path, "one");
  std::filesystem::create_hard_link(path, t.file("c1-copy"));
  expect_error(Exit::data, [&] { StateLock::acquire(path); }, {"c1: the client state has 2 names (hard links)"});
  expect_error(Exit::data, [&] { StateLock::acquire(t.file("c1-copy")); }, {"2 names"});
  std::filesystem::remove(t.file("c1-copy"));
  CHECK(text(StateLock::acquire(path).read()) == "one");
}

TEST_CASE("the state lock: stale temporaries go, live ones and other files stay") {
  TempDir t;
  const std::string path = t.file("c1");
  put(path, "state");
  put(t.file(".c1.tmp-0000000000000001"), "stale");
  put(t.file(".c1.tmp-0000000000000002"), "live");
  put(t.file(".c1.tmp-short"), "other");
  put(t.file(".c2.tmp-0000000000000003"), "other state");
  int live = ::open(t.file(".c1.tmp-0000000000000002").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(live >= 0);
  const int locked = ::flock(live, LOCK_EX | LOCK_NB);
  REQUIRE(locked == 0);
  StateLock l = StateLock::acquire(path);
  CHECK_FALSE(std::filesystem::exists(t.file(".c1.tmp-0000000000000001")));
  CHECK(std::filesystem::exists(t.file(".c1.tmp-0000000000000002")));
  CHECK(std::filesystem::exists(t.file(".c1.tmp-short")));
  CHECK(std::filesystem::exists(t.file(".c2.tmp-0000000000000003")));
  ::close(live);
  CHECK(remove_stale_temporaries(l.resolved()) == 1);
  CHECK_FALSE(std::filesystem::exists(t.file(".c1.tmp-0000000000000002")));
}

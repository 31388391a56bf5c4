// One client step at a time per state file. Two concurrent steps on one state could send two
// different masked inputs (revealing their difference) or two unmasking answers (revealing
// both shares of a client), so every step holds an exclusive lock on the state file from
// reading it to committing the next one, and a second step is refused at once (Exit::tempfail)
// rather than queued: man/secagg-keygen.1, "Running the step again; the state lock".
//
// The lock is flock(2) on the open file. A commit replaces the file by rename, so the lock is
// on an inode, not a name: after locking, the path must still name the locked inode (else
// another step committed in between, and the file is opened again), and a commit locks the new
// inode before it appears under the path, so the lock is never let go in between.
//
// One state, one name. The path is resolved once (realpath(3)): the re-check and the commit's
// rename use the resolved path, so a state reached through a symbolic link is replaced where it
// lives, not by replacing the link (which would leave the target at the earlier stage, for a
// second run through its own name to repeat the step with another input). A state file with
// more than one hard link is refused (Exit::data) for the same reason: a commit under one name
// leaves the others naming the old state. man/secagg-keygen.1, "Running the step again; the state
// lock".
//
// A step killed during a commit leaves its temporary (".NAME.tmp-" and 16 hex digits, 0600,
// holding the new state's secrets) next to the state. Whoever next takes the lock removes the
// temporaries of that state whose writer is gone: a live writer holds a flock on its temporary
// from its creation, so a temporary that can be locked is stale.
#pragma once
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bytes.hpp"

namespace secagg {

class StateLock {
 public:
  StateLock() = default;
  StateLock(StateLock&& o) noexcept;
  StateLock& operator=(StateLock&& o) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock() { release(); }

  // Opens and locks path. Exit::tempfail if another step holds it, Exit::noinput if it is
  // missing or unreadable (with missing_ok, a missing file gives an empty lock instead), and
  // Exit::data if it is not a regular file or has more than one hard link. Once locked, removes
  // the state's stale temporaries (above).
  static StateLock acquire(const std::string& path, bool missing_ok = false);
  // Creates path holding bytes (0600), locked, refusing to replace anything: nullopt if the
  // path exists (another step made it first).
  static std::optional<StateLock> create(const std::string& path, std::span<const uint8_t> bytes);

  bool held() const { return !fds_.empty(); }
  const std::string& path() const { return path_; }
  // The path the lock re-checks and commits replace: path() with every symbolic link resolved.
  const std::string& resolved() const { return resolved_; }
  // The locked file's contents.
  Bytes read() const;
  // Replaces the file atomically with bytes (0600, synced), keeping the lock throughout.
  void commit(std::span<const uint8_t> bytes);
  // Lets go of the lock (other steps may then use the state).
  void release() noexcept;

 private:
  std::string path_;      // as given: names the state in messages
  std::string resolved_;  // realpath of path_: what is locked, re-checked and replaced
  std::vector<int> fds_;  // the locked inodes: the one read, then each one committed
};

// What locking an opened file found (exposed for the unit test of the replaced case).
enum class LockOutcome { locked, busy, replaced };
// flock(LOCK_EX | LOCK_NB) on fd, then check that path, not following a final symbolic link
// (lstat), still names fd's inode (device and inode number). On busy or replaced the lock is
// not held.
LockOutcome lock_opened(int fd, const std::string& path);
// Makes SIGINT and SIGTERM remove the temporary a commit is writing before the process dies of
// the signal (the client tools call it before taking the lock; a signal already ignored stays
// ignored).
void remove_temporary_on_signals();
// Removes the stale temporaries of the state at resolved (a resolved path whose lock the caller
// holds on held_fd, or -1); returns how many.
size_t remove_stale_temporaries(const std::string& resolved, int held_fd = -1);

}  // namespace secagg
